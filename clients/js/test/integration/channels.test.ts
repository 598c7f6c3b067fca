// Many subscriptions on one connection: added and removed while publications flow, one refused
// channel among good ones, and a token that has to be refreshed.

import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Herald, TransportName, WebSocketConstructor } from '../../src/index.js';
import { HeraldServer, within, jwt, SECRET } from './herald-server.js';
import { client, freshChannel, range, Received } from './recorder.js';

const TRANSPORTS: readonly TransportName[] = ['ws', 'sse', 'stream', 'longpoll', 'poll'];

let server: HeraldServer;
const clients: Herald[] = [];

beforeAll(async () => {
  server = await HeraldServer.start({
    args: [
      `--Herald:Auth:HmacSecret=${SECRET}`,
      '--Herald:Namespaces:secret:Subscribe=ServerOnly',
      '--Herald:Namespaces:private:Subscribe=Authenticated',
    ],
  });
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(async () => {
  await server?.dispose();
});

/** Counts the requests and sockets a client opens. */
function counting() {
  const counts = { sockets: 0, requests: [] as string[] };
  class CountingWebSocket extends WebSocket {
    constructor(url: string) {
      super(url);
      counts.sockets++;
    }
  }
  const fetchCounted: typeof fetch = (input, init) => {
    counts.requests.push(new URL(String(input)).pathname);
    return fetch(input, init);
  };
  return { counts, options: { WebSocket: CountingWebSocket as WebSocketConstructor, fetch: fetchCounted } };
}

describe.each(TRANSPORTS)('over %s', (transport) => {
  it('carries subscriptions added and removed while publications flow, losing and repeating nothing', async () => {
    const [a, b, c] = [freshChannel(), freshChannel(), freshChannel()];
    const herald = client(server.url, [transport]);
    clients.push(herald);
    const onA = new Received(herald.subscribe(a));
    await onA.event('subscribed:');

    // A publisher on A that never pauses while the channel set changes under the client.
    let publishing = true;
    let sent = 0;
    const publisher = (async () => {
      while (publishing && sent < 400) {
        await server.publish(a, { n: ++sent });
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await onA.count(10);
    const onB = new Received(herald.subscribe(b));
    await onA.count(20);
    const onC = new Received(herald.subscribe(c));
    await onB.event('subscribed:');
    await onC.event('subscribed:');
    await server.publish(b, { n: 1 });
    await server.publish(c, { n: 1 });
    await onB.count(1);
    onB.subscription.unsubscribe();
    await onA.count(sent + 5);
    publishing = false;
    await within(publisher, 30_000, 'the publisher did not stop');
    await server.publish(b, { n: 2 });
    await server.publish(c, { n: 2 });

    await onA.count(sent);
    await onC.count(2);
    expect(onA.offsets).toEqual(range(1, sent));
    expect(onB.offsets).toEqual([1]);
    expect(onC.offsets).toEqual([1, 2]);
    expect(onA.events.filter((e) => !e.startsWith('subscribed:') && !e.startsWith('recovered:'))).toEqual([]);
  });

  it('keeps the other channels when the server refuses one', async () => {
    const good = freshChannel();
    const herald = client(server.url, [transport]);
    clients.push(herald);
    const refused = new Received(herald.subscribe(freshChannel('secret')));
    const ok = new Received(herald.subscribe(good));

    await refused.event('error:');
    expect(refused.events).toEqual(['error:unauthorized']);
    expect(refused.subscription.active).toBe(false);
    await ok.event('subscribed:');
    await server.publish(good, { n: 1 });
    await ok.count(1);
    expect(ok.offsets).toEqual([1]);
  });
});

describe('one connection', () => {
  it.each(['ws', 'sse', 'stream'] as const)('carries every subscription made in one go over %s', async (transport) => {
    const { counts, options } = counting();
    const herald = client(server.url, [transport], { ...options, EventSource: null });
    clients.push(herald);
    const channels = [freshChannel(), freshChannel(), freshChannel()];
    const received = channels.map((channel) => new Received(herald.subscribe(channel)));
    for (const r of received) await r.event('subscribed:');
    for (const channel of channels) await server.publish(channel, { n: 1 });
    for (const r of received) await r.count(1);

    const connections = transport === 'ws' ? counts.sockets : counts.requests.filter((p) => p === `/v1/${transport}`).length;
    expect(connections).toBe(1);
  });
});

describe('tokens', () => {
  it.each(['sse', 'stream', 'longpoll'] as const)('a token function is asked again when the server refuses its token (%s)', async (transport) => {
    const tokens = [jwt('alice', 'a-wrong-secret-that-is-also-32-bytes-long'), jwt('alice')];
    let calls = 0;
    const herald = client(server.url, [transport], { EventSource: null, token: async () => tokens[Math.min(calls++, 1)] });
    clients.push(herald);
    const channel = freshChannel('private');
    const received = new Received(herald.subscribe(channel));
    await received.event('subscribed:');
    await server.publish(channel, { n: 1 });
    await received.count(1);
    expect(calls).toBe(2);
    expect(received.events.filter((e) => e.startsWith('error'))).toEqual([]);
  });

  it('sends the user token on the WebSocket, so publications carry the user', async () => {
    const herald = client(server.url, ['ws'], { token: jwt('bob') });
    clients.push(herald);
    const channel = freshChannel();
    const received = new Received(herald.subscribe(channel));
    await received.event('subscribed:ws');
    await herald.publish(channel, { text: 'hi' }, { type: 'message' });
    await received.count(1);
    expect(received.publications[0]).toMatchObject({ from: 'bob', type: 'message', data: { text: 'hi' } });
  });
});
