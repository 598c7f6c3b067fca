// The client's own logic with a fake socket and a scripted fetch: what it sends, how it reads
// coalesced frames, what it does on a gap, a silent connection, a lost reply or a refused token.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Herald, type HeraldOptions, type WebSocketConstructor } from '../../src/index.js';
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

beforeEach(() => FakeWebSocket.reset());
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

describe('the client over a WebSocket', () => {
  it('sends the subscribes of one tick in one frame, with the token in the URL and resume positions', async () => {
    const herald = make({ token: 'secret token' });
    herald.subscribe('chat:a');
    herald.subscribe('chat:b', { since: { epoch: 'E', offset: 41 } });
    await settle();
    const socket = FakeWebSocket.last;
    expect(socket.url).toBe('ws://herald.test/v1/ws?token=secret%20token');
    socket.open();
    await settle();
    expect(socket.frames).toHaveLength(1);
    expect(socket.requests).toEqual([
      { id: 1, op: 'subscribe', channel: 'chat:a' },
      { id: 2, op: 'subscribe', channel: 'chat:b', since: { epoch: 'E', offset: 41 } },
    ]);
  });

  it('reads every message of a coalesced frame, answers pings, and drops publications of channels it left', async () => {
    const herald = make();
    const seen: string[] = [];
    const a = herald.subscribe('chat:a');
    const b = herald.subscribe('chat:b');
    a.on('publication', (p) => seen.push(`a${p.offset}`));
    b.on('publication', (p) => seen.push(`b${p.offset}`));
    await settle();
    const socket = FakeWebSocket.last;
    socket.open();
    await settle();
    socket.receive(
      { id: 1, type: 'subscribed', channel: 'chat:a', recovered: true, epoch: 'E', offset: 0 },
      { id: 2, type: 'subscribed', channel: 'chat:b', recovered: true, epoch: 'E', offset: 0 },
      publication('chat:a', 1),
      { type: 'ping' },
      publication('chat:b', 1),
      publication('chat:a', 2),
    );
    b.unsubscribe();
    await settle();
    socket.receive(publication('chat:b', 2), publication('chat:a', 3));
    expect(seen).toEqual(['a1', 'b1', 'a2', 'a3']);
    expect(socket.frames).toContain('{"op":"pong"}');
    expect(socket.requests.at(-1)).toMatchObject({ op: 'unsubscribe', channel: 'chat:b' });
  });

  it('reconnects from the last delivered offset when a publication skips one', async () => {
    const herald = make();
    const offsets: number[] = [];
    herald.subscribe('chat:a').on('publication', (p) => offsets.push(p.offset));
    await settle();
    const first = FakeWebSocket.last;
    first.open();
    await settle();
    first.subscribed('chat:a', 'E', 5);
    first.receive(publication('chat:a', 6), publication('chat:a', 8), publication('chat:a', 9));
    expect(first.closedByClient).toBe(true);
    await until(() => FakeWebSocket.instances.length === 2, 5_000, 'no reconnect');
    const second = FakeWebSocket.last;
    second.open();
    await settle();
    expect(second.requests).toEqual([{ id: 1, op: 'subscribe', channel: 'chat:a', since: { epoch: 'E', offset: 6 } }]);
    second.subscribed('chat:a', 'E', 9);
    second.receive(publication('chat:a', 7), publication('chat:a', 8), publication('chat:a', 9));
    expect(offsets).toEqual([6, 7, 8, 9]);
  });

  it('reports connecting, connected and disconnected with the reason and the next delay', async () => {
    const herald = make({ backoff: { initialMs: 50, maxMs: 50 } });
    const events: string[] = [];
    herald.on('state', (s) => events.push(`state:${s}`));
    herald.on('connecting', (e) => events.push(`connecting:${e.transport}:${e.attempt}`));
    herald.on('connected', (e) => events.push(`connected:${e.transport}`));
    herald.on('disconnected', (e) => events.push(`disconnected:${e.reason}:${e.code}:${(e.retryInMs ?? -1) <= 50}`));
    expect(herald.state).toBe('disconnected');
    herald.subscribe('chat:a');
    await settle();
    FakeWebSocket.last.open();
    FakeWebSocket.last.serverClose(3001, 'shutdown');
    expect(herald.state).toBe('disconnected');
    expect(herald.transport).toBe('ws');
    expect(events).toEqual([
      'state:connecting',
      'connecting:ws:1',
      'state:connected',
      'connected:ws',
      'state:disconnected',
      'disconnected:server closed (3001 shutdown):3001:true',
    ]);
  });

  it('drops a connection that stays silent past the liveness timeout', async () => {
    const herald = make({ livenessTimeoutMs: 100 });
    const reasons: string[] = [];
    herald.on('disconnected', (e) => reasons.push(e.reason));
    herald.subscribe('chat:a');
    await settle();
    FakeWebSocket.last.open();
    await until(() => reasons.length > 0, 5_000, 'the silent connection was kept');
    expect(reasons[0]).toBe('no heartbeat from the server');
  });

  it('ends only the refused subscription when the server answers a subscribe with an error', async () => {
    const herald = make();
    const secret = herald.subscribe('secret:x');
    const codes: string[] = [];
    secret.on('error', (e) => codes.push(e.code));
    herald.subscribe('chat:a');
    await settle();
    const socket = FakeWebSocket.last;
    socket.open();
    await settle();
    socket.receive({ id: 1, type: 'error', code: 'forbidden', message: 'no' });
    socket.subscribed('chat:a', 'E', 0);
    expect(codes).toEqual(['forbidden']);
    expect(secret.active).toBe(false);
    expect(herald.getSubscription('secret:x')).toBeUndefined();
    expect(herald.state).toBe('connected');
  });

  it('retries a publish whose reply was lost over HTTP, with the same idempotency key', async () => {
    const http = scriptedFetch((call) =>
      call.method === 'POST'
        ? json(200, { channel: 'chat:a', offset: 7, epoch: 'E', id: 'abc', time: 't' }, { 'Idempotent-Replayed': 'true' })
        : json(200, { status: 'ok' }),
    );
    const herald = make({ fetch: http.fetch });
    herald.subscribe('chat:a');
    await settle();
    const socket = FakeWebSocket.last;
    socket.open();
    await settle();
    socket.subscribed('chat:a', 'E', 0);
    const publishing = herald.publish('chat:a', { text: 'hi' }, { type: 'message' });
    await settle();
    const sent = socket.requests.find((r) => r['op'] === 'publish');
    expect(sent).toMatchObject({ op: 'publish', channel: 'chat:a', data: { text: 'hi' }, type: 'message' });
    socket.serverClose(1006);

    const result = await publishing;
    expect(result).toEqual({ channel: 'chat:a', offset: 7, epoch: 'E', id: 'abc', time: 't', duplicate: true });
    const post = http.calls.find((c) => c.method === 'POST');
    expect(post?.url).toBe('http://herald.test/v1/channels/chat:a/messages');
    expect(post?.headers['Idempotency-Key']).toBe(sent?.['idempotencyKey']);
    expect(JSON.parse(post?.body ?? '')).toEqual({ data: { text: 'hi' }, type: 'message' });
  });
});

describe('subscription.ready and a publish right after a subscribe', () => {
  const publishes = (socket: FakeWebSocket) => socket.requests.filter((r) => r['op'] === 'publish');
  // Publishes these tests do not answer end with the client; only what was sent matters.
  const start = (publishing: Promise<unknown>) => void publishing.catch(() => undefined);

  it('holds the publish until the server confirmed the subscription, then resolves ready with the subscribed event', async () => {
    const herald = make();
    const sub = herald.subscribe('chat:a');
    let ready: unknown;
    void sub.ready.then((event) => (ready = event));
    const publishing = herald.publish('chat:a', { text: 'mine' });
    await settle();
    const socket = FakeWebSocket.last;
    socket.open();
    await settle();
    expect(socket.requests.map((r) => r['op'])).toEqual(['subscribe']);
    expect(ready).toBeUndefined();

    socket.subscribed('chat:a', 'E', 4);
    await settle();
    expect(ready).toEqual({ transport: 'ws', epoch: 'E', offset: 4, recovered: true });
    expect(socket.requests.map((r) => r['op'])).toEqual(['subscribe', 'publish']);
    const sent = publishes(socket)[0];
    socket.receive({ id: sent?.['id'], type: 'published', channel: 'chat:a', offset: 5, epoch: 'E', publicationId: 'p', time: 't' });
    await expect(publishing).resolves.toMatchObject({ offset: 5 });
  });

  it('waits for every unconfirmed subscription of the client, not for one subscribed with since', async () => {
    const herald = make();
    herald.subscribe('chat:a');
    herald.subscribe('me:alice');
    herald.subscribe('chat:b', { since: { epoch: 'E', offset: 9 } });
    start(herald.publish('chat:a', 1));
    await settle();
    const socket = FakeWebSocket.last;
    socket.open();
    await settle();
    socket.subscribed('chat:a', 'E', 0);
    await settle();
    expect(publishes(socket)).toHaveLength(0);
    socket.subscribed('me:alice', 'F', 0);
    await settle();
    expect(publishes(socket)).toHaveLength(1);
  });

  it('goes ahead when the subscription is refused; ready rejects with the refusal, unawaited without an unhandled rejection', async () => {
    const herald = make();
    const refused = herald.subscribe('chat:a');
    const unawaited = herald.subscribe('chat:b');
    herald.subscribe('chat:kept');
    start(herald.publish('chat:c', 1));
    await settle();
    const socket = FakeWebSocket.last;
    socket.open();
    await settle();
    const [a, b] = socket.requests;
    socket.subscribed('chat:kept', 'E', 0);
    socket.receive({ id: a?.['id'], type: 'error', code: 'forbidden', message: 'no' });
    await settle();
    expect(publishes(socket)).toHaveLength(0);
    socket.receive({ id: b?.['id'], type: 'error', code: 'forbidden', message: 'no' });
    await expect(refused.ready).rejects.toMatchObject({ code: 'forbidden' });
    await settle();
    expect(publishes(socket)).toHaveLength(1);
    expect(unawaited.active).toBe(false);
  });

  it('rejects ready with closed when the subscription ends first', async () => {
    const herald = make();
    const left = herald.subscribe('chat:a');
    const closed = herald.subscribe('chat:b');
    left.unsubscribe();
    await expect(left.ready).rejects.toMatchObject({ code: 'closed' });
    herald.close();
    await expect(closed.ready).rejects.toMatchObject({ code: 'closed' });
  });

  it('waits at most awaitSubscriptionsMs, and not at all with 0', async () => {
    const bounded = make({ awaitSubscriptionsMs: 200 });
    bounded.subscribe('chat:a');
    start(bounded.publish('chat:a', 1));
    await settle();
    const socket = FakeWebSocket.last;
    socket.open();
    await settle();
    expect(publishes(socket)).toHaveLength(0);
    await until(() => publishes(socket).length === 1, 5_000, 'the publish never went ahead');

    const eager = make({ awaitSubscriptionsMs: 0 });
    eager.subscribe('chat:a');
    await settle();
    const second = FakeWebSocket.last;
    second.open();
    await settle();
    start(eager.publish('chat:a', 1));
    await settle();
    expect(publishes(second)).toHaveLength(1);
  });

  it('lets the caller abort the wait, and then sends nothing', async () => {
    const herald = make();
    herald.subscribe('chat:a');
    await settle();
    const socket = FakeWebSocket.last;
    socket.open();
    await settle();
    const controller = new AbortController();
    const publishing = herald.publish('chat:a', 1, { signal: controller.signal });
    await settle();
    controller.abort();
    await expect(publishing).rejects.toMatchObject({ code: 'aborted' });
    socket.subscribed('chat:a', 'E', 0);
    await settle();
    expect(publishes(socket)).toHaveLength(0);
  });
});

describe('the client over HTTP', () => {
  it('reads SSE events with fetch: fields, comments, multi-line data and the disconnect message', async () => {
    const stream = streamed('text/event-stream');
    const http = scriptedFetch((call) => (call.url.includes('/v1/sse') ? stream.response : json(200, { status: 'ok' })));
    const herald = make({ transports: ['sse'], EventSource: null, fetch: http.fetch });
    const data: unknown[] = [];
    const reasons: string[] = [];
    herald.on('disconnected', (e) => reasons.push(`${e.code}:${e.reason}`));
    herald.subscribe('chat:a').on('publication', (p) => data.push(p.data));
    await settle();
    expect(http.calls[0]?.url).toBe('http://herald.test/v1/sse?channel=chat%3Aa');
    stream.write('retry: 2000\n\n: heartbeat\n\nid: AQ\r\nevent: subscribed\ndata: {"channels":{"chat:a":{"recovered":true,"epoch":"E","offset":0}},"cursor":"AQ"}\n\n');
    stream.write('id: x\nevent: publication\ndata: {"type":"publication","channel":"chat:a","offset":1,"epoch":"E","id":"i","time":"t",\ndata: "data":[1,2]}\n\n');
    stream.write('event: disconnect\ndata: {"code":3008,"reason":"slow","reconnect":true}\n\n');
    await until(() => reasons.length > 0, 5_000, 'no disconnect');
    expect(data).toEqual([[1, 2]]);
    // The first close is the server's; later ones are the reconnects this fake cannot answer.
    expect(reasons[0]).toBe('3008:server closed (3008 slow)');
  });

  it('asks a token function again after a 403 and sends the new token', async () => {
    const tokens = ['old', 'new'];
    let calls = 0;
    const http = scriptedFetch((call) =>
      call.headers['Authorization'] === 'Bearer new'
        ? json(200, { channel: 'chat:a', epoch: 'E', top: 0, first: 1, publications: [] })
        : json(403, { code: 'forbidden', status: 403, detail: 'expired' }),
    );
    const herald = make({ token: () => tokens[calls++], fetch: http.fetch });
    const page = await herald.history('chat:a', { limit: 5 });
    expect(page.top).toBe(0);
    expect(http.calls.map((c) => c.headers['Authorization'])).toEqual(['Bearer old', 'Bearer new']);
    expect(http.calls[1]?.url).toBe('http://herald.test/v1/channels/chat:a/messages?limit=5');
  });

  it('turns a problem document into a HeraldError with its code and status', async () => {
    const http = scriptedFetch(() => json(413, { code: 'message_too_large', status: 413, detail: 'too big' }));
    const herald = make({ fetch: http.fetch });
    await expect(herald.publish('chat:a', 'x')).rejects.toMatchObject({ code: 'message_too_large', status: 413, message: '413: too big' });
    expect(http.calls).toHaveLength(1);
  });

  it('tries a publish three times when the server fails, then gives up with the last error', async () => {
    const http = scriptedFetch(() => json(500, { code: 'internal_error', status: 500 }));
    const herald = make({ fetch: http.fetch });
    await expect(herald.publish('chat:a', 1)).rejects.toMatchObject({ code: 'internal_error' });
    expect(http.calls).toHaveLength(3);
    expect(new Set(http.calls.map((c) => c.headers['Idempotency-Key'])).size).toBe(1);
  });

  it('polls once at once for a new channel, then holds long polls with the cursor', async () => {
    const answers = [
      json(200, { cursor: 'c1', channels: { 'chat:a': { recovered: true, epoch: 'E', offset: 3 } }, publications: [], more: false }),
      json(200, { cursor: 'c2', channels: { 'chat:a': { recovered: true, epoch: 'E', offset: 4 } }, publications: [publication('chat:a', 4)], more: false }),
    ];
    const http = scriptedFetch(() => {
      const next = answers.shift();
      // Then a poll held until the client goes away.
      return next ?? new Promise<Response>(() => undefined);
    });
    const herald = make({ transports: ['longpoll'], fetch: http.fetch, longPollWaitSeconds: 20 });
    const offsets: number[] = [];
    herald.subscribe('chat:a').on('publication', (p) => offsets.push(p.offset));
    await until(() => offsets.length === 1, 5_000, 'nothing delivered');
    const urls = http.calls.map((c) => new URL(c.url));
    expect(urls[0]?.searchParams.get('wait')).toBe('0');
    expect(urls[0]?.searchParams.get('cursor')).toBeNull();
    expect(urls[1]?.searchParams.get('wait')).toBe('20');
    expect(urls[1]?.searchParams.get('cursor')).not.toBeNull();
    expect(offsets).toEqual([4]);
  });
});
