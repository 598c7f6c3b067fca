// The package as a user installs it, for real, with npm: from a fresh checkout of this folder
// (no node_modules, no dist) with `npm install ./clients/js`, and as the tarball `npm pack` makes.
// Both must import, and type-check, with no manual build step.

import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root } from '../../scripts/bundle.mjs';

const NAME = 'herald-realtime';
// npm installs, builds and packs here; generous for a busy 2-core machine, and a hang still fails.
const NPM_TIMEOUT_MS = 240_000;

let work: string;
let checkout: string;

/**
 * Runs a command to completion; fails with its output. Asynchronously: a synchronous spawn would
 * block this worker for a whole npm install, and vitest's worker calls time out meanwhile.
 */
function run(command: string, args: readonly string[], cwd: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const env = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), NPM_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise(out);
      else reject(new Error(`'${command} ${args.join(' ')}' in ${cwd} failed (${signal ?? `exit ${code}`}):\n${out}\n${err}`));
    });
  });
}

/** TypeScript that uses the public API, checked against the installed declarations. */
const CONSUMER = `import { Herald, HeraldError, directChannel, type ChannelSummary, type HeraldOptions, type PresenceEvent, type Publication, type ReceiptsEvent, type UnreadCount } from '${NAME}';
import { SharedHerald } from '${NAME}/shared';
const options: HeraldOptions = { transports: ['sse', 'longpoll'], awaitSubscriptionsMs: 5000 };
const herald = new Herald('http://127.0.0.1:9', options);
const lobby = herald.subscribe<{ text: string }>('chat:lobby');
lobby.on('publication', (m: Publication<{ text: string }>) => console.log(m.data.text.toUpperCase()));
export const ready: Promise<{ recovered: boolean }> = lobby.ready;
export const failure: HeraldError = new HeraldError('network', 'x');
const room = herald.subscribe(directChannel(['bob', 'alice']), { presence: 'list' });
room.on('presence', (e: PresenceEvent) => console.log(e.members.map((m) => m.user), e.users));
room.on('typing', ({ users, total }) => console.log(users.join(), total));
export const online: string[] = room.presence?.members.map((m) => m.user) ?? [];
export const shared = new SharedHerald('http://127.0.0.1:9', { share: { mode: 'none', name: 'alice' } });
export const role: 'worker' | 'leader' | 'follower' | 'alone' = shared.role;
const counts = herald.unreadTracker({ user: 'alice' });
counts.on('change', (c: UnreadCount) => console.log(c.channel, c.unread, c.mentions.length));
export const side: Promise<ChannelSummary> = herald.subscribeSummary('chat:side').ready;
export const marked: Promise<number> = herald.markRead('chat:lobby', { offset: 3 }).then((r) => r.state.unread);
const dm = herald.subscribe(directChannel(['alice', 'carol']), { receipts: true });
dm.on('receipts', (e: ReceiptsEvent) => console.log(e.changed, e.members['carol']?.seen?.offset));
export const seen: string[] = herald.receipts.seenBy('dm:alice~carol', 3, 'E');
export const privately: Promise<boolean> = herald.markRead('dm:alice~carol', { private: true }).then((r) => r.changed);
export const delivered: Promise<number | undefined> = herald.markDelivered('dm:alice~carol', { offset: 3 }).then((r) => r.delivered?.offset);
`;

/** A new project that depends on `spec` the way a user adds it, with TypeScript code using it. */
async function project(name: string, spec: string): Promise<string> {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${name}`, private: true, type: 'module' }));
  writeFileSync(join(dir, 'consumer.ts'), CONSUMER);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022', 'dom'], types: [], strict: true, noEmit: true },
    files: ['consumer.ts'],
  }));
  await run('npm', ['install', '--no-audit', '--no-fund', spec], dir);
  return dir;
}

/** What a consumer sees: the exports at run time, and whether its TypeScript code type-checks. */
async function consume(dir: string): Promise<{ exports: string[]; state: string; shared: string; worker: boolean }> {
  const out = await run(process.execPath, ['--input-type=module', '-e', `
    import { existsSync } from 'node:fs';
    import { fileURLToPath } from 'node:url';
    const m = await import('${NAME}');
    const s = await import('${NAME}/shared');
    const herald = new m.Herald('http://127.0.0.1:9');
    // One copy of the core: the shared entry re-exports the main module's very classes.
    const shared = s.HeraldError === m.HeraldError && s.Herald === m.Herald ? typeof s.SharedHerald : 'a second copy';
    const worker = existsSync(fileURLToPath(import.meta.resolve('${NAME}/worker')));
    console.log(JSON.stringify({ exports: Object.keys(m).sort(), state: herald.state, shared, worker }));
    herald.close();`], dir);
  await run(process.execPath, [join(checkout, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], dir);
  return JSON.parse(out) as { exports: string[]; state: string; shared: string; worker: boolean };
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'herald-install-'));
  // A fresh checkout: the folder's sources, without what npm ci or a build left here.
  checkout = join(work, 'clients-js');
  cpSync(root, checkout, {
    recursive: true,
    filter: (source) => !['node_modules', 'dist'].includes(basename(source)) && !source.endsWith('.tgz'),
  });
});

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe(`npm install of ${NAME}`, () => {
  it('from the folder (npm install ./clients/js) builds it on install and imports', async () => {
    expect(existsSync(join(checkout, 'dist'))).toBe(false);
    // As the README says it: a relative folder path (here ../clients-js).
    const dir = await project('from-folder', `./${relative(join(work, 'from-folder'), checkout)}`);
    const installed = JSON.parse(readFileSync(join(dir, 'node_modules', NAME, 'package.json'), 'utf8')) as { name: string };
    expect(installed.name).toBe(NAME);
    const seen = await consume(dir);
    expect(seen.exports).toEqual(['ALL_TRANSPORTS', 'DEFAULT_TRANSPORTS', 'Herald', 'HeraldError', 'LatestView', 'PresenceList', 'ReceiptTracker', 'Subscription', 'SummarySubscription', 'UnreadTracker', 'directChannel']);
    expect(seen.state).toBe('disconnected');
    expect(seen.shared).toBe('function');
    expect(seen.worker).toBe(true);
  }, NPM_TIMEOUT_MS * 2);

  it('from the tarball of npm pack, which holds dist and the README only, and imports', async () => {
    const packed = JSON.parse(await run('npm', ['pack', '--json', '--pack-destination', work], checkout)) as { filename: string; files: { path: string }[] }[];
    const files = packed[0]?.files.map((f) => f.path).sort() ?? [];
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toEqual(expect.arrayContaining(['dist/shared.js', 'dist/shared/index.d.ts', 'dist/herald-worker.js']));
    expect(files.filter((f) => !f.startsWith('dist/'))).toEqual(['README.md', 'package.json']);
    const dir = await project('from-tarball', join(work, packed[0]?.filename ?? 'missing.tgz'));
    const seen = await consume(dir);
    expect(seen.exports).toContain('Herald');
    expect(seen.state).toBe('disconnected');
    expect(seen.shared).toBe('function');
  }, NPM_TIMEOUT_MS * 2);
});
