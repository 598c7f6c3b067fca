// A real `herald serve` process for the integration tests: the Release build of the server,
// started on 127.0.0.1 with an ephemeral port, killable with SIGKILL and restartable on the same
// port and data directory.

import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const API_KEY = 'test-api-key-0123456789abcdef';

/** The HMAC secret the tests that sign users in start their server with (`--Herald:Auth:HmacSecret`). */
export const SECRET = 'a-test-hmac-secret-of-at-least-32-bytes!';

/** A user token (HS256, ten minutes) for `sub`, signed with `secret`. */
export function jwt(sub: string, secret = SECRET): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub, exp: Math.floor(Date.now() / 1000) + 600 })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

const repositoryRoot = resolve(import.meta.dirname, '../../../..');
const dll = join(repositoryRoot, 'src/Herald.Server/bin/Release/net10.0/herald.dll');

export interface ServerOptions {
  /** `memory` (the default here) or `sqlite`. */
  readonly store?: 'memory' | 'sqlite';
  /** More `--Section:Key=value` arguments. */
  readonly args?: readonly string[];
}

export class HeraldServer {
  private process: ChildProcess | null = null;
  private output = '';
  port = 0;

  private constructor(
    readonly dataDirectory: string,
    private readonly options: ServerOptions,
  ) {}

  static async start(options: ServerOptions = {}): Promise<HeraldServer> {
    if (!existsSync(dll)) {
      throw new Error(`${dll} is missing: build the server first (dotnet build src/Herald.Server -c Release).`);
    }
    const server = new HeraldServer(mkdtempSync(join(tmpdir(), 'herald-js-')), options);
    await server.launch();
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** SIGKILL, as a crash: no shutdown code runs. */
  async kill(): Promise<void> {
    const child = this.process;
    this.process = null;
    if (child === null || child.exitCode !== null) return;
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.kill('SIGKILL');
    await within(exited, 30_000, 'herald did not exit after SIGKILL');
  }

  /** Starts again on the same port and data directory. */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.dataDirectory, { recursive: true, force: true });
  }

  /** Publishes with the server API key, as an application server would. */
  async publish(channel: string, data: unknown): Promise<number> {
    const response = await fetch(`${this.url}/v1/channels/${channel}/messages`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ data }),
      signal: AbortSignal.timeout(15_000),
    });
    if (response.status !== 201) throw new Error(`publish answered ${response.status}: ${await response.text()}`);
    return ((await response.json()) as { offset: number }).offset;
  }

  private async launch(): Promise<void> {
    const args = [
      dll, 'serve',
      '--urls', `http://127.0.0.1:${this.port}`,
      '--data', this.dataDirectory,
      '--store', this.options.store ?? 'memory',
      `--Herald:ApiKeys:0=${API_KEY}`,
      '--Herald:Namespaces:chat:Publish=Anyone',
      '--Herald:Namespaces:chat:Subscribe=Anyone',
      '--Logging:LogLevel:Default=Warning',
      '--Logging:LogLevel:Herald=Information',
      ...(this.options.args ?? []),
    ];
    const child = spawn('dotnet', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DOTNET_NOLOGO: '1' } });
    this.process = child;
    this.output = '';
    const listening = new Promise<number>((resolveListening, reject) => {
      const onData = (chunk: Buffer) => {
        this.output += chunk.toString();
        const match = /Herald listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(this.output);
        if (match !== null) resolveListening(Number(match[1]));
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => reject(new Error(`herald exited (${code}) before listening:\n${this.output}`)));
    });
    try {
      this.port = await within(listening, 90_000, `herald did not start:\n${this.output}`);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }
}

/** Rejects with `message` when `promise` takes longer than `ms`. */
export function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (after ${ms} ms)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Waits until `condition()` holds, checking every 20 ms; fails with `message` after `ms`. */
export async function until(condition: () => boolean, ms: number, message: string | (() => string)): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${typeof message === 'string' ? message : message()} (after ${ms} ms)`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
