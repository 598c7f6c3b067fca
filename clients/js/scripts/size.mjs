// npm run size: the browser bundle's size, minified and minified + gzip (level 9), in bytes and KiB.
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { browserOptions } from './bundle.mjs';

const bytes = (await build(browserOptions)).outputFiles[0].contents;
const gzip = gzipSync(bytes, { level: 9 }).length;
const kib = (n) => (n / 1024).toFixed(1);
console.log(`herald-realtime browser bundle: ${bytes.length} bytes minified (${kib(bytes.length)} KiB), ${gzip} bytes minified + gzip (${kib(gzip)} KiB)`);
