// npm run size: each browser file's size, minified and minified + gzip (level 9), in bytes and KiB.
import { gzipSync } from 'node:zlib';
import { basename } from 'node:path';
import { build } from 'esbuild';
import { browserBundles } from './bundle.mjs';

const kib = (n) => (n / 1024).toFixed(1);
for (const { options, path, budgetKiB } of browserBundles) {
  const bytes = (await build(options)).outputFiles[0].contents;
  const gzip = gzipSync(bytes, { level: 9 }).length;
  console.log(`${basename(path)}: ${bytes.length} bytes minified (${kib(bytes.length)} KiB), ${gzip} bytes minified + gzip (${kib(gzip)} KiB; budget ${budgetKiB} KiB)`);
}
