// npm run build: dist/ (modules, the worker script, type declarations) and the minified browser
// files that src/Herald.Server/wwwroot/js holds: herald-client.js, herald-shared.js, herald-worker.js.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { build } from 'esbuild';
import { browserBundles, packageBuilds, workerOptions, workerPackagePath } from './bundle.mjs';

for (const options of packageBuilds) await build(options);
mkdirSync(dirname(workerPackagePath), { recursive: true });
writeFileSync(workerPackagePath, (await build(workerOptions)).outputFiles[0].contents);
for (const { options, path } of browserBundles) {
  const bytes = (await build(options)).outputFiles[0].contents;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  console.log(`wrote ${basename(path)} (${bytes.length} bytes)`);
}
console.log('wrote dist/index.js, dist/shared.js and dist/herald-worker.js');
