// The presence list (snapshot pages, diffs, gaps, epochs) and its resume position on every
// transport, with a fake socket and a scripted fetch; the real server is in test/integration.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Herald, PresenceList, type HeraldOptions, type PresenceEvent, type WebSocketConstructor } from '../../src/index.js';
import { FakeWebSocket, json, scriptedFetch, settle, streamed, type FetchCall } from './fakes.js';
import { until } from '../integration/herald-server.js';

const alice = { user: 'alice', conns: 1, since: 1 };
const bob = { user: 'bob', conns: 1, since: 2 };
const carol = { user: 'carol', conns: 1, since: 3 };

const state = (recovered: boolean, seq: number, epoch = 'P1') => ({ type: 'presence_state', channel: 'room:a', mode: 'list', recovered, epoch, seq, users: 0, connections: 0 });
const snapshot = (members: object[], seq: number, last = true, epoch = 'P1') => ({
  type: 'presence_snapshot', channel: 'room:a', epoch, seq, members, last, users: members.length, connections: members.length,
});
const diff = (from: number, to: number, change: { join?: object[]; leave?: string[]; update?: object[] }, users: number, epoch = 'P1') => ({
  type: 'presence', channel: 'room:a', epoch, from, to, join: change.join ?? [], leave: change.leave ?? [], update: change.update ?? [], users, connections: users,
});
const users = (list: PresenceList) => list.members.map((m) => m.user);

describe('the presence list', () => {
  it('takes a snapshot of several pages as a whole, then applies diffs as upserts and removals', () => {
    const list = new PresenceList('list');
    expect(list.apply(state(false, 7))).toBeNull();
    expect(list.apply(snapshot([alice], 7, false))).toBeNull();
    expect(users(list), 'nothing shown before the last page').toEqual([]);
    const first = list.apply(snapshot([bob], 7)) as PresenceEvent;
    expect(first.joined.map((m) => m.user)).toEqual(['alice', 'bob']);
    expect(list.position).toEqual({ epoch: 'P1', seq: 7 });

    const joined = list.apply(diff(7, 8, { join: [carol] }, 3)) as PresenceEvent;
    expect(joined.joined).toEqual([carol]);
    expect(joined.users).toBe(3);
    const away = { ...bob, status: 'away' };
    const left = list.apply(diff(8, 9, { leave: ['alice'], update: [away] }, 2)) as PresenceEvent;
    expect(left.left).toEqual([alice]);
    expect(left.updated).toEqual([away]);
    expect(list.members).toEqual([away, carol]);
    expect(list.count).toEqual({ users: 2, connections: 2 });
    expect(list.position).toEqual({ epoch: 'P1', seq: 9 });
  });

  it('drops a diff it already holds, applies one overlapping its position, and calls anything else a gap', () => {
    const list = new PresenceList('list');
    list.apply(state(false, 5));
    list.apply(snapshot([alice, bob], 5));
    // A diff the snapshot was read after: nothing new.
    expect(list.apply(diff(4, 5, { join: [bob] }, 2))).toBeNull();
    // A gap (6 is missing): the list stays as it was, at its position.
    expect(list.apply(diff(6, 7, { join: [carol] }, 3))).toBe('gap');
    expect(list.position).toEqual({ epoch: 'P1', seq: 5 });
    // A diff of another epoch is a gap too: the server numbers anew after losing presence.
    expect(list.apply(diff(5, 6, { join: [carol] }, 3, 'P2'))).toBe('gap');
    expect(users(list)).toEqual(['alice', 'bob']);
    // A batch from before the position to after it converges (upserts and removals).
    list.apply(diff(4, 6, { join: [bob, carol], leave: ['alice'] }, 2));
    expect(users(list)).toEqual(['bob', 'carol']);
    expect(list.position?.seq).toBe(6);
  });

  it('replaces the list on a new snapshot (a new epoch), saying who joined, left and changed', () => {
    const list = new PresenceList('list', { epoch: 'P1', seq: 3 });
    list.apply(state(false, 3));
    list.apply(snapshot([alice, bob], 3));
    const moved = { ...bob, conns: 2 };
    list.apply(state(false, 1, 'P2'));
    const event = list.apply(snapshot([moved, carol], 1, true, 'P2')) as PresenceEvent;
    expect(event.joined).toEqual([carol]);
    expect(event.left).toEqual([alice]);
    expect(event.updated).toEqual([moved]);
    expect(list.position).toEqual({ epoch: 'P2', seq: 1 });
  });

  it('in count mode keeps counts only and emits when they change', () => {
    const list = new PresenceList('count');
    const first = list.apply({ type: 'presence_state', channel: 'room:a', mode: 'count', recovered: false, epoch: '', seq: 0, users: 2, connections: 3 });
    expect(first).toMatchObject({ users: 2, connections: 3, members: [] });
    expect(list.mode).toBe('count');
    expect(list.apply({ type: 'presence_count', channel: 'room:a', users: 2, connections: 3 })).toBeNull();
    expect(list.apply({ type: 'presence_count', channel: 'room:a', users: 1, connections: 1 })).toMatchObject({ users: 1 });
  });
});

const clients: Herald[] = [];
function make(options: HeraldOptions): Herald {
  const herald = new Herald('http://herald.test/', { backoff: { initialMs: 1, maxMs: 5 }, ...options });
  clients.push(herald);
  return herald;
}
beforeEach(() => FakeWebSocket.reset());
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

describe('presence over a WebSocket', () => {
  const options = () => ({ WebSocket: FakeWebSocket as WebSocketConstructor, transports: ['ws' as const], fetch: scriptedFetch(() => json(200, { status: 'ok' })).fetch });

  it('asks for the mode, emits the list, and resumes from the last diff applied on a reconnect', async () => {
    const herald = make(options());
    const room = herald.subscribe('room:a', { presence: 'list' });
    const events: PresenceEvent[] = [];
    room.on('presence', (e) => events.push(e));
    await settle();
    let socket = FakeWebSocket.last;
    socket.open();
    await settle();
    expect(socket.requests[0]).toEqual({ id: 1, op: 'subscribe', channel: 'room:a', presence: 'list' });
    socket.subscribed('room:a', 'E', 0);
    socket.receive(state(false, 4), snapshot([alice], 4), diff(4, 5, { join: [bob] }, 2));
    expect(events.map((e) => e.members.map((m) => m.user))).toEqual([['alice'], ['alice', 'bob']]);
    expect(room.presence?.members.map((m) => m.user)).toEqual(['alice', 'bob']);

    socket.serverClose(1006);
    await until(() => FakeWebSocket.instances.length === 2, 2_000, 'a reconnect');
    socket = FakeWebSocket.last;
    socket.open();
    await settle();
    expect(socket.requests[0]).toMatchObject({ op: 'subscribe', presence: 'list', presenceSince: { epoch: 'P1', seq: 5 } });
    // Resumed: the missed diffs follow, and the list goes on.
    socket.subscribed('room:a', 'E', 0);
    socket.receive(state(true, 5), diff(5, 6, { leave: ['alice'] }, 1));
    expect(room.presence?.members.map((m) => m.user)).toEqual(['bob']);
  });

  it('reconnects from its position when a diff skips one', async () => {
    const herald = make(options());
    const room = herald.subscribe('room:a', { presence: 'list' });
    await settle();
    const socket = FakeWebSocket.last;
    socket.open();
    await settle();
    socket.subscribed('room:a', 'E', 0);
    socket.receive(state(false, 2), snapshot([alice], 2), diff(3, 4, { join: [bob] }, 2));
    expect(socket.closedByClient).toBe(true);
    await until(() => FakeWebSocket.instances.length === 2, 2_000, 'a reconnect');
    FakeWebSocket.last.open();
    await settle();
    expect(FakeWebSocket.last.requests[0]).toMatchObject({ presenceSince: { epoch: 'P1', seq: 2 } });
    expect(room.presence?.members.map((m) => m.user)).toEqual(['alice']);
  });

  it('routes typing and signals to their subscription', async () => {
    const herald = make(options());
    const room = herald.subscribe('room:a');
    const seen: unknown[] = [];
    room.on('typing', (e) => seen.push(e));
    room.on('signal', (e) => seen.push(e));
    await settle();
    const socket = FakeWebSocket.last;
    socket.open();
    await settle();
    socket.subscribed('room:a', 'E', 0);
    socket.receive(
      { type: 'typing', channel: 'room:a', users: ['bob'], total: 1 },
      { type: 'signal', channel: 'room:a', name: 'wave', from: 'bob', data: { hand: 'left' } },
      { type: 'typing', channel: 'room:other', users: ['eve'], total: 1 },
    );
    expect(seen).toEqual([
      { users: ['bob'], total: 1 },
      { channel: 'room:a', name: 'wave', from: 'bob', data: { hand: 'left' } },
    ]);
  });
});

describe('presence over HTTP', () => {
  it('SSE and streaming ask for the highest mode of the channels and resume each list with presenceSince', async () => {
    const streams: ReturnType<typeof streamed>[] = [];
    const { calls, fetch } = scriptedFetch(() => {
      const stream = streamed('application/x-ndjson');
      streams.push(stream);
      return stream.response;
    });
    const herald = make({ fetch, transports: ['stream'] });
    const room = herald.subscribe('room:a', { presence: 'list' });
    herald.subscribe('room:b', { presence: 'count' });
    await until(() => streams.length === 1, 2_000, 'the stream');
    const query = (call: FetchCall) => new URL(call.url).searchParams;
    expect(query(calls[0] as FetchCall).get('presence')).toBe('list');
    expect(query(calls[0] as FetchCall).getAll('presenceSince')).toEqual([]);
    const write = (...messages: object[]) => streams[0]?.write(messages.map((m) => JSON.stringify(m) + '\n').join(''));
    write({ type: 'subscribed', channels: { 'room:a': { recovered: true, epoch: 'E', offset: 0 }, 'room:b': { recovered: true, epoch: 'E', offset: 0 } }, cursor: 'AQ' });
    write(state(false, 9), snapshot([alice, bob], 9));
    await until(() => room.presence?.members.length === 2, 2_000, 'the snapshot');

    // A new channel: the stream reconnects with the list's position.
    herald.subscribe('room:c');
    await until(() => streams.length === 2, 2_000, 'the reconnect');
    expect(query(calls[1] as FetchCall).getAll('presenceSince')).toEqual(['P1.9.room:a']);
  });

  it('long polling reads the presence and typing of each channel entry and sends its positions back', async () => {
    const polls: URL[] = [];
    const entry = (presence: object, typing?: object) => ({ recovered: true, epoch: 'E', offset: 0, presence, ...(typing ? { typing } : {}) });
    const answers = [
      entry({ mode: 'list', recovered: false, epoch: 'P1', seq: 3, members: [alice], users: 1, connections: 1 }),
      entry({ mode: 'list', recovered: true, epoch: 'P1', seq: 4, diffs: [diff(3, 4, { join: [bob] }, 2)], users: 2, connections: 2 }, { users: ['bob'], total: 1, tag: 'a1b2' }),
    ];
    const { fetch } = scriptedFetch(async (call) => {
      const url = new URL(call.url);
      polls.push(url);
      const next = answers.shift();
      if (next === undefined) await new Promise(() => undefined);
      return json(200, { cursor: 'AQ', channels: { 'room:a': next }, publications: [], more: false });
    });
    const herald = make({ fetch, transports: ['longpoll'] });
    const room = herald.subscribe('room:a', { presence: 'list' });
    const typing: unknown[] = [];
    room.on('typing', (e) => typing.push(e));
    await until(() => polls.length === 3, 2_000, 'three polls');
    expect(polls[0]?.searchParams.get('presence')).toBe('list');
    expect(polls[0]?.searchParams.getAll('typing')).toEqual(['0.room:a']);
    expect(polls[1]?.searchParams.getAll('presenceSince')).toEqual(['P1.3.room:a']);
    expect(polls[2]?.searchParams.getAll('presenceSince')).toEqual(['P1.4.room:a']);
    expect(polls[2]?.searchParams.getAll('typing')).toEqual(['a1b2.room:a']);
    expect(room.presence?.members.map((m) => m.user)).toEqual(['alice', 'bob']);
    expect(typing).toEqual([{ users: ['bob'], total: 1 }]);
  });
});
