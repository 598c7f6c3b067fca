// Receipts on the client: the tracker's merge rules (a snapshot replaces, a diff moves each marker
// forward, another epoch replaces), the delivered marker coalesced per channel (fake timers), and
// what the client asks for and sends on each transport, with a fake socket and a scripted fetch.
// The real server is in test/integration/receipts.test.ts.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Herald, ReceiptTracker, type HeraldOptions, type ReceiptsEvent, type WebSocketConstructor } from '../../src/index.js';
import { DeliveredSender } from '../../src/receipts.js';
import { FakeWebSocket, json, publication, scriptedFetch, settle, type FetchCall } from './fakes.js';
import { HeraldError } from '../../src/errors.js';

const at = (offset: number, epoch = 'E1') => ({ epoch, offset, n: offset, updatedAt: '2026-12-03T09:10:00.000Z' });
const snapshot = (members: object, extra: object = {}) => ({ type: 'receipts', channel: 'dm:alice~bob', snapshot: true, members, ...extra });
const diff = (members: object) => ({ type: 'receipts', channel: 'dm:alice~bob', members });
const DM = 'dm:alice~bob';

describe('the receipt tracker', () => {
  it('takes a snapshot as a whole and answers who has seen and received an offset', () => {
    const tracker = new ReceiptTracker();
    const events: ReceiptsEvent[] = [];
    tracker.on('change', (e) => events.push(e));
    expect(tracker.get(DM)).toBeUndefined();
    const event = tracker.apply(snapshot({ alice: { seen: at(3) }, bob: { seen: at(2), delivered: at(3) }, carol: {} }));
    expect(event?.changed).toEqual(['alice', 'bob', 'carol']);
    expect(events).toHaveLength(1);
    expect(tracker.get(DM)).toEqual({ channel: DM, members: { alice: { seen: at(3) }, bob: { seen: at(2), delivered: at(3) }, carol: {} } });
    expect(tracker.seenBy(DM, 3)).toEqual(['alice']);
    expect(tracker.seenBy(DM, 2)).toEqual(['alice', 'bob']);
    expect(tracker.deliveredTo(DM, 3)).toEqual(['bob']);
    expect(tracker.deliveredTo(DM, 4)).toEqual([]);
    expect(tracker.seenBy('dm:other~one', 1)).toEqual([]);
  });

  it('moves each marker of a diff forward only, per member and marker, and keeps what the diff leaves out', () => {
    const tracker = new ReceiptTracker();
    tracker.apply(snapshot({ alice: { seen: at(5) }, bob: { seen: at(2), delivered: at(4) } }));
    // Bob's seen moves; his delivered, absent from the diff, stays.
    expect(tracker.apply(diff({ bob: { seen: at(4) } }))?.changed).toEqual(['bob']);
    expect(tracker.get(DM)?.members['bob']).toEqual({ seen: at(4), delivered: at(4) });
    // An older marker (a late diff) is ignored: nothing changed, no event.
    expect(tracker.apply(diff({ bob: { seen: at(3), delivered: at(1) } }))).toBeNull();
    expect(tracker.get(DM)?.members['bob']).toEqual({ seen: at(4), delivered: at(4) });
    // A member the snapshot did not list joins.
    expect(tracker.apply(diff({ carol: { delivered: at(5) } }))?.changed).toEqual(['carol']);
    expect(tracker.deliveredTo(DM, 5)).toEqual(['carol']);
  });

  it('lets another epoch replace a marker, and filters by the message epoch when asked', () => {
    const tracker = new ReceiptTracker();
    tracker.apply(snapshot({ bob: { seen: at(9, 'E1') } }));
    // The history was reset: bob's first read in the new epoch is at 1, lower but newer.
    tracker.apply(diff({ bob: { seen: at(1, 'E2') } }));
    expect(tracker.get(DM)?.members['bob']?.seen).toEqual(at(1, 'E2'));
    expect(tracker.seenBy(DM, 1, 'E2')).toEqual(['bob']);
    expect(tracker.seenBy(DM, 1, 'E1')).toEqual([]);
    expect(tracker.seenBy(DM, 1)).toEqual(['bob']);
  });

  it('replaces everything on a new snapshot (a reconnect), saying who changed or left', () => {
    const tracker = new ReceiptTracker();
    tracker.apply(snapshot({ alice: { seen: at(3) }, bob: { seen: at(3) } }));
    const event = tracker.apply(snapshot({ alice: { seen: at(3) }, carol: { seen: at(1) } }));
    expect([...(event?.changed ?? [])].sort()).toEqual(['bob', 'carol']);
    expect(Object.keys(tracker.get(DM)?.members ?? {})).toEqual(['alice', 'carol']);
    // A snapshot is always an event, even when nothing differs: the subscription (re)started.
    expect(tracker.apply(snapshot({ alice: { seen: at(3) }, carol: { seen: at(1) } }))?.changed).toEqual([]);
  });

  it('holds a channel that shows none as off, with the reason', () => {
    const tracker = new ReceiptTracker();
    tracker.apply(snapshot({ alice: { seen: at(1) } }));
    const event = tracker.apply(snapshot({}, { off: true, reason: 'too_many_members' }));
    expect(event).toMatchObject({ off: 'too_many_members', members: {}, changed: ['alice'] });
    expect(tracker.seenBy(DM, 1)).toEqual([]);
    tracker.forget(DM);
    expect(tracker.get(DM)).toBeUndefined();
  });
});

describe('the delivered marker', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function sender() {
    const sent: string[] = [];
    let fail: Error | null = null;
    const delivered = new DeliveredSender(async (channel, p) => {
      sent.push(`${channel}@${p.epoch}:${p.offset}`);
      if (fail !== null) throw fail;
    });
    return { delivered, sent, failWith: (error: Error | null) => (fail = error) };
  }

  it('sends the first at once, then the newest at most once a second per channel', () => {
    const { delivered, sent } = sender();
    delivered.handed(DM, { epoch: 'E', offset: 1 });
    expect(sent).toEqual([`${DM}@E:1`]);
    delivered.handed(DM, { epoch: 'E', offset: 2 });
    delivered.handed(DM, { epoch: 'E', offset: 3 });
    // Another channel has its own second.
    delivered.handed('dm:alice~carol', { epoch: 'F', offset: 7 });
    expect(sent).toEqual([`${DM}@E:1`, 'dm:alice~carol@F:7']);
    vi.advanceTimersByTime(999);
    expect(sent).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([`${DM}@E:1`, 'dm:alice~carol@F:7', `${DM}@E:3`]);
    // Nothing new: the second after sends nothing, and the next one goes at once again.
    vi.advanceTimersByTime(1_000);
    expect(sent).toHaveLength(3);
    vi.advanceTimersByTime(5_000);
    delivered.handed(DM, { epoch: 'E', offset: 4 });
    expect(sent.at(-1)).toBe(`${DM}@E:4`);
  });

  it('never sends a position it sent already, but one of another epoch goes', () => {
    const { delivered, sent } = sender();
    delivered.handed(DM, { epoch: 'E', offset: 5 });
    vi.advanceTimersByTime(2_000);
    delivered.handed(DM, { epoch: 'E', offset: 5 });
    delivered.handed(DM, { epoch: 'E', offset: 4 });
    expect(sent).toEqual([`${DM}@E:5`]);
    delivered.handed(DM, { epoch: 'E2', offset: 1 });
    expect(sent).toEqual([`${DM}@E:5`, `${DM}@E2:1`]);
  });

  it('swallows failures, and stops a channel after a final refusal or when told its receipts are off', async () => {
    const { delivered, sent, failWith } = sender();
    failWith(new HeraldError('network', 'down'));
    delivered.handed(DM, { epoch: 'E', offset: 1 });
    await vi.advanceTimersByTimeAsync(1_000);
    delivered.handed(DM, { epoch: 'E', offset: 2 });
    expect(sent).toHaveLength(2);
    failWith(new HeraldError('receipts_disabled', 'off', 403));
    await vi.advanceTimersByTimeAsync(1_000);
    delivered.handed(DM, { epoch: 'E', offset: 3 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sent).toEqual([`${DM}@E:1`, `${DM}@E:2`, `${DM}@E:3`]);
    delivered.handed(DM, { epoch: 'E', offset: 4 });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(sent).toHaveLength(3);
    // Forgotten (unsubscribed), the channel starts over.
    delivered.forget(DM);
    failWith(null);
    delivered.handed(DM, { epoch: 'E', offset: 5 });
    expect(sent).toHaveLength(4);
    delivered.stop('dm:x~y');
    delivered.handed('dm:x~y', { epoch: 'E', offset: 1 });
    expect(sent).toHaveLength(4);
    delivered.close();
  });
});

function jwt(sub: string): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub })}.signature`;
}

const clients: Herald[] = [];
function make(options: HeraldOptions): Herald {
  const herald = new Herald('http://herald.test/', { backoff: { initialMs: 1, maxMs: 5 }, token: jwt('bob'), ...options });
  clients.push(herald);
  return herald;
}

describe('receipts through the client', () => {
  beforeEach(() => FakeWebSocket.reset());
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  it('asks for receipts on the WebSocket, emits them, and marks what it delivers — not the user’s own messages', async () => {
    const herald = make({ WebSocket: FakeWebSocket as WebSocketConstructor, transports: ['ws'], fetch: scriptedFetch(() => json(200, {})).fetch });
    const dm = herald.subscribe(DM, { receipts: true });
    const room = herald.subscribe('chat:a');
    const events: ReceiptsEvent[] = [];
    dm.on('receipts', (e) => events.push(e));
    await settle();
    const socket = FakeWebSocket.last;
    socket.open();
    await settle();
    expect(socket.requests.slice(0, 2)).toEqual([
      { id: 1, op: 'subscribe', channel: DM, receipts: true },
      { id: 2, op: 'subscribe', channel: 'chat:a' },
    ]);
    socket.subscribed(DM, 'E', 0);
    socket.subscribed('chat:a', 'E', 0);
    socket.receive(snapshot({ alice: { seen: at(0, 'E') } }), diff({ alice: { seen: at(1, 'E') } }));
    expect(events.map((e) => e.members['alice']?.seen?.offset)).toEqual([0, 1]);
    expect(herald.receipts.seenBy(DM, 1)).toEqual(['alice']);

    // Bob's own message: nothing to mark. Alice's: marked at once over the socket.
    socket.receive({ ...publication(DM, 1, 'E'), from: 'bob' }, publication('chat:a', 1, 'E'));
    await settle();
    expect(socket.requests.filter((r) => r['op'] === 'delivered')).toEqual([]);
    socket.receive({ ...publication(DM, 2, 'E'), from: 'alice' });
    await settle();
    const delivered = socket.requests.filter((r) => r['op'] === 'delivered');
    expect(delivered).toEqual([{ id: expect.any(Number), op: 'delivered', channel: DM, epoch: 'E', offset: 2 }]);
    // Its answer, and a refusal of another, change nothing the application sees.
    socket.receive({ id: delivered[0]?.['id'], type: 'delivered', channel: DM, changed: true });

    dm.unsubscribe();
    expect(herald.receipts.get(DM)).toBeUndefined();
  });

  it('asks with receipts=true on SSE and streaming, never on a poll, which reads them instead', async () => {
    const calls: FetchCall[] = [];
    let polls = 0;
    const fetchImpl = scriptedFetch((call) => {
      calls.push(call);
      if (call.url.includes('/receipts')) return json(200, { channel: DM, members: { alice: { seen: at(2, 'E') } } });
      if (call.url.includes('/delivered')) return json(200, { channel: DM, changed: true });
      polls++;
      // The first answer confirms; the second brings alice's message; then nothing more.
      if (polls === 1) return json(200, { channels: { [DM]: { recovered: true, epoch: 'E', offset: 1 } }, publications: [] });
      if (polls === 2) return json(200, { channels: { [DM]: { recovered: true, epoch: 'E', offset: 2 } }, publications: [{ ...publication(DM, 2, 'E'), from: 'alice' }] });
      return new Promise<Response>(() => undefined);
    });
    const herald = make({ transports: ['poll'], pollIntervalMs: 1, fetch: fetchImpl.fetch });
    const dm = herald.subscribe(DM, { receipts: true });
    const events: ReceiptsEvent[] = [];
    dm.on('receipts', (e) => events.push(e));
    await vi.waitFor(() => expect(calls.filter((c) => c.url.includes('/receipts'))).toHaveLength(2), { timeout: 2_000 });
    const poll = calls.find((c) => c.url.includes('/v1/poll'));
    expect(poll?.url).not.toContain('receipts');
    expect(events.at(-1)?.members['alice']?.seen?.offset).toBe(2);
    await vi.waitFor(() => expect(calls.filter((c) => c.url.includes('/delivered'))).toHaveLength(1), { timeout: 2_000 });
    const put = calls.find((c) => c.url.includes('/delivered'));
    expect([put?.method, put?.url, JSON.parse(put?.body ?? '{}')]).toEqual(['PUT', `http://herald.test/v1/channels/${DM}/delivered`, { offset: 2, epoch: 'E' }]);

    const urls: string[] = [];
    const recording = scriptedFetch((call) => {
      urls.push(call.url);
      return new Promise<Response>(() => undefined);
    }).fetch;
    make({ transports: ['sse'], EventSource: null, fetch: recording }).subscribe(DM, { receipts: true });
    const stream = make({ transports: ['stream'], fetch: recording });
    stream.subscribe('chat:a');
    stream.subscribe(DM, { receipts: true });
    await settle();
    expect(urls).toEqual([
      `http://herald.test/v1/sse?channel=dm%3Aalice~bob&receipts=true`,
      `http://herald.test/v1/stream?channel=chat%3Aa&channel=dm%3Aalice~bob&receipts=true`,
    ]);
  });

  it('reads receipts for any channel on demand, and answers a channel without them as off', async () => {
    const herald = make({
      transports: ['ws'],
      WebSocket: FakeWebSocket as WebSocketConstructor,
      fetch: scriptedFetch((call) =>
        call.url.includes('chat:a') ? json(403, { code: 'receipts_disabled', detail: 'off' }) : json(200, { channel: DM, members: { bob: { delivered: at(4) } } }),
      ).fetch,
    });
    expect(await herald.readReceipts(DM)).toMatchObject({ channel: DM, members: { bob: { delivered: at(4) } } });
    expect(await herald.readReceipts('chat:a')).toMatchObject({ channel: 'chat:a', off: 'disabled', members: {} });
    // Not followed with receipts: answered, not kept.
    expect(herald.receipts.get(DM)).toBeUndefined();
  });
});
