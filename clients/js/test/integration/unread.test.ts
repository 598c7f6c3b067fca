// Read markers, unread counts, mentions and the sync between a user's devices against a real
// Herald: the SDK's markRead (WebSocket `read` op and HTTP PUT), unread (GET /v1/me/unread),
// publish with mentions, and the unread tracker on two devices of one user.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Herald, HeraldError, TransportName, UnreadTracker } from '../../src/index.js';
import { HeraldServer, until, jwt, SECRET } from './herald-server.js';
import { client, freshChannel, Received } from './recorder.js';

let server: HeraldServer;
const clients: Herald[] = [];

beforeAll(async () => {
  server = await HeraldServer.start({ args: [`--Herald:Auth:HmacSecret=${SECRET}`, '--Herald:Namespaces:chat:Publish=Authenticated'] });
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(async () => {
  await server?.dispose();
});

function user(sub: string | null, transport: TransportName = 'ws'): Herald {
  const herald = client(server.url, [transport], sub === null ? {} : { token: jwt(sub) });
  clients.push(herald);
  return herald;
}

/** A fresh user id: every test has users of its own, so their lists of channels start empty. */
let users = 0;
const someone = (name: string) => `${name}${process.pid}x${++users}`;

async function failure(promise: Promise<unknown>): Promise<HeraldError> {
  return promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: HeraldError) => error,
  );
}

describe.each(['ws', 'sse'] as const)('read markers over %s (the read op on a WebSocket, else PUT)', (transport) => {
  it('counts exactly, moves the marker forward only unless marked unread, and refuses another epoch or offset', async () => {
    const [alice, bob] = [someone('alice'), someone('bob')];
    const channel = freshChannel();
    const writer = user(bob);
    for (let i = 1; i <= 5; i++) await writer.publish(channel, { text: `m${i}` });
    const reader = user(alice, transport);
    // The connection is open, so a WebSocket client sends the read op.
    await reader.subscribe(channel).ready;

    const before = await reader.unread([channel]);
    expect(before.channels).toEqual([{ channel, epoch: expect.any(String), top: 5, n: 5, unread: 5, mentions: [], firstUnread: 1 }]);
    expect(before.total).toBe(5);
    const epoch = before.channels[0]?.epoch ?? '';

    const marked = await reader.markRead(channel, { offset: 3, epoch });
    expect(marked).toMatchObject({ changed: true, state: { top: 5, n: 5, unread: 2, read: { epoch, offset: 3, n: 3 }, firstUnread: 4 } });
    expect((await reader.markRead(channel, { offset: 2 })).changed).toBe(false);
    expect((await reader.markRead(channel, { offset: 1, unread: true })).state).toMatchObject({ unread: 4, read: { offset: 1 } });
    expect((await reader.markRead(channel)).state).toMatchObject({ unread: 0, read: { offset: 5, n: 5 } });
    expect((await failure(reader.markRead(channel, { offset: 2, epoch: 'AAAAAAAA' }))).code).toBe('epoch_mismatch');
    expect((await failure(reader.markRead(channel, { offset: 6 }))).code).toBe('invalid_offset');
    expect((await failure(user(null, transport).markRead(channel))).code).toBe('unauthorized');
  });
});

describe('mentions and ordinals', () => {
  it('carries n on publications, publish answers and history, and mentions to the mentioned user', async () => {
    const [alice, bob] = [someone('alice'), someone('bob')];
    const channel = freshChannel();
    const reader = user(alice);
    const received = new Received(reader.subscribe(channel));
    await received.subscription.ready;
    const socketWriter = user(bob, 'ws');
    const httpWriter = user(bob, 'sse');
    await socketWriter.subscribe(channel).ready; // its WebSocket is open: the publish goes over it
    const first = await socketWriter.publish(channel, { text: `hi @${alice}` }, { mentions: [alice] });
    const second = await httpWriter.publish(channel, { text: 'no mention' });
    const third = await httpWriter.publish(channel, { text: `again @${alice}` }, { mentions: [alice, bob] });
    expect([first.n, second.n, third.n]).toEqual([1, 2, 3]);
    await received.count(3);
    expect(received.publications.map((p) => [p.n, p.meta?.mentions ?? null])).toEqual([
      [1, [alice]],
      [2, null],
      [3, [alice, bob]],
    ]);
    const page = await reader.history(channel);
    expect(page.n).toBe(3);
    expect(page.publications.map((p) => p.n)).toEqual([1, 2, 3]);

    const counts = await reader.unread([channel]);
    expect(counts).toMatchObject({ total: 3, mentions: 2, channels: [{ unread: 3, mentions: [first.offset, third.offset] }] });
    // Publishing read the publisher's own channel; bob's mention of himself is none.
    expect((await httpWriter.unread([channel])).channels[0]).toMatchObject({ unread: 0, mentions: [] });
    // Without channels: every channel of the user's (here the one mentioned in).
    expect((await reader.unread()).channels.map((c) => c.channel)).toEqual([channel]);
  });
});

describe('the unread tracker on two devices of one user', () => {
  async function device(alice: string, transport: TransportName, channel: string): Promise<UnreadTracker> {
    const herald = user(alice, transport);
    const tracker = herald.unreadTracker({ user: alice });
    await Promise.all([herald.subscribe(channel).ready, tracker.ready]);
    await herald.getSubscription(`me:${alice}`)?.ready;
    return tracker;
  }

  it('counts what others write on each device, and a read on one clears the other through me:<user>', async () => {
    const [alice, bob] = [someone('alice'), someone('bob')];
    const channel = freshChannel();
    const writer = user(bob);
    await writer.publish(channel, { text: 'before' });
    const phone = await device(alice, 'ws', channel);
    const desktop = await device(alice, 'sse', channel);
    const exactly = (tracker: UnreadTracker, unread: number, mentions: number) =>
      until(() => tracker.get(channel)?.unread === unread && tracker.get(channel)?.mentions.length === mentions, 30_000, () => `wanted ${unread}/${mentions}, have ${JSON.stringify(tracker.get(channel))}`);
    await exactly(phone, 1, 0);
    await exactly(desktop, 1, 0);

    for (let i = 0; i < 4; i++) await writer.publish(channel, { text: `m${i}` }, i === 2 ? { mentions: [alice] } : {});
    await exactly(phone, 5, 1);
    await exactly(desktop, 5, 1);
    expect(desktop.total).toBe(5);

    // The phone reads up to the third message: the desktop hears it from the sync.
    await phone.markRead(channel, { offset: 3 });
    await exactly(phone, 2, 1);
    await exactly(desktop, 2, 1);
    // The desktop writes: its own message reads everything before it, on both devices.
    const herald = clients.find((c) => c.transport === 'sse' && c.getSubscription(channel) !== undefined);
    await herald?.publish(channel, { text: 'read it all' });
    await exactly(desktop, 0, 0);
    await exactly(phone, 0, 0);
    await writer.publish(channel, { text: 'one more' });
    await exactly(phone, 1, 0);
    await exactly(desktop, 1, 0);
    // Both agree with the server.
    expect((await herald?.unread([channel]))?.channels[0]).toMatchObject({ unread: 1, mentions: [] });
  });
});
