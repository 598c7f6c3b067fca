// The esbuild settings of both outputs, shared by `npm run build`, `npm run size` and the test
// that checks the committed browser bundle against a fresh build.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));

/** The committed browser bundle the demo pages load as /js/herald-client.js. */
export const browserBundlePath = resolve(root, '../../src/Herald.Server/wwwroot/js/herald-client.js');

/** @type {import('esbuild').BuildOptions} */
const common = {
  entryPoints: [resolve(root, 'src/index.ts')],
  bundle: true,
  format: 'esm',
  // Browsers of 2020 on (Chrome 80, Firefox 80, Safari 14) and Node 20.
  target: ['es2020'],
  platform: 'neutral',
  legalComments: 'none',
  logLevel: 'warning',
};

/** dist/index.js: the npm package's module, readable. */
/** @type {import('esbuild').BuildOptions} */
export const packageOptions = { ...common, outfile: resolve(root, 'dist/index.js') };

/** The minified browser module; `write: false` so callers decide where the bytes go. */
/** @type {import('esbuild').BuildOptions & { write: false }} */
export const browserOptions = {
  ...common,
  minify: true,
  write: false,
  outfile: browserBundlePath,
  banner: { js: `// herald-realtime ${version} (the Herald client): built from clients/js by \`npm run build\`; do not edit.` },
};
