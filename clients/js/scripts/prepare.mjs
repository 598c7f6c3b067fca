// npm's `prepare`: builds dist/ (the ES modules, the SharedWorker script and the type declarations), so that
// `npm install ./clients/js`, a git dependency and `npm pack` all give an importable package with
// no manual build step. (The browser bundle in wwwroot is `npm run build`'s: an install must not
// write into the server's sources.)
//
// npm runs `prepare` in the package's own folder, but installs its devDependencies only when that
// folder is the project being installed: `npm install ./clients/js` from another project runs it in
// a fresh checkout without esbuild or TypeScript. Then they are installed here first, from the
// lock file, with scripts off (or this very script would run again).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageBuilds, root, workerOptions, workerPackagePath } from './bundle.mjs';

const require = createRequire(resolve(root, 'package.json'));

function resolvable(name) {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: childEnvironment() });
  if (result.status !== 0) {
    console.error(`herald-realtime prepare: '${command} ${args.join(' ')}' failed (${result.error?.message ?? `exit ${result.status}`}).`);
    process.exit(1);
  }
}

/**
 * The outer install's settings travel as npm_config_* variables: `-g`, `--omit=dev` or
 * `--production` there must not turn this folder's tool install into a global or dev-less one.
 */
function childEnvironment() {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^npm_config_(global|location|omit|include|production|only|also|dev|save.*|prefix|workspaces?|install_links)$/i.test(name)) delete env[name];
  }
  return env;
}

if (!resolvable('esbuild') || !resolvable('typescript')) {
  console.error('herald-realtime prepare: installing the build tools (esbuild, typescript) from package-lock.json');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  run(npm, ['ci', '--ignore-scripts', '--include=dev', '--no-audit', '--no-fund', '--loglevel=error']);
}

rmSync(resolve(root, 'dist'), { recursive: true, force: true });
const { build } = await import(pathToFileURL(require.resolve('esbuild')).href);
for (const options of packageBuilds) await build(options);
mkdirSync(dirname(workerPackagePath), { recursive: true });
writeFileSync(workerPackagePath, (await build(workerOptions)).outputFiles[0].contents);
run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json']);
