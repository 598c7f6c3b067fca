// publish, history, subscribe options, iteration and close against a real server, over the
// WebSocket and over plain HTTP.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HeraldError, type Herald, type Publication } from '../../src/index.js';
import { encodeCursor } from '../../src/cursor.js';
import { readLines } from '../../src/transports/push.js';
import { API_KEY, HeraldServer, within } from './herald-server.js';
import { client, freshChannel, range, Received } from './recorder.js';

let server: HeraldServer;
const clients: Herald[] = [];

beforeAll(async () => {
  server = await HeraldServer.start({ args: ['--Herald:Namespaces:big:Publish=Anyone', '--Herald:Namespaces:big:MaxMessageBytes=300000'] });
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(async () => {
  await server?.dispose();
});

/** A client whose WebSocket is open ('ws'), or one with no WebSocket open, so requests go over HTTP. */
async function connected(via: 'ws' | 'http'): Promise<Herald> {
  const herald = client(server.url, via === 'ws' ? ['ws'] : ['longpoll']);
  clients.push(herald);
  const r = new Received(herald.subscribe(freshChannel()));
  await r.event('subscribed:');
  return herald;
}

describe.each(['ws', 'http'] as const)('requests over %s', (via) => {
  it('publishes once per idempotency key, answering the original position to a repeat', async () => {
    const herald = await connected(via);
    const channel = freshChannel();
    const first = await herald.publish(channel, { text: 'once' }, { idempotencyKey: 'key-1', type: 'note' });
    const again = await herald.publish(channel, { text: 'once' }, { idempotencyKey: 'key-1', type: 'note' });
    expect(first).toMatchObject({ channel, offset: 1, duplicate: false });
    expect(again).toMatchObject({ channel, offset: 1, epoch: first.epoch, id: first.id, duplicate: true });
    expect(first.id).toMatch(/^[0-9a-f]{32}$/);
    expect(first.time).toMatch(/Z$/);
  });

  it('reads history forward, windowed and newest first', async () => {
    const herald = await connected(via);
    const channel = freshChannel();
    for (let n = 1; n <= 7; n++) await server.publish(channel, { n });

    const all = await herald.history<{ n: number }>(channel);
    expect(all).toMatchObject({ channel, top: 7, first: 1 });
    expect(all.publications.map((p) => p.data.n)).toEqual(range(1, 7));
    expect(all.publications.every((p) => p.channel === channel && p.epoch === all.epoch)).toBe(true);

    const window = await herald.history(channel, { after: 2, limit: 3 });
    expect(window.publications.map((p) => p.offset)).toEqual([3, 4, 5]);
    const newest = await herald.history(channel, { limit: 2, reverse: true });
    expect(newest.publications.map((p) => p.offset)).toEqual([7, 6]);

    const empty = await herald.history(freshChannel());
    expect(empty).toMatchObject({ epoch: '', top: 0, first: 1, publications: [] });
  });

  it('rejects a refused publish with the server code and status', async () => {
    const herald = await connected(via);
    const error = await herald.publish('news:today', { text: 'no key' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HeraldError);
    expect((error as HeraldError).code).toBe('unauthorized');
  });
});

describe('the client', () => {
  it('sends a publish larger than the WebSocket cap over HTTP and keeps the socket', async () => {
    const herald = await connected('ws');
    const channel = freshChannel('big');
    const text = 'x'.repeat(100_000);
    const result = await herald.publish(channel, { text });
    expect(result.offset).toBe(1);
    expect(herald.state).toBe('connected');
    expect(herald.transport).toBe('ws');
    const page = await herald.history<{ text: string }>(channel);
    expect(page.publications[0]?.data.text.length).toBe(100_000);
  });

  it('publishes over HTTP without any subscription or connection', async () => {
    const herald = client(server.url, ['ws']);
    clients.push(herald);
    const channel = freshChannel();
    expect((await herald.publish(channel, null)).offset).toBe(1);
    expect(herald.state).toBe('disconnected');
    expect((await herald.history(channel)).publications[0]?.data).toBeNull();
  });

  it('resumes a subscription from a position: history first, then everything after it', async () => {
    const herald = client(server.url, ['sse'], { EventSource: null });
    clients.push(herald);
    const channel = freshChannel();
    for (let n = 1; n <= 4; n++) await server.publish(channel, { n });
    const page = await herald.history(channel, { limit: 2, reverse: true });
    await server.publish(channel, { n: 5 });

    const received = new Received(herald.subscribe(channel, { since: { epoch: page.epoch, offset: page.top } }));
    await received.count(1);
    await server.publish(channel, { n: 6 });
    await received.count(2);
    expect(received.offsets).toEqual([5, 6]);
    expect(received.events).toEqual(['subscribed:sse:true', 'recovered:sse:4']);
  });

  it('delivers everything retained to a subscription from offset 0', async () => {
    const herald = client(server.url, ['ws']);
    clients.push(herald);
    const channel = freshChannel();
    for (let n = 1; n <= 3; n++) await server.publish(channel, { n });
    const received = new Received(herald.subscribe(channel, { since: { epoch: '', offset: 0 } }));
    await received.count(3);
    expect(received.offsets).toEqual([1, 2, 3]);
  });

  it('yields publications to async iteration until unsubscribed', async () => {
    const herald = client(server.url, ['stream']);
    clients.push(herald);
    const channel = freshChannel();
    const subscription = herald.subscribe<{ n: number }>(channel);
    // Live from now: publish only once the server has the subscription.
    const live = new Promise<void>((resolve) => subscription.on('subscribed', () => resolve()));
    const seen: Publication<{ n: number }>[] = [];
    const loop = (async () => {
      for await (const publication of subscription) {
        seen.push(publication);
        if (seen.length === 3) subscription.unsubscribe();
      }
    })();
    await within(live, 30_000, 'not subscribed');
    for (let n = 1; n <= 3; n++) await server.publish(channel, { n });
    await within(loop, 30_000, 'the iteration did not end');
    expect(seen.map((p) => p.data.n)).toEqual([1, 2, 3]);
    expect(subscription.active).toBe(false);
    expect(herald.state).toBe('disconnected');
  });

  it('refuses bad input before sending anything', async () => {
    const herald = client(server.url, ['ws']);
    clients.push(herald);
    expect(() => herald.subscribe('no-namespace')).toThrow(expect.objectContaining({ code: 'invalid_channel' }));
    expect(() => herald.subscribe('Chat:upper-namespace')).toThrow(HeraldError);
    const channel = freshChannel();
    herald.subscribe(channel);
    expect(() => herald.subscribe(channel)).toThrow(expect.objectContaining({ code: 'already_subscribed' }));
    await expect(herald.publish('bad channel', 1)).rejects.toMatchObject({ code: 'invalid_channel' });
    await expect(herald.publish(channel, undefined)).rejects.toMatchObject({ code: 'bad_request' });
  });

  it('ends every subscription and refuses further use once closed', async () => {
    const herald = client(server.url, ['ws']);
    const states: string[] = [];
    herald.on('state', (s) => states.push(s));
    const subscription = herald.subscribe(freshChannel());
    await new Received(subscription).event('subscribed:');
    const iteration = subscription[Symbol.asyncIterator]().next();
    herald.close();
    expect(await within(iteration, 5_000, 'the iteration did not end')).toEqual({ value: undefined, done: true });
    expect(herald.state).toBe('closed');
    expect(states).toEqual(['connecting', 'connected', 'closed']);
    expect(subscription.active).toBe(false);
    expect(() => herald.subscribe(freshChannel())).toThrow(expect.objectContaining({ code: 'closed' }));
  });
});

describe('cursor', () => {
  it('is encoded exactly as the server encodes it', async () => {
    const [a, b] = [freshChannel(), freshChannel()];
    await server.publish(a, { n: 1 });
    for (let n = 1; n <= 200; n++) await server.publish(b, { n });
    const response = await fetch(`${server.url}/v1/stream?channel=${a}&channel=${b}&cursor=${encodeCursor([[a, { epoch: '', offset: 0 }]])}`, {
      headers: { Authorization: `Bearer ${API_KEY}` },
      signal: AbortSignal.timeout(15_000),
    });
    type Line = { cursor?: string; type?: string; channel?: string; offset?: number; epoch?: string; channels?: Record<string, { epoch: string; offset: number }> };
    const lines: Line[] = [];
    const reading = readLines(response.body as ReadableStream<Uint8Array>, (text) => {
      const line = JSON.parse(text) as Line;
      lines.push(line);
      // Once b is live, one publication on b carries a cursor naming both channels.
      if (line.type === 'subscribed' && line.channels?.[b] !== undefined) void server.publish(b, { n: 201 });
      return !(line.type === 'publication' && line.channel === b);
    });
    await within(reading, 15_000, 'the stream did not deliver');
    expect(lines.map((l) => l.type)).toEqual(['subscribed', 'publication', 'subscribed', 'publication']);
    const [, replayed, , live] = lines;
    expect(replayed).toMatchObject({ channel: a, offset: 1 });
    expect(live).toMatchObject({ channel: b, offset: 201 });
    const positions = [
      [a, { epoch: replayed?.epoch ?? '', offset: 1 }],
      [b, { epoch: live?.epoch ?? '', offset: 201 }],
    ] as const;
    expect(live?.cursor).toBe(encodeCursor(positions));
  });
});
