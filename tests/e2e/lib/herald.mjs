// A real `herald serve`: the Release build ./test.sh makes, started as the README's `dotnet run`
// starts it (in the Development environment, so the same appsettings), on 127.0.0.1 with an
// ephemeral port, a temporary data directory and the SQLite store.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const serverProject = join(root, 'src/Herald.Server');
export const heraldDll = join(serverProject, 'bin/Release/net10.0/herald.dll');

// 60 s: a cold start of the .NET host on a busy 2-core machine takes a few seconds; a hang fails here.
const START_TIMEOUT_MS = 60_000;
const LISTENING = /Herald listening on (https?:\/\/127\.0\.0\.1:(\d+))/;

/** The environment `dotnet run` gives the server: its Debug build serves in Development (ServeCommand.DefaultEnvironment). */
const DOTNET_RUN_ENVIRONMENT = { DOTNET_ENVIRONMENT: 'Development' };

export class HeraldServer {
  /** @param {{dataDir?: string, port?: number, args?: string[], tls?: {cert: string, key: string}}} options TLS: serve https (HTTP/1.1 and HTTP/2) with these PEM files. */
  constructor(options = {}) {
    this.ownsDataDir = options.dataDir === undefined;
    this.dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'herald-e2e-'));
    // The working directory is a fresh one too: the pages must not depend on where serve runs.
    this.workDir = mkdtempSync(join(tmpdir(), 'herald-e2e-cwd-'));
    this.port = options.port ?? 0;
    this.args = options.args ?? [];
    this.tls = options.tls ?? null;
    this.process = null;
    this.output = '';
  }

  get baseUrl() {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  get apiKey() {
    return readFileSync(join(this.dataDir, 'api-key'), 'utf8').trim();
  }

  /** Starts the server (again, on the same port and data directory after the first start). */
  async start() {
    if (!existsSync(heraldDll)) {
      throw new Error(`${heraldDll} is missing: build first (dotnet build Herald.slnx -c Release, as ./test.sh does).`);
    }
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      try {
        await this.#startOnce(deadline);
        return this;
      } catch (error) {
        // A port just released by a killed server can take a moment to be bindable again.
        if (this.port === 0 || !/address already in use/i.test(String(error.message)) || Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  #startOnce(deadline) {
    const tls = this.tls ? ['--tls-cert', this.tls.cert, '--tls-key', this.tls.key] : [];
    const child = spawn('dotnet', [heraldDll, 'serve', '--urls', `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`, '--data', this.dataDir, '--store', 'sqlite', ...tls, ...this.args], {
      cwd: this.workDir,
      env: { ...process.env, ...DOTNET_RUN_ENVIRONMENT, DOTNET_NOLOGO: '1', DOTNET_CLI_TELEMETRY_OPTOUT: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process = child;
    this.output = '';
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`herald did not start within ${START_TIMEOUT_MS / 1000} s:\n${this.output}`));
      }, Math.max(1, deadline - Date.now()));
      const onData = (chunk) => {
        this.output += chunk;
        const match = LISTENING.exec(this.output);
        if (match) {
          clearTimeout(timer);
          this.port = Number(match[2]);
          resolvePromise();
        }
      };
      child.stdout.setEncoding('utf8').on('data', onData);
      child.stderr.setEncoding('utf8').on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`herald exited (${code ?? signal}) before listening:\n${this.output}`));
      });
    });
  }

  /** SIGKILL: no shutdown code runs, exactly like a crash. */
  async kill() {
    await this.#stop('SIGKILL');
  }

  async stop() {
    await this.#stop('SIGTERM');
  }

  async #stop(signal) {
    const child = this.process;
    this.process = null;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    // The timer is cleared once herald exits: left pending, it kept each test file's process alive
    // for its 30 s after the last test (three minutes of the suite's five).
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`herald did not exit after ${signal}`)), 30_000);
    });
    try {
      await Promise.race([exited, timeout]);
    } catch (error) {
      child.kill('SIGKILL');
      await exited;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops the server and removes what it made. */
  async dispose() {
    await this.stop().catch(() => this.kill());
    rmSync(this.workDir, { recursive: true, force: true });
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Publishes through the HTTP API with the server's API key, as an application server would. */
  async publish(channel, data, idempotencyKey) {
    const response = await fetch(`${this.baseUrl}/v1/channels/${channel}/messages`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${this.apiKey}`,
        'Content-Type': 'application/json',
        ...(idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {}),
      },
      body: JSON.stringify({ data, type: 'message' }),
      signal: AbortSignal.timeout(30_000),
    });
    if (response.status !== 201 && response.status !== 200) {
      throw new Error(`publish to ${channel} answered ${response.status}: ${await response.text()}`);
    }
    return response.json();
  }

  async stats() {
    const response = await fetch(`${this.baseUrl}/v1/stats`, { headers: { Authorization: `Bearer ${this.apiKey}` }, signal: AbortSignal.timeout(30_000) });
    if (!response.ok) throw new Error(`/v1/stats answered ${response.status}`);
    return response.json();
  }
}

/** Polls `probe` until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function eventually(probe, what, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
