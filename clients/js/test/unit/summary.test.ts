// Summary subscriptions, read markers, unread answers and mentions with a fake socket and a
// scripted fetch: what goes out, and how replies and pushes are read (the contract of
// docs/protocol.md; summaries as announced for the WebSocket's `"mode": "summary"`).

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Herald, HeraldError, type ChannelSummary, type HeraldOptions, type WebSocketConstructor } from '../../src/index.js';
import { FakeWebSocket, json, publication, scriptedFetch, settle, streamed, type FetchCall } from './fakes.js';

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

async function open(): Promise<FakeWebSocket> {
  await settle();
  const socket = FakeWebSocket.last;
  socket.open();
  await settle();
  return socket;
}

/** The id of the latest request with `op` (and `channel`). */
function idOf(socket: FakeWebSocket, op: string, channel?: string): unknown {
  return [...socket.requests].reverse().find((r) => r['op'] === op && (channel === undefined || r['channel'] === channel))?.['id'];
}

function summaryReply(socket: FakeWebSocket, channel: string, epoch: string, offset: number, n: number): void {
  socket.receive({ id: idOf(socket, 'subscribe', channel), type: 'subscribed', channel, mode: 'summary', recovered: false, epoch, offset, n });
}

function push(channel: string, offset: number, n: number, extra: object = {}): object {
  return { type: 'summary', channel, epoch: 'E', offset, n, time: `2026-01-01T00:00:0${offset % 10}.000Z`, from: 'bob', ...extra };
}

beforeEach(() => FakeWebSocket.reset());
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

describe('summary subscriptions', () => {
  it('subscribe with mode summary beside full subscriptions, then take the reply and each push as the newest state', async () => {
    const herald = make();
    herald.subscribe('chat:open');
    const side = herald.subscribeSummary('chat:side');
    const seen: ChannelSummary[] = [];
    side.on('summary', (s) => seen.push(s));
    const socket = await open();
    expect(socket.frames).toHaveLength(1);
    expect(socket.requests).toEqual([
      { id: 1, op: 'subscribe', channel: 'chat:open' },
      { id: 2, op: 'subscribe', channel: 'chat:side', mode: 'summary' },
    ]);
    summaryReply(socket, 'chat:side', 'E', 42, 17);
    await expect(side.ready).resolves.toEqual({ channel: 'chat:side', epoch: 'E', offset: 42, n: 17 });
    socket.receive(push('chat:side', 43, 18), push('chat:side', 45, 19));
    expect(seen).toEqual([
      { channel: 'chat:side', epoch: 'E', offset: 42, n: 17 },
      { channel: 'chat:side', epoch: 'E', offset: 43, n: 18, time: '2026-01-01T00:00:03.000Z', from: 'bob' },
      { channel: 'chat:side', epoch: 'E', offset: 45, n: 19, time: '2026-01-01T00:00:05.000Z', from: 'bob' },
    ]);
    expect(side.summary).toEqual(seen.at(-1));
    // A push of another channel, or an older state, changes nothing.
    socket.receive(push('chat:other', 50, 30), push('chat:side', 44, 18), push('chat:side', 45, 19));
    expect(seen).toHaveLength(3);
  });

  it('subscribes again after a reconnect, with no position, and keeps what the reply leaves unchanged', async () => {
    const herald = make();
    const side = herald.subscribeSummary('chat:side');
    const seen: ChannelSummary[] = [];
    side.on('summary', (s) => seen.push(s));
    const first = await open();
    summaryReply(first, 'chat:side', 'E', 42, 17);
    first.receive(push('chat:side', 43, 18));
    first.serverClose(1006);
    await new Promise((r) => setTimeout(r, 20));
    const second = await open();
    expect(second.requests).toEqual([{ id: 1, op: 'subscribe', channel: 'chat:side', mode: 'summary' }]);
    // Nothing moved meanwhile: no new summary, time and author kept.
    summaryReply(second, 'chat:side', 'E', 43, 18);
    expect(seen).toHaveLength(2);
    expect(side.summary).toMatchObject({ offset: 43, time: '2026-01-01T00:00:03.000Z', from: 'bob' });
    second.serverClose(1006);
    await new Promise((r) => setTimeout(r, 20));
    const third = await open();
    summaryReply(third, 'chat:side', 'E', 50, 22);
    expect(seen.at(-1)).toEqual({ channel: 'chat:side', epoch: 'E', offset: 50, n: 22 });
  });

  it('keeps a push that overtook the reply when the reply is older (the higher offset is the newer)', async () => {
    const herald = make();
    const side = herald.subscribeSummary('chat:side');
    const seen: ChannelSummary[] = [];
    side.on('summary', (s) => seen.push(s));
    const socket = await open();
    socket.receive(push('chat:side', 43, 18));
    summaryReply(socket, 'chat:side', 'E', 42, 17);
    const newest = { channel: 'chat:side', epoch: 'E', offset: 43, n: 18, time: '2026-01-01T00:00:03.000Z', from: 'bob' };
    await expect(side.ready).resolves.toEqual(newest);
    expect(side.summary).toEqual(newest);
    expect(seen).toEqual([newest]);
    // The same state in the reply: nothing new either.
    socket.serverClose(1006);
    await new Promise((r) => setTimeout(r, 20));
    summaryReply(await open(), 'chat:side', 'E', 43, 18);
    expect(seen).toEqual([newest]);
  });

  it('leaves the connection idle once the last summary subscription is gone, as after the last unsubscribe', async () => {
    const herald = make();
    const side = herald.subscribeSummary('chat:side');
    const socket = await open();
    summaryReply(socket, 'chat:side', 'E', 1, 1);
    await side.ready;
    const reasons: string[] = [];
    herald.on('disconnected', (e) => reasons.push(e.reason));
    side.unsubscribe();
    await settle();
    expect(herald.state).toBe('disconnected');
    expect(reasons).toEqual(['no subscriptions']);
    expect(socket.readyState).toBe(3);
    herald.subscribeSummary('chat:again');
    await settle();
    expect(FakeWebSocket.instances).toHaveLength(2);
  });

  it('follows a channel either fully or as a summary, on the client as on the server', () => {
    const herald = make();
    herald.subscribe('chat:a');
    herald.subscribeSummary('chat:b');
    expect(() => herald.subscribeSummary('chat:a')).toThrow(expect.objectContaining({ code: 'already_subscribed' }));
    expect(() => herald.subscribe('chat:b')).toThrow(expect.objectContaining({ code: 'already_subscribed' }));
    expect(() => herald.subscribeSummary('bad name')).toThrow(expect.objectContaining({ code: 'invalid_channel' }));
    herald.getSummary('chat:b')?.unsubscribe();
    expect(herald.subscribe('chat:b').channel).toBe('chat:b');
  });

  it('ends only the refused summary subscription; an unsubscribe leaves the channel, and later pushes are dropped', async () => {
    const herald = make();
    const full = herald.subscribe('chat:a');
    const refused = herald.subscribeSummary('chat:b');
    const side = herald.subscribeSummary('chat:c');
    const errors: string[] = [];
    refused.on('error', (e) => errors.push(e.code));
    const socket = await open();
    socket.receive({ id: idOf(socket, 'subscribe', 'chat:b'), type: 'error', code: 'too_many_channels', message: 'at most 1000 summaries' });
    await expect(refused.ready).rejects.toMatchObject({ code: 'too_many_channels' });
    expect(errors).toEqual(['too_many_channels']);
    expect(refused.active).toBe(false);
    expect(herald.getSummary('chat:b')).toBeUndefined();
    expect(full.active && side.active).toBe(true);

    summaryReply(socket, 'chat:c', 'E', 1, 1);
    const seen: number[] = [];
    side.on('summary', (s) => seen.push(s.offset));
    side.unsubscribe();
    await settle();
    expect(socket.requests.at(-1)).toMatchObject({ op: 'unsubscribe', channel: 'chat:c' });
    socket.receive(push('chat:c', 2, 2));
    expect(seen).toEqual([]);
  });

  it('opens a WebSocket for summaries alone, never an SSE request without channels', async () => {
    const http = scriptedFetch(() => json(200, { status: 'ok' }));
    const herald = make({ transports: ['sse', 'ws'], fetch: http.fetch, EventSource: null });
    herald.subscribeSummary('chat:side');
    await settle();
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(http.calls.filter((c) => c.url.includes('/v1/sse'))).toEqual([]);
  });

  it('over SSE carries the full subscriptions only, and summaries alone open nothing without a WebSocket in the order', async () => {
    const stream = streamed('text/event-stream');
    const http = scriptedFetch((call) => (call.url.includes('/v1/sse') ? stream.response : json(200, { status: 'ok' })));
    const herald = make({ transports: ['sse'], fetch: http.fetch, EventSource: null });
    herald.subscribeSummary('chat:side');
    await settle();
    expect(http.calls).toEqual([]);
    herald.subscribe('chat:open');
    await settle();
    expect(http.calls.map((c) => c.url)).toEqual(['http://herald.test/v1/sse?channel=chat%3Aopen']);
    expect(FakeWebSocket.instances).toEqual([]);
  });
});

describe('read markers, unread answers and mentions', () => {
  const STATE = { channel: 'chat:a', epoch: 'E', top: 60, n: 58, read: { epoch: 'E', offset: 57, n: 55, updatedAt: '2026-12-03T05:40:00.123Z' }, unread: 3, mentions: [59], firstUnread: 58 };

  it('marks read over the WebSocket with the read op, and reads its reply', async () => {
    const herald = make();
    herald.subscribe('chat:a');
    const socket = await open();
    const result = herald.markRead('chat:a', { offset: 57, epoch: 'E' });
    await settle();
    expect(socket.requests.at(-1)).toEqual({ id: 2, op: 'read', channel: 'chat:a', offset: 57, epoch: 'E' });
    socket.receive({ id: 2, type: 'read', changed: true, state: STATE });
    await expect(result).resolves.toEqual({ changed: true, state: STATE });

    const refused = herald.markRead('chat:a');
    await settle();
    expect(socket.requests.at(-1)).toEqual({ id: 3, op: 'read', channel: 'chat:a' });
    socket.receive({ id: 3, type: 'error', code: 'unauthorized', message: 'an anonymous connection has no marker' });
    await expect(refused).rejects.toBeInstanceOf(HeraldError);
  });

  it('marks read with PUT when no WebSocket is open, and reads the unread answer of GET /v1/me/unread', async () => {
    const http = scriptedFetch((call: FetchCall) => {
      if (call.url.endsWith('/read')) return json(200, { changed: false, state: { ...STATE, reset: true } });
      return json(200, { channels: [STATE, { channel: 'chat:b', epoch: '', top: 0, n: 0, unread: 0, mentions: [] }], total: 3, mentions: 1 });
    });
    const herald = make({ fetch: http.fetch, token: 'T' });
    await expect(herald.markRead('chat:a', { offset: 3, unread: true })).resolves.toEqual({ changed: false, state: { ...STATE, reset: true } });
    expect(http.calls[0]).toMatchObject({ url: 'http://herald.test/v1/channels/chat:a/read', method: 'PUT', body: '{"offset":3,"unread":true}' });
    expect(http.calls[0]?.headers['Authorization']).toBe('Bearer T');
    const report = await herald.unread(['chat:a', 'chat:b']);
    expect(http.calls[1]?.url).toBe('http://herald.test/v1/me/unread?channels=chat%3Aa%2Cchat%3Ab');
    expect(report).toEqual({ channels: [STATE, { channel: 'chat:b', epoch: '', top: 0, n: 0, unread: 0, mentions: [] }], total: 3, mentions: 1 });
    await herald.unread();
    expect(http.calls[2]?.url).toBe('http://herald.test/v1/me/unread');
    await expect(herald.markRead('chat:a', { offset: -1 })).rejects.toThrow(RangeError);
  });

  it('publishes mentions over the WebSocket and over HTTP, and reads n and meta back', async () => {
    const http = scriptedFetch(() => json(201, { channel: 'chat:a', offset: 8, epoch: 'E', id: 'x', time: 't', n: 6 }));
    const herald = make({ fetch: http.fetch });
    const sub = herald.subscribe('chat:a');
    const got: unknown[] = [];
    sub.on('publication', (p) => got.push({ n: p.n, meta: p.meta }));
    const socket = await open();
    socket.subscribed('chat:a', 'E', 6);
    const sent = herald.publish('chat:a', { text: '@bob hi' }, { type: 'message', mentions: ['bob'] });
    await settle();
    expect(socket.requests.at(-1)).toMatchObject({ op: 'publish', channel: 'chat:a', data: { text: '@bob hi' }, type: 'message', mentions: ['bob'] });
    socket.receive(
      { id: idOf(socket, 'publish'), type: 'published', channel: 'chat:a', offset: 7, epoch: 'E', publicationId: 'p7', time: 't', n: 5 },
      { ...publication('chat:a', 7), n: 5, meta: { mentions: ['bob'] } },
    );
    await expect(sent).resolves.toMatchObject({ offset: 7, n: 5, duplicate: false });
    expect(got).toEqual([{ n: 5, meta: { mentions: ['bob'] } }]);

    socket.serverClose(1006);
    await expect(herald.publish('chat:a', 'x', { mentions: ['carol'] })).resolves.toMatchObject({ offset: 8, n: 6 });
    expect(JSON.parse(http.calls.find((c) => c.method === 'POST')?.body ?? '{}')).toEqual({ data: 'x', mentions: ['carol'] });
  });
});
