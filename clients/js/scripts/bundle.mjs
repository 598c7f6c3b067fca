// The esbuild settings of every output, shared by `npm run build`, `npm run size`, `prepare` and
// the test that checks the committed browser bundles against a fresh build.
import { readFileSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
const wwwroot = resolve(root, '../../src/Herald.Server/wwwroot/js');

/** The committed browser bundle the demo pages load as /js/herald-client.js. */
export const browserBundlePath = resolve(wwwroot, 'herald-client.js');

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

const banner = (what) => ({ js: `// herald-realtime ${version} (${what}): built from clients/js by \`npm run build\`; do not edit.` });

/**
 * The shared entry (src/shared) is an add-on to the main one: it imports the core only through
 * '../index.js', which becomes an import of the main module (`target`), so a page or an app that
 * uses both has one copy of Herald, Subscription and HeraldError — `instanceof` holds across them.
 * Any other import of the core from src/shared fails the build (it would be a second copy).
 */
function coreThroughIndex(target) {
  const shared = resolve(root, 'src/shared') + sep;
  return {
    name: 'core-through-index',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (!args.importer.startsWith(shared)) return undefined;
        const path = resolve(dirname(args.importer), args.path);
        if (path === resolve(root, 'src/index.js')) return { path: target, external: true };
        // The emitter has no identity a caller could test: its copy costs 300 bytes, nothing else.
        if (path.startsWith(shared) || path === resolve(root, 'src/emitter.js')) return undefined;
        return { errors: [{ text: `${args.importer} imports ${args.path}: shared code reaches the core only through '../index.js'` }] };
      });
    },
  };
}

/** dist/index.js: the npm package's module, readable. */
/** @type {import('esbuild').BuildOptions} */
export const packageOptions = { ...common, outfile: resolve(root, 'dist/index.js') };

/** dist/shared.js: `herald-realtime/shared`, importing ./index.js. */
/** @type {import('esbuild').BuildOptions} */
export const sharedPackageOptions = {
  ...common,
  entryPoints: [resolve(root, 'src/shared/index.ts')],
  outfile: resolve(root, 'dist/shared.js'),
  plugins: [coreThroughIndex('./index.js')],
};

/**
 * The SharedWorker script: self-contained and classic (an IIFE: module workers came to Firefox
 * only in 2023), minified. The same bytes are dist/herald-worker.js (`herald-realtime/worker`) and
 * the server's /js/herald-worker.js.
 */
/** @type {import('esbuild').BuildOptions & { write: false }} */
export const workerOptions = {
  ...common,
  entryPoints: [resolve(root, 'src/shared/worker.ts')],
  format: 'iife',
  minify: true,
  write: false,
  outfile: resolve(wwwroot, 'herald-worker.js'),
  banner: banner('the SharedWorker of SharedHerald'),
};

/** The minified browser module; `write: false` so callers decide where the bytes go. */
/** @type {import('esbuild').BuildOptions & { write: false }} */
export const browserOptions = {
  ...common,
  minify: true,
  write: false,
  outfile: browserBundlePath,
  banner: banner('the Herald client'),
};

/** /js/herald-shared.js: SharedHerald and everything of /js/herald-client.js, which it imports. */
/** @type {import('esbuild').BuildOptions & { write: false }} */
export const browserSharedOptions = {
  ...sharedPackageOptions,
  minify: true,
  write: false,
  outfile: resolve(wwwroot, 'herald-shared.js'),
  plugins: [coreThroughIndex('./herald-client.js')],
  banner: banner('SharedHerald: one connection for all tabs'),
};

/**
 * The committed browser files, each with its options and its gzip budget (the test holds them to it).
 * herald-client.js went from 12 to 14 KiB with presence, typing, signals and direct channels (about
 * 2.4 KiB): a chat needs them on every transport, and a separate entry would save them only for
 * pages that do not, at the price of a second import and a subclass of Herald. It went to 17 KiB
 * (the worker, which holds a client, to 19) with read markers, unread counts and summary
 * subscriptions (about 3 KiB, two thirds of it the unread tracker), for the same reason: a chat's
 * room list needs its badges. It went to 18 KiB with the action helpers and the latest view (about
 * 1.2 KiB, the client's fold, LatestView, nearly all of it): a chat with edits and reactions folds
 * every room it shows. It went to 19 KiB (the worker to 21: it was 40 bytes short of 19 already,
 * and came to 20.2) with receipts (about 1.3 KiB: the receipt tracker's merge, the delivered
 * marker coalesced per channel, the polls' reads of receipts), for the same reason: a direct
 * message shows "Delivered" and "Seen" on every transport.
 */
export const browserBundles = [
  { options: browserOptions, path: browserBundlePath, budgetKiB: 19 },
  { options: browserSharedOptions, path: resolve(wwwroot, 'herald-shared.js'), budgetKiB: 8 },
  { options: workerOptions, path: resolve(wwwroot, 'herald-worker.js'), budgetKiB: 21 },
];

/** Everything `prepare` and `build` write into dist/ (the worker's bytes are written by the caller). */
export const packageBuilds = [packageOptions, sharedPackageOptions];
export const workerPackagePath = resolve(root, 'dist/herald-worker.js');
