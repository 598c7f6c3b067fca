// The quick-start example of README.md, as written there, against a real server on every
// transport, many times: it must always print its own first message. Before subscriptions could be
// awaited (and before publish waited for them) the publish overtook the subscription and the
// example printed nothing most of the time (over WebSocket: `hello` in 1 run of 8).

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { transform } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Herald, type HeraldOptions, type TransportName } from '../../src/index.js';
import { HeraldServer, until, within } from './herald-server.js';
import { FAST, freshChannel } from './recorder.js';

const TRANSPORTS: readonly TransportName[] = ['ws', 'sse', 'stream', 'longpoll', 'poll'];
// Each run is a new client racing its own subscription. Before the fix, 12 runs per variant lost
// the message over WebSocket in almost every run, and over SSE, long and short polling in some.
const RUNS = 20;

let server: HeraldServer;

beforeAll(async () => {
  server = await HeraldServer.start();
});

afterAll(async () => {
  await server?.dispose();
});

/** The README's first TypeScript block after "## Quick start", without its import line. */
function readmeExample(): string {
  const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error('README.md has no ts block under "## Quick start"');
  return block.replace(/^import .*$/m, '');
}

type Example = (herald: typeof Herald, console: { log: (...args: unknown[]) => void }, fetchMyJwt: () => undefined) => Promise<void>;

/** Compiles the example into a function of what it uses: `Herald`, `console`, `fetchMyJwt`. */
async function compile(source: string): Promise<Example> {
  const { code } = await transform(source, { loader: 'ts', target: 'es2022' });
  const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => Example;
  return new AsyncFunction('Herald', 'console', 'fetchMyJwt', code);
}

/** `Herald` as the example sees it: the test's server, channel and transport behind the README's names. */
function heraldFor(channel: string, transport: TransportName, clients: Herald[]): typeof Herald {
  return class extends Herald {
    constructor(_url: string, options: HeraldOptions = {}) {
      super(server.url, { ...FAST, ...options, transports: [transport] });
      clients.push(this);
    }
    override subscribe<T>(name: string, ...rest: Parameters<Herald['subscribe']>[1][]) {
      return super.subscribe<T>(name === 'chat:lobby' ? channel : name, ...rest);
    }
    override publish(name: string, ...rest: Parameters<Herald['publish']> extends [string, ...infer R] ? R : never) {
      return super.publish(name === 'chat:lobby' ? channel : name, ...rest);
    }
  } as typeof Herald;
}

async function runExample(example: Example, transport: TransportName): Promise<string> {
  const channel = freshChannel();
  const clients: Herald[] = [];
  const printed: string[] = [];
  try {
    await within(example(heraldFor(channel, transport, clients), { log: (...args) => printed.push(args.map(String).join(' ')) }, () => undefined), 30_000, 'the example did not finish');
    // Then a marker from the server once the subscription is live: it arrives after the example's
    // own message, if that one was delivered at all — so a lost message fails without a timeout.
    const subscription = clients[0]?.getSubscription(channel);
    await until(() => subscription?.position !== null, 30_000, `the subscription on ${transport} was never confirmed`);
    await server.publish(channel, { text: 'marker' });
    await until(() => printed.includes('undefined marker'), 30_000, () => `the marker never arrived on ${transport}: ${printed.join(', ')}`);
    return printed.join(', ');
  } finally {
    for (const c of clients) c.close();
  }
}

describe('the README example', () => {
  it('awaits the subscription before publishing', () => {
    expect(readmeExample()).toMatch(/await lobby\.ready;\s*\nawait herald\.publish\('chat:lobby'/);
  });

  describe.each(TRANSPORTS)('over %s', (transport) => {
    it(`prints its own first message in each of ${RUNS} runs`, async () => {
      const example = await compile(readmeExample());
      const outcomes: string[] = [];
      for (let run = 0; run < RUNS; run++) outcomes.push(await runExample(example, transport));
      expect(outcomes).toEqual(Array<string>(RUNS).fill('undefined hello, undefined marker'));
    });

    it(`prints it in each of ${RUNS} runs without awaiting the subscription (publish waits for it)`, async () => {
      const example = await compile(readmeExample().replace(/^await lobby\.ready;\s*$/m, ''));
      const outcomes: string[] = [];
      for (let run = 0; run < RUNS; run++) outcomes.push(await runExample(example, transport));
      expect(outcomes).toEqual(Array<string>(RUNS).fill('undefined hello, undefined marker'));
    });
  });
});
