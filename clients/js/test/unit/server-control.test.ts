// What the server does on its own: its API unsubscribes a channel or disconnects the user (3503:
// do not reconnect; 3021: reconnect), and it subscribes a personal channel at connect.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Herald, type HeraldOptions, type Subscription, type WebSocketConstructor } from '../../src/index.js';
import { encodeCursor } from '../../src/cursor.js';
import { FakeWebSocket, json, publication, scriptedFetch, settle, streamed } from './fakes.js';
import { until } from '../integration/herald-server.js';

const clients: Herald[] = [];

function make(options: HeraldOptions = {}): Herald {
  const herald = new Herald('http://herald.test/', {
    WebSocket: FakeWebSocket as WebSocketConstructor,
    transports: ['ws'],
    backoff: { initialMs: 1, maxMs: 5 },
    fetch: scriptedFetch(() => json(200, { status: 'ok' })).fetch,
    ...options,
  });
  clients.push(herald);
  return herald;
}

async function connected(): Promise<FakeWebSocket> {
  await settle();
  const socket = FakeWebSocket.last;
  socket.open();
  await settle();
  return socket;
}

beforeEach(() => FakeWebSocket.reset());
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

describe('a server-initiated unsubscribe', () => {
  it('ends that subscription with an unsubscribed event, sends nothing back, and is not undone by a reconnect', async () => {
    const herald = make();
    const team = herald.subscribe('team:42');
    const lobby = herald.subscribe('chat:lobby');
    const events: string[] = [];
    team.on('unsubscribed', (e) => events.push(`${e.transport}:${e.reason}`));
    const socket = await connected();
    socket.subscribed('team:42', 'E', 0);
    socket.subscribed('chat:lobby', 'E', 0);
    const sent = socket.requests.length;

    socket.receive({ type: 'unsubscribed', channel: 'team:42', reason: 'server unsubscribe' }, publication('chat:lobby', 1));
    await settle();
    expect(events).toEqual(['ws:server unsubscribe']);
    expect(team.active).toBe(false);
    expect(herald.getSubscription('team:42')).toBeUndefined();
    expect(lobby.position).toEqual({ epoch: 'E', offset: 1 });
    expect(socket.requests).toHaveLength(sent);

    socket.serverClose(3001, 'shutdown');
    await until(() => FakeWebSocket.instances.length === 2, 5_000, 'no reconnect');
    const second = await connected();
    expect(second.requests.map((r) => r['channel'])).toEqual(['chat:lobby']);
  });

  it('over SSE, ends the subscription and reconnects with the other channels only', async () => {
    const streams = [streamed('text/event-stream'), streamed('text/event-stream')];
    let next = 0;
    const http = scriptedFetch((call) => (call.url.includes('/v1/sse') ? streams[next++]!.response : json(200, { status: 'ok' })));
    const herald = make({ transports: ['sse'], EventSource: null, fetch: http.fetch });
    const team = herald.subscribe('team:42');
    herald.subscribe('chat:lobby');
    const reasons: string[] = [];
    team.on('unsubscribed', (e) => reasons.push(e.reason));
    await settle();
    streams[0]!.write('event: subscribed\ndata: {"channels":{"team:42":{"recovered":true,"epoch":"E","offset":0}},"cursor":"AQ"}\n\n');
    streams[0]!.write('event: subscribed\ndata: {"channels":{"chat:lobby":{"recovered":true,"epoch":"E","offset":0}},"cursor":"AQ"}\n\n');
    streams[0]!.write('id: AQ\nevent: unsubscribed\ndata: {"channel":"team:42","reason":"server unsubscribe","cursor":"AQ"}\n\n');
    await until(() => http.calls.filter((c) => c.url.includes('/v1/sse')).length === 2, 5_000, 'no reconnect without the channel');
    expect(reasons).toEqual(['server unsubscribe']);
    expect(http.calls.filter((c) => c.url.includes('/v1/sse'))[1]?.url).toBe('http://herald.test/v1/sse?channel=chat%3Alobby&cursor=' + encodeCursor([['chat:lobby', { epoch: 'E', offset: 0 }]]));
  });
});

describe('a server-initiated disconnect', () => {
  it('3503: reports the close without a next attempt and waits for reconnect()', async () => {
    const herald = make();
    const events: string[] = [];
    herald.on('disconnected', (e) => events.push(`${e.code}:${e.retryInMs ?? 'none'}`));
    herald.subscribe('chat:a');
    const socket = await connected();
    socket.subscribed('chat:a', 'E', 0);
    socket.serverClose(3503, 'force disconnect');
    herald.subscribe('chat:b');
    await new Promise((r) => setTimeout(r, 50));
    expect(events).toEqual(['3503:none']);
    expect(herald.state).toBe('disconnected');
    expect(FakeWebSocket.instances).toHaveLength(1);

    herald.reconnect();
    await until(() => FakeWebSocket.instances.length === 2, 5_000, 'reconnect() did not connect');
  });

  it('3021 and a push disconnect with reconnect: true reconnect; reconnect: false does not', async () => {
    const herald = make();
    herald.subscribe('chat:a');
    const socket = await connected();
    socket.serverClose(3021, 'force reconnect');
    await until(() => FakeWebSocket.instances.length === 2, 5_000, 'no reconnect after 3021');

    const stream = streamed('application/x-ndjson');
    const http = scriptedFetch((call) => (call.url.includes('/v1/stream') ? stream.response : json(200, { status: 'ok' })));
    const pushed = make({ transports: ['stream'], fetch: http.fetch });
    const events: string[] = [];
    pushed.on('disconnected', (e) => events.push(`${e.code}:${e.retryInMs ?? 'none'}`));
    pushed.subscribe('chat:a');
    await settle();
    stream.write('{"type":"disconnect","code":3503,"reason":"force disconnect","reconnect":false}\n');
    await until(() => events.length > 0, 5_000, 'no disconnect');
    await new Promise((r) => setTimeout(r, 50));
    expect(events).toEqual(['3503:none']);
    expect(http.calls.filter((c) => c.url.includes('/v1/stream'))).toHaveLength(1);
  });
});

describe('a personal channel the server subscribes at connect', () => {
  it('becomes a subscription announced with serverSubscribed, resumed by the connect cursor, and left for good once unsubscribed', async () => {
    const herald = make({ token: 't' });
    const created: Subscription<unknown>[] = [];
    const data: unknown[] = [];
    herald.on('serverSubscribed', (s) => {
      created.push(s);
      s.on('publication', (p) => data.push(p.data));
    });
    herald.subscribe('chat:a');
    const socket = await connected();
    socket.receive({ type: 'subscribed', channel: 'me:alice', recovered: true, epoch: 'P', offset: 4 }, publication('me:alice', 5, 'P', 'hi'));
    socket.subscribed('chat:a', 'E', 0);
    expect(created.map((s) => s.channel)).toEqual(['me:alice']);
    expect(herald.getSubscription('me:alice')).toBe(created[0]);
    expect(data).toEqual(['hi']);
    await settle();
    // The server carries it already: nothing is asked for it.
    expect(socket.requests.filter((r) => r['channel'] === 'me:alice')).toEqual([]);

    // Reconnected: the URL holds its position; the client's own subscribe of it is answered
    // already_subscribed after the server's reply, and ignored.
    socket.serverClose(3001, 'shutdown');
    await until(() => FakeWebSocket.instances.length === 2, 5_000, 'no reconnect');
    const second = FakeWebSocket.last;
    expect(second.url).toBe(`ws://herald.test/v1/ws?token=t&cursor=${encodeCursor([['me:alice', { epoch: 'P', offset: 5 }]])}`);
    second.open();
    await settle();
    const own = second.requests.find((r) => r['channel'] === 'me:alice');
    second.receive({ type: 'subscribed', channel: 'me:alice', recovered: true, epoch: 'P', offset: 6 }, publication('me:alice', 6, 'P', 'again'));
    second.receive({ id: own?.['id'], type: 'error', code: 'already_subscribed', message: 'x' });
    expect(created[0]?.active).toBe(true);
    expect(data).toEqual(['hi', 'again']);
    expect(created).toHaveLength(1);

    // Unsubscribed by the application: the next connection's auto-subscription is left again.
    created[0]?.unsubscribe();
    await settle();
    second.serverClose(3001, 'shutdown');
    await until(() => FakeWebSocket.instances.length === 3, 5_000, 'no reconnect');
    const third = await connected();
    third.receive({ type: 'subscribed', channel: 'me:alice', recovered: true, epoch: 'P', offset: 6 });
    await settle();
    expect(third.requests.at(-1)).toMatchObject({ op: 'unsubscribe', channel: 'me:alice' });
    expect(created).toHaveLength(1);
    expect(herald.getSubscription('me:alice')).toBeUndefined();
  });
});
