// Summary subscriptions against a real Herald (docs/protocol.md, "Summary subscriptions"): the
// subscribe reply's state, conflated pushes carrying the newest state, no publications for a
// summary channel, unsubscribe, the per-connection limit and `already_subscribed` — and the
// unread tracker counting a channel followed only as a summary.
//
// The server conflates summaries every 250 ms here and allows 3 summary channels per connection.
// Assertions are on counts and order; "nothing arrived" is checked against later pushes of another
// channel that the server can only have sent after the interval in question ran out.

import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelSummary, Herald, HeraldError, SummarySubscription, TransportName, UnreadCount, WebSocketConstructor } from '../../src/index.js';
import { HeraldServer, until, within, jwt, SECRET } from './herald-server.js';
import { client, clientLog, freshChannel, Received } from './recorder.js';

const MAX_SUMMARIES = 3;

let server: HeraldServer;
const clients: Herald[] = [];
const sockets: WebSocket[] = [];

beforeAll(async () => {
  server = await HeraldServer.start({
    args: [
      `--Herald:Auth:HmacSecret=${SECRET}`,
      '--Herald:Transports:SummaryInterval=00:00:00.25',
      `--Herald:Transports:MaxSummaryChannelsPerConnection=${MAX_SUMMARIES}`,
    ],
  });
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  for (const s of sockets.splice(0)) s.terminate();
});

afterAll(async () => {
  await server?.dispose();
});

let users = 0;
const someone = (name: string) => `${name}${process.pid}x${++users}`;

type Frame = { readonly [key: string]: unknown };

/** A client whose WebSocket records every message the server sent it, line by line. */
function recorded(sub: string | null, transport: TransportName = 'ws'): { herald: Herald; frames: Frame[] } {
  const frames: Frame[] = [];
  class RecordingWebSocket extends WebSocket {
    constructor(url: string) {
      super(url);
      this.on('message', (data) => {
        for (const line of String(data).split('\n')) if (line.trim() !== '') frames.push(JSON.parse(line) as Frame);
      });
    }
  }
  const herald = client(server.url, [transport], { WebSocket: RecordingWebSocket as WebSocketConstructor, ...(sub === null ? {} : { token: jwt(sub) }) });
  clients.push(herald);
  return { herald, frames };
}

function user(sub: string | null, transport: TransportName = 'ws'): Herald {
  return recorded(sub, transport).herald;
}

/** The `summary` events of a summary subscription, from now on. */
function summaries(side: SummarySubscription): ChannelSummary[] {
  const seen: ChannelSummary[] = [];
  side.on('summary', (s) => seen.push(s));
  return seen;
}

const untilN = (side: SummarySubscription, n: number) =>
  until(() => (side.summary?.n ?? -1) >= n, 30_000, () => `wanted n=${n} on ${side.channel}, have ${JSON.stringify(side.summary)}`);

/** A raw WebSocket to /v1/ws, for what the SDK never sends. */
async function raw(): Promise<{ send: (request: object) => void; reply: (id: number) => Promise<Frame> }> {
  const socket = new WebSocket(`${server.url.replace('http', 'ws')}/v1/ws`);
  sockets.push(socket);
  const frames: Frame[] = [];
  socket.on('message', (data) => {
    for (const line of String(data).split('\n')) if (line.trim() !== '') frames.push(JSON.parse(line) as Frame);
  });
  await within(new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject)), 15_000, 'the WebSocket did not open');
  return {
    send: (request) => socket.send(JSON.stringify(request)),
    reply: async (id) => {
      await until(() => frames.some((f) => f['id'] === id), 15_000, `no reply to request ${id}`);
      return frames.find((f) => f['id'] === id) ?? {};
    },
  };
}

describe('summary subscriptions', () => {
  it('confirm with the channel’s top and its ordinal, as the first summary', async () => {
    const channel = freshChannel();
    const writer = user(someone('bob'));
    const results = [];
    for (let i = 1; i <= 3; i++) results.push(await writer.publish(channel, { text: `m${i}` }));
    expect(results.map((r) => [r.offset, r.n])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    const epoch = results[0]?.epoch;

    const { herald, frames } = recorded(null);
    const side = herald.subscribeSummary(channel);
    const seen = summaries(side);
    const subscribed: unknown[] = [];
    side.on('subscribed', (e) => subscribed.push(e));
    const state = { channel, epoch, offset: 3, n: 3 };
    await expect(side.ready).resolves.toEqual(state);
    expect(side.summary).toEqual(state);
    expect(side.active).toBe(true);
    expect(subscribed).toEqual([{ ...state, transport: 'ws' }]);
    expect(seen).toEqual([state]);
    expect(frames.find((f) => f['type'] === 'subscribed' && f['channel'] === channel)).toMatchObject({ mode: 'summary', recovered: false, epoch, offset: 3, n: 3 });
    // Not a full subscription: the client holds none for it.
    expect(herald.getSubscription(channel)).toBeUndefined();
    expect(herald.getSummary(channel)).toBe(side);

    // A channel never written: offset 0, nothing counted.
    const empty = herald.subscribeSummary(freshChannel());
    await expect(empty.ready).resolves.toMatchObject({ offset: 0, n: 0 });
  });

  it('push conflated summaries, each newer than the one before, ending with the newest n, time and author', async () => {
    const channel = freshChannel();
    const bob = someone('bob');
    const writer = user(bob);
    const received = new Received(writer.subscribe(channel));
    await received.subscription.ready;

    const { herald, frames } = recorded(null);
    const side = herald.subscribeSummary(channel);
    await side.ready;
    const seen = summaries(side);

    // 30 publications in one go over the writer's WebSocket: far less than the interval apart.
    const published = await Promise.all(Array.from({ length: 30 }, (_, i) => writer.publish(channel, { text: `m${i}` })));
    expect(published.map((p) => p.n).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    await untilN(side, 30);
    await received.count(30);

    const pushed = frames.filter((f) => f['type'] === 'summary' && f['channel'] === channel);
    // Every push reached the application, in order, each newer than the one before.
    expect(seen.map((s) => s.offset)).toEqual(pushed.map((f) => f['offset']));
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]?.offset).toBeGreaterThan(seen[i - 1]?.offset ?? 0);
      expect(seen[i]?.n).toBeGreaterThan(seen[i - 1]?.n ?? 0);
    }
    // Conflated: the full subscriber got all 30, the summary far fewer pushes.
    expect(received.publications).toHaveLength(30);
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(seen.length).toBeLessThan(30);
    const newest = received.publications.at(-1);
    expect(side.summary).toEqual({ channel, epoch: newest?.epoch, offset: 30, n: 30, time: newest?.time, from: bob });
    expect(Number.isFinite(Date.parse(side.summary?.time ?? ''))).toBe(true);
  });

  it('deliver no publication of a summary channel, beside a full subscription that gets every one', async () => {
    const [full, summarized] = [freshChannel(), freshChannel()];
    const writer = user(someone('bob'));
    const { herald, frames } = recorded(null);
    const received = new Received(herald.subscribe(full));
    const side = herald.subscribeSummary(summarized);
    const serverSubscribed: string[] = [];
    herald.on('serverSubscribed', (s) => serverSubscribed.push(s.channel));
    await Promise.all([received.subscription.ready, side.ready]);

    for (let i = 1; i <= 3; i++) {
      await writer.publish(summarized, { text: `s${i}` });
      await writer.publish(full, { text: `f${i}` });
    }
    await received.count(3);
    await untilN(side, 3);

    expect(received.offsets).toEqual([1, 2, 3]);
    const ofSummarized = frames.filter((f) => f['channel'] === summarized).map((f) => f['type']);
    expect(ofSummarized[0]).toBe('subscribed');
    expect(new Set(ofSummarized.slice(1))).toEqual(new Set(['summary']));
    expect(frames.filter((f) => f['type'] === 'publication').map((f) => f['channel'])).toEqual([full, full, full]);
    expect(herald.getSubscription(summarized)).toBeUndefined();
    expect(serverSubscribed).toEqual([]);
  });

  it('stop on unsubscribe: the server answers it, sends nothing after, and the last one leaves the connection idle', async () => {
    const [left, kept] = [freshChannel(), freshChannel()];
    const writer = user(someone('bob'));
    const { herald, frames } = recorded(null);
    const log = clientLog(herald);
    const a = herald.subscribeSummary(left);
    const b = herald.subscribeSummary(kept);
    await Promise.all([a.ready, b.ready]);
    await writer.publish(left, { text: 'before' });
    await untilN(a, 1);
    const seenA = summaries(a);

    a.unsubscribe();
    expect(a.active).toBe(false);
    expect(herald.getSummary(left)).toBeUndefined();
    await until(() => frames.some((f) => f['type'] === 'unsubscribed' && f['channel'] === left), 15_000, 'no unsubscribed reply');
    const after = frames.length;
    a.unsubscribe(); // again: nothing

    await writer.publish(left, { text: 'after 1' });
    await writer.publish(left, { text: 'after 2' });
    // Three pushes of the other channel, each published after the previous arrived: the last was
    // sent at least two intervals after the publications above, so any summary of theirs was too.
    for (let i = 1; i <= 3; i++) {
      await writer.publish(kept, { text: `k${i}` });
      await untilN(b, i);
    }
    expect(frames.slice(after).filter((f) => f['channel'] === left)).toEqual([]);
    expect(seenA).toEqual([]);
    expect(a.summary).toMatchObject({ offset: 1, n: 1 });

    // The last summary subscription gone, the client has nothing to carry: it disconnects.
    b.unsubscribe();
    await until(() => herald.state === 'disconnected', 15_000, () => `still ${herald.state}: ${log.join(' ')}`);
    expect(log.at(-1)).toBe('disconnected:ws:no subscriptions');
  });

  it('subscribe again after a reconnect, from the channel’s state then, and keep pushing', async () => {
    const channel = freshChannel();
    const writer = user(someone('bob'));
    await writer.publish(channel, { text: 'm1' });
    const herald = user(null);
    const side = herald.subscribeSummary(channel);
    const transports: string[] = [];
    side.on('subscribed', (e) => transports.push(`${e.transport}:${e.offset}/${e.n}`));
    await side.ready;
    herald.reconnect();
    await until(() => transports.length === 2, 30_000, () => `subscribed ${transports.join(' ')}`);
    expect(transports).toEqual(['ws:1/1', 'ws:1/1']);
    await writer.publish(channel, { text: 'm2' });
    await untilN(side, 2);
    expect(side.summary).toMatchObject({ offset: 2, n: 2 });
  });

  it(`refuse more than MaxSummaryChannelsPerConnection (${MAX_SUMMARIES}) with too_many_channels, counted apart from full subscriptions`, async () => {
    const herald = user(null);
    const full = herald.subscribe(freshChannel());
    const sides = Array.from({ length: MAX_SUMMARIES + 1 }, () => herald.subscribeSummary(freshChannel()));
    const refused = sides[MAX_SUMMARIES] as SummarySubscription;
    const errors: string[] = [];
    refused.on('error', (e) => errors.push(e.code));
    await full.ready;
    await Promise.all(sides.slice(0, MAX_SUMMARIES).map((s) => s.ready));
    await expect(refused.ready).rejects.toMatchObject({ code: 'too_many_channels' });
    expect(errors).toEqual(['too_many_channels']);
    expect(refused.active).toBe(false);
    expect(herald.getSummary(refused.channel)).toBeUndefined();
    expect(sides.slice(0, MAX_SUMMARIES).every((s) => s.active)).toBe(true);
    // One more full subscription still fits: the limits are apart.
    await herald.subscribe(freshChannel()).ready;

    // One left frees its place: the next one is taken.
    sides[0]?.unsubscribe();
    const next = herald.subscribeSummary(freshChannel());
    await expect(next.ready).resolves.toMatchObject({ offset: 0, n: 0 });
    await herald.publish(next.channel, { text: 'hi' });
    await untilN(next, 1);
  });

  it('already_subscribed: the server follows a channel one way per connection, and the SDK refuses the other before sending', async () => {
    const [c, d] = [freshChannel(), freshChannel()];
    const socket = await raw();
    socket.send({ id: 1, op: 'subscribe', channel: c });
    socket.send({ id: 2, op: 'subscribe', channel: c, mode: 'summary' });
    socket.send({ id: 3, op: 'subscribe', channel: d, mode: 'summary' });
    socket.send({ id: 4, op: 'subscribe', channel: d });
    socket.send({ id: 5, op: 'subscribe', channel: d, mode: 'summary' });
    expect(await socket.reply(1)).toMatchObject({ type: 'subscribed', channel: c, recovered: true });
    expect(await socket.reply(2)).toMatchObject({ type: 'error', code: 'already_subscribed' });
    expect(await socket.reply(3)).toMatchObject({ type: 'subscribed', channel: d, mode: 'summary', recovered: false, offset: 0, n: 0 });
    expect(await socket.reply(4)).toMatchObject({ type: 'error', code: 'already_subscribed' });
    expect(await socket.reply(5)).toMatchObject({ type: 'error', code: 'already_subscribed' });
    // No replay, no presence with a summary.
    socket.send({ id: 6, op: 'subscribe', channel: freshChannel(), mode: 'summary', since: { epoch: 'x', offset: 0 } });
    socket.send({ id: 7, op: 'subscribe', channel: freshChannel(), mode: 'summary', presence: 'count' });
    expect(await socket.reply(6)).toMatchObject({ type: 'error', code: 'bad_request' });
    expect(await socket.reply(7)).toMatchObject({ type: 'error', code: 'bad_request' });

    const herald = user(null);
    const full = herald.subscribe(c);
    const side = herald.subscribeSummary(d);
    const refusal = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        return (error as HeraldError).code;
      }
      return 'accepted';
    };
    expect(refusal(() => herald.subscribeSummary(c))).toBe('already_subscribed');
    expect(refusal(() => herald.subscribe(d))).toBe('already_subscribed');
    expect(refusal(() => herald.subscribeSummary(d))).toBe('already_subscribed');
    await Promise.all([full.ready, side.ready]);
    expect(herald.getSubscription(c)).toBe(full);
    expect(herald.getSummary(d)).toBe(side);
  });
});

describe('the unread tracker fed by summaries', () => {
  it('counts a channel followed only as a summary exactly as messages arrive, and drops to 0 on markRead', async () => {
    const [alice, bob] = [someone('alice'), someone('bob')];
    const channel = freshChannel();
    const writer = user(bob);
    await writer.publish(channel, { text: 'before' });

    const herald = user(alice);
    const tracker = herald.unreadTracker({ user: alice });
    const side = herald.subscribeSummary(channel);
    const changes: UnreadCount[] = [];
    tracker.on('change', (c) => {
      if (c.channel === channel) changes.push(c);
    });
    await Promise.all([side.ready, tracker.ready]);
    await herald.getSubscription(`me:${alice}`)?.ready;
    const exactly = (unread: number) => until(() => tracker.get(channel)?.unread === unread, 30_000, () => `wanted ${unread}, have ${JSON.stringify(tracker.get(channel))}`);
    await exactly(1);

    for (let i = 2; i <= 6; i++) {
      await writer.publish(channel, { text: `m${i}` });
      await exactly(i);
    }
    // Only summaries came: no full subscription, no publication of the channel.
    expect(herald.getSubscription(channel)).toBeUndefined();
    expect(tracker.get(channel)).toMatchObject({ channel, top: 6, n: 6, read: { offset: 0, n: 0 }, unread: 6, mentions: [] });
    expect(changes.map((c) => c.unread)).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await herald.unread([channel])).channels[0]).toMatchObject({ unread: 6, n: 6 });

    // Marked read up to the fourth: two left; then all read: none.
    const partly = await tracker.markRead(channel, { offset: 4 });
    expect(partly.state).toMatchObject({ unread: 2, read: { offset: 4, n: 4 } });
    expect(tracker.get(channel)?.unread).toBe(2);
    await tracker.markRead(channel);
    expect(tracker.get(channel)).toMatchObject({ top: 6, n: 6, read: { offset: 6, n: 6 }, unread: 0 });
    expect(tracker.total).toBe(0);

    // Counting goes on from there, and a read on another device clears it through me:<user>.
    await writer.publish(channel, { text: 'm7' });
    await exactly(1);
    await writer.publish(channel, { text: 'm8' });
    await exactly(2);
    const phone = user(alice, 'sse');
    await phone.markRead(channel);
    await exactly(0);
    expect(changes.map((c) => c.unread)).toEqual([1, 2, 3, 4, 5, 6, 2, 0, 1, 2, 0]);
    expect((await herald.unread([channel])).channels[0]).toMatchObject({ unread: 0, n: 8, read: { offset: 8, n: 8 } });
  });
});
