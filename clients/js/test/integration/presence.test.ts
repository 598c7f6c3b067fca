// Presence, typing and signals against a real herald, on every transport: a watcher on the
// transport under test and a WebSocket peer, with user tokens.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Herald, PresenceEvent, SignalEvent, TransportName, TypingEvent } from '../../src/index.js';
import { HeraldServer, until, jwt, SECRET } from './herald-server.js';
import { client } from './recorder.js';

const TRANSPORTS: readonly TransportName[] = ['ws', 'sse', 'stream', 'longpoll', 'poll'];

let server: HeraldServer;
const clients: Herald[] = [];
let rooms = 0;

beforeAll(async () => {
  server = await HeraldServer.start({
    args: [
      `--Herald:Auth:HmacSecret=${SECRET}`,
      '--Herald:Namespaces:room:Presence=List',
      '--Herald:Namespaces:room:Typing=true',
      '--Herald:Namespaces:room:Signals=true',
      '--Herald:Namespaces:room:Publish=Authenticated',
      '--Herald:Namespaces:room:PresenceLeaveGrace=00:00:01',
      '--Herald:Namespaces:room:PresenceDiffInterval=00:00:00',
      '--Herald:Namespaces:room:TypingResend=00:00:01',
      '--Herald:Namespaces:room:TypingIdle=00:00:00.500',
      '--Herald:Namespaces:room:TypingExpire=00:00:03',
    ],
  });
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(async () => {
  await server?.dispose();
});

const urls: string[] = [];
const recording: typeof fetch = (input, init) => {
  urls.push(String(input));
  return fetch(input, init);
};

function user(name: string, transport: TransportName): Herald {
  const herald = client(server.url, [transport], { token: jwt(name), fetch: recording });
  clients.push(herald);
  return herald;
}

describe.each(TRANSPORTS)('a watcher over %s', (transport) => {
  it('sees who is online, who types and their signals, and keeps its list across a reconnect', async () => {
    const channel = `room:presence-${transport}-${++rooms}`;
    const alice = user('alice', transport);
    const room = alice.subscribe(channel, { presence: 'list' });
    const events: PresenceEvent[] = [];
    const typing: TypingEvent[] = [];
    const signals: SignalEvent[] = [];
    room.on('presence', (e) => events.push(e));
    room.on('typing', (e) => typing.push(e));
    room.on('signal', (e) => signals.push(e));
    const online = () => room.presence?.members.map((m) => m.user).join(',') ?? '';
    await until(() => online() === 'alice', 30_000, () => `alice listed, got '${online()}'`);

    const bob = user('bob', 'ws');
    const bobRoom = bob.subscribe(channel, { presence: 'enter' });
    await bobRoom.ready;
    await until(() => online() === 'alice,bob', 30_000, () => `bob listed, got '${online()}'`);
    expect(events.some((e) => e.joined.some((m) => m.user === 'bob'))).toBe(true);
    expect(room.presence?.count.users).toBe(2);

    // Typing shows and ends with bob's message (the server clears a typer at their publication).
    bobRoom.typing();
    await until(() => typing.at(-1)?.users.join() === 'bob', 30_000, () => `bob typing, got ${JSON.stringify(typing)}`);
    await bob.publish(channel, { text: 'hi' });
    await until(() => typing.at(-1)?.total === 0, 30_000, () => `typing over, got ${JSON.stringify(typing)}`);

    // alice types over her transport (the WebSocket op, or POST with her token): bob sees it, and it stops by itself.
    const bobSees: TypingEvent[] = [];
    bobRoom.on('typing', (e) => bobSees.push(e));
    room.typing();
    await until(() => bobSees.at(-1)?.users.join() === 'alice', 30_000, () => `alice typing, got ${JSON.stringify(bobSees)}`);
    await until(() => bobSees.at(-1)?.total === 0, 30_000, () => `alice stopped after idle, got ${JSON.stringify(bobSees)}`);

    // Signals reach push transports only (polls read the log).
    await bobRoom.signal('wave', { hand: 'left' });
    if (transport !== 'longpoll' && transport !== 'poll') {
      await until(() => signals.length === 1, 30_000, 'the signal');
      expect(signals[0]).toEqual({ channel, name: 'wave', from: 'bob', data: { hand: 'left' } });
    }

    // A reconnect resumes the list from its position; bob's leave is a diff after it.
    const before = room.presence?.position;
    const sent = urls.length;
    alice.reconnect();
    bobRoom.unsubscribe();
    await until(() => online() === 'alice', 30_000, () => `bob left, got '${online()}'`);
    expect(room.presence?.position?.epoch).toBe(before?.epoch);
    expect(room.presence?.position?.seq).toBeGreaterThan(before?.seq ?? Infinity);
    expect(events.some((e) => e.left.some((m) => m.user === 'bob'))).toBe(true);
    if (transport !== 'ws') {
      const resumed = urls.slice(sent).find((u) => u.includes('presenceSince='));
      expect(resumed, 'the reconnect sends the list position').toContain(encodeURIComponent(`${before?.epoch}.`));
    }
  });
});

describe('direct channels', () => {
  it('the canonical name is the one the server gives, and its members may use it', async () => {
    const alice = user('alice', 'ws');
    const answer = await alice.direct(['bob', 'alice']);
    expect(answer).toEqual({ channel: 'dm:alice~bob', members: ['alice', 'bob'], hashed: false });
    const dm = alice.subscribe(answer.channel);
    await dm.ready;
    const hashed = await alice.direct(['alice', 'bob smith']);
    expect(hashed.hashed).toBe(true);
    expect(hashed.channel).toMatch(/^dm:=/);
  });
});
