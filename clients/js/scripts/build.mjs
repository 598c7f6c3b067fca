// npm run build: dist/ (module + type declarations) and the minified browser bundle that
// src/Herald.Server/wwwroot/js/herald-client.js holds.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { build } from 'esbuild';
import { browserBundlePath, browserOptions, packageOptions } from './bundle.mjs';

await build(packageOptions);
const browser = await build(browserOptions);
mkdirSync(dirname(browserBundlePath), { recursive: true });
writeFileSync(browserBundlePath, browser.outputFiles[0].contents);
console.log(`wrote dist/index.js and ${browserBundlePath} (${browser.outputFiles[0].contents.length} bytes)`);
