// The unread tracker wired to a client, with a fake socket and a scripted server: what it loads,
// what moves its counts (messages, summaries, the user's own publishes and marks, syncs from the
// user's other devices), what it asks again, and the change events a badge listens to.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Herald, type ChannelUnread, type HeraldOptions, type UnreadCount, type WebSocketConstructor } from '../../src/index.js';
import { FakeWebSocket, json, scriptedFetch, settle, type FetchCall } from './fakes.js';
import { until } from '../integration/herald-server.js';

const clients: Herald[] = [];

function unread(channel: string, top: number, n: number, readN: number, extra: Partial<ChannelUnread> = {}): ChannelUnread {
  return {
    channel,
    epoch: 'E',
    top,
    n,
    ...(readN === 0 ? {} : { read: { epoch: 'E', offset: readN, n: readN, updatedAt: '2026-01-01T00:00:00Z' } }),
    unread: n - readN,
    mentions: [],
    ...extra,
  };
}

/** A server whose unread answers come from `states` (by channel; the user's own list is `mine`), recording every request. */
function server(states: Record<string, ChannelUnread>, mine = Object.keys(states)) {
  return scriptedFetch((call: FetchCall) => {
    const url = new URL(call.url);
    if (url.pathname === '/v1/me/unread') {
      const asked = url.searchParams.get('channels');
      const channels = asked === null ? mine.map((c) => states[c]) : asked.split(',').map((c) => states[c] ?? { channel: c, epoch: '', top: 0, n: 0, unread: 0, mentions: [] });
      return json(200, { channels, total: 0, mentions: 0 });
    }
    if (url.pathname.endsWith('/read')) {
      const channel = decodeURIComponent(url.pathname.split('/')[3] ?? '');
      const state = states[channel];
      return state === undefined ? json(404, { code: 'not_found' }) : json(200, { changed: true, state: { ...state, read: { epoch: 'E', offset: state.top, n: state.n, updatedAt: 'x' }, unread: 0, mentions: [] } });
    }
    return json(200, { status: 'ok' });
  });
}

function make(fetchImpl: typeof fetch, options: HeraldOptions = {}): Herald {
  const herald = new Herald('http://herald.test/', {
    WebSocket: FakeWebSocket as WebSocketConstructor,
    transports: ['ws'],
    backoff: { initialMs: 1, maxMs: 5 },
    token: 'alice-token',
    fetch: fetchImpl,
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

function message(channel: string, offset: number, n: number, from = 'bob', extra: object = {}): object {
  return { type: 'publication', channel, offset, epoch: 'E', id: `${channel}-${offset}`, time: 't', from, msgType: 'message', n, data: {}, ...extra };
}

function sync(offset: number, channel: string, epoch: string, at: number, n: number): object {
  return { type: 'publication', channel: 'me:alice', offset, epoch: 'M', id: `s${offset}`, time: 't', msgType: 'herald.read', data: { channel, epoch, offset: at, n } };
}

const counts = (changes: UnreadCount[]) => changes.map((c) => `${c.channel}=${c.unread}${c.mentions.length > 0 ? `@${c.mentions.length}` : ''}`);

beforeEach(() => FakeWebSocket.reset());
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

describe('the unread tracker', () => {
  it("loads the user's counts, follows me:<user>, and moves each badge with messages, syncs, the user's own messages and marks", async () => {
    const http = server({ 'chat:a': unread('chat:a', 10, 10, 7), 'chat:b': unread('chat:b', 4, 4, 4) });
    const herald = make(http.fetch);
    herald.subscribe('chat:a', { since: { epoch: 'E', offset: 10 } });
    const tracker = herald.unreadTracker({ user: 'alice' });
    expect(herald.unreadTracker({ user: 'alice' })).toBe(tracker);
    const changes: UnreadCount[] = [];
    tracker.on('change', (c) => changes.push(c));
    await tracker.ready;
    expect(http.calls.map((c) => c.url)).toEqual(['http://herald.test/v1/me/unread']);
    expect(counts(changes.splice(0))).toEqual(['chat:a=3', 'chat:b=0']);
    expect([tracker.total, tracker.mentions]).toEqual([3, 0]);

    const socket = await open();
    expect(socket.requests.map((r) => r['channel'])).toEqual(['chat:a', 'me:alice']);
    socket.subscribed('chat:a', 'E', 10);
    socket.subscribed('me:alice', 'M', 0);
    socket.receive(message('chat:a', 11, 11), message('chat:a', 12, 12, 'bob', { meta: { mentions: ['alice'] } }), message('chat:a', 13, 13));
    expect(counts(changes.splice(0))).toEqual(['chat:a=4', 'chat:a=5@1', 'chat:a=6@1']);
    // Another device read up to 12.
    socket.receive(sync(1, 'chat:a', 'E', 12, 12));
    expect(counts(changes.splice(0))).toEqual(['chat:a=1']);
    // Alice writes: her own message is read, and so is everything before it.
    const published = herald.publish('chat:a', { text: 'hi' });
    await settle();
    socket.receive({ id: socket.requests.at(-1)?.['id'], type: 'published', channel: 'chat:a', offset: 14, epoch: 'E', publicationId: 'p', time: 't', n: 14 });
    await published;
    expect(counts(changes.splice(0))).toEqual(['chat:a=0']);
    socket.receive(message('chat:a', 14, 14, 'alice'), message('chat:a', 15, 15));
    expect(counts(changes.splice(0))).toEqual(['chat:a=1']);
    // Marking read drops the badge before the answer comes.
    const marked = tracker.markRead('chat:a', { offset: 15, epoch: 'E' });
    expect(counts(changes.splice(0))).toEqual(['chat:a=0']);
    await settle();
    expect(socket.requests.at(-1)).toMatchObject({ op: 'read', channel: 'chat:a', offset: 15, epoch: 'E' });
    socket.receive({ id: socket.requests.at(-1)?.['id'], type: 'read', changed: true, state: unread('chat:a', 15, 15, 15) });
    await marked;
    expect(changes).toEqual([]);
    expect(tracker.get('chat:a')).toMatchObject({ unread: 0, read: { offset: 15, n: 15 } });
    expect(http.calls).toHaveLength(1);
  });

  it('loads the channels first seen in one tick with one request, and follows them by summary too', async () => {
    const http = server({ 'chat:x': unread('chat:x', 5, 5, 2), 'chat:y': unread('chat:y', 9, 9, 9) }, []);
    const herald = make(http.fetch);
    const tracker = herald.unreadTracker({ user: 'alice', syncNamespace: null });
    await tracker.ready;
    herald.subscribe('chat:x');
    herald.subscribeSummary('chat:y');
    const socket = await open();
    expect(socket.requests.map((r) => r['channel'])).toEqual(['chat:x', 'chat:y']);
    socket.receive(
      { id: 1, type: 'subscribed', channel: 'chat:x', recovered: true, epoch: 'E', offset: 5, n: 5 },
      { id: 2, type: 'subscribed', channel: 'chat:y', mode: 'summary', recovered: false, epoch: 'E', offset: 9, n: 9 },
    );
    await until(() => tracker.get('chat:y') !== undefined, 5_000, 'chat:y was not loaded');
    expect(http.calls.map((c) => c.url)).toEqual(['http://herald.test/v1/me/unread', 'http://herald.test/v1/me/unread?channels=chat%3Ax%2Cchat%3Ay']);
    expect([tracker.get('chat:x')?.unread, tracker.get('chat:y')?.unread]).toEqual([3, 0]);
    socket.receive({ type: 'summary', channel: 'chat:y', epoch: 'E', offset: 12, n: 11, time: 't', from: 'bob' });
    expect(tracker.get('chat:y')?.unread).toBe(2);
    expect(tracker.total).toBe(5);
  });

  it('asks the server again when a sync goes back (another device marked unread) and takes its marker as is', async () => {
    const states = { 'chat:a': unread('chat:a', 10, 10, 10) };
    const http = server(states);
    const herald = make(http.fetch);
    const tracker = herald.unreadTracker({ user: 'alice' });
    await tracker.ready;
    const socket = await open();
    socket.subscribed('me:alice', 'M', 0);
    states['chat:a'] = unread('chat:a', 10, 10, 4);
    socket.receive(sync(1, 'chat:a', 'E', 4, 4));
    await until(() => tracker.get('chat:a')?.unread === 6, 5_000, () => `unread ${tracker.get('chat:a')?.unread}`);
    expect(http.calls.at(-1)?.url).toBe('http://herald.test/v1/me/unread?channels=chat%3Aa');
  });

  it('reports a failed load, and loads again at the next connection', async () => {
    let fail = true;
    const ok = server({ 'chat:a': unread('chat:a', 3, 3, 1) });
    const http = scriptedFetch((call) => (fail && call.url.includes('/unread') ? json(503, { code: 'unavailable' }) : ok.fetch(call.url, { method: call.method })));
    const herald = make(http.fetch, { backoff: { initialMs: 10, maxMs: 10 } });
    const tracker = herald.unreadTracker({ user: 'alice' });
    const errors: string[] = [];
    tracker.on('error', (e) => errors.push(e.code));
    await expect(tracker.ready).rejects.toMatchObject({ code: 'unavailable' });
    expect(errors).toEqual(['unavailable']);
    fail = false;
    const socket = await open();
    socket.serverClose(1006);
    await until(() => FakeWebSocket.instances.length === 2, 5_000, 'no reconnect');
    await open();
    await until(() => tracker.get('chat:a')?.unread === 2, 5_000, 'not loaded after the reconnect');
  });

  it('needs a user, and stops with close (leaving the personal channel it followed)', async () => {
    const herald = make(server({}).fetch);
    expect(() => herald.unreadTracker({ user: '' })).toThrow(RangeError);
    const tracker = herald.unreadTracker({ user: 'alice' });
    expect(herald.getSubscription('me:alice')?.active).toBe(true);
    tracker.close();
    expect(herald.getSubscription('me:alice')).toBeUndefined();
    expect(herald.unreadTracker({ user: 'alice' })).not.toBe(tracker);
  });
});
