// SharedHerald with several tabs in one process: the leader tab elected with (fake) Web Locks
// over Node's BroadcastChannel, the SharedWorker made of a MessageChannel and the worker's own
// code, and one fake socket per connection. What must hold: one connection for all tabs,
// channels reference-counted across them, and every tab sees every publication once, in order,
// when the leader closes or crashes mid-stream.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HeraldOptions, Publication, Subscription, WebSocketConstructor } from '../../src/index.js';
import { SharedHerald, type ShareOptions } from '../../src/shared/index.js';
import { until } from '../integration/herald-server.js';
import { FakeWebSocket, json, publication, scriptedFetch, settle } from './fakes.js';
import { FakeLocks, FakeWorkers, TabChannels, tabEnvironment } from './share-fakes.js';

const WAIT_MS = 10_000;
// Publishes over HTTP (while no socket is open) are answered as repeats of one already committed.
const http = scriptedFetch((call) =>
  call.method === 'POST'
    ? json(200, { channel: 'chat:x', offset: 1, epoch: 'E', id: 'p1', time: 't' }, { 'Idempotent-Replayed': 'true' })
    : json(200, { status: 'ok' }),
);
const OPTIONS: HeraldOptions = {
  WebSocket: FakeWebSocket as WebSocketConstructor,
  transports: ['ws'],
  backoff: { initialMs: 1, maxMs: 5 },
  fetch: http.fetch,
};

interface Tab {
  readonly id: string;
  readonly herald: SharedHerald;
  readonly channels: TabChannels;
}

let browser: { locks: FakeLocks; workers: FakeWorkers; tabs: Tab[]; name: string };

beforeEach(() => {
  FakeWebSocket.reset();
  http.calls.length = 0;
  const locks = new FakeLocks();
  browser = { locks, workers: new FakeWorkers(locks), tabs: [], name: `test-${Math.random()}` };
});

afterEach(() => {
  for (const tab of browser.tabs) {
    tab.herald.close();
    tab.channels.closeAll();
  }
  browser.workers.closeAll();
  vi.unstubAllGlobals();
});

function openTab(id: string, options: HeraldOptions & { share?: ShareOptions } = {}): Tab {
  const channels = new TabChannels();
  const herald = new SharedHerald('http://herald.test', { ...OPTIONS, ...options, share: { name: browser.name, ...options.share } }, tabEnvironment(id, browser.locks, channels, browser.workers));
  const tab = { id, herald, channels };
  browser.tabs.push(tab);
  return tab;
}

/** The tab is gone without a word, as a crashed or killed page: its locks and channels vanish. */
function crash(tab: Tab): void {
  browser.locks.kill(tab.id);
  tab.channels.closeAll();
}

function record(subscription: Subscription<unknown>): number[] {
  const offsets: number[] = [];
  subscription.on('publication', (p: Publication) => offsets.push(p.offset));
  return offsets;
}

function ops(socket: FakeWebSocket, op: string): Record<string, unknown>[] {
  return socket.requests.filter((r) => r['op'] === op);
}

async function socketCount(n: number): Promise<FakeWebSocket> {
  await until(() => FakeWebSocket.instances.length === n, WAIT_MS, `${n} sockets (there are ${FakeWebSocket.instances.length})`);
  return FakeWebSocket.last;
}

/** Opens the socket and answers its subscribe to `channel` as the server would. */
async function serve(socket: FakeWebSocket, channel: string, epoch: string, offset: number): Promise<Record<string, unknown>> {
  socket.open();
  await until(() => ops(socket, 'subscribe').some((r) => r['channel'] === channel), WAIT_MS, `a subscribe to ${channel}`);
  socket.subscribed(channel, epoch, offset);
  return ops(socket, 'subscribe').find((r) => r['channel'] === channel) as Record<string, unknown>;
}

const upTo = (n: number, from = 1) => Array.from({ length: n - from + 1 }, (_, i) => from + i);

describe('SharedHerald with a leader tab', () => {
  it('elects one leader whose connection carries the channel once for every tab', async () => {
    const tabs = ['a', 'b', 'c'].map((id) => openTab(id));
    const seen = tabs.map((t) => record(t.herald.subscribe('chat:x')));
    const socket = await socketCount(1);
    await serve(socket, 'chat:x', 'E', 0);
    await Promise.all(tabs.map((t) => t.herald.getSubscription('chat:x')?.ready));
    socket.receive(publication('chat:x', 1), publication('chat:x', 2), publication('chat:x', 3));
    await until(() => seen.every((s) => s.length === 3), WAIT_MS, () => `every tab to see 3: ${JSON.stringify(seen)}`);
    expect(seen).toEqual([upTo(3), upTo(3), upTo(3)]);
    expect(tabs.map((t) => t.herald.role)).toEqual(['leader', 'follower', 'follower']);
    expect(tabs.map((t) => t.herald.state)).toEqual(['connected', 'connected', 'connected']);
    expect(ops(socket, 'subscribe')).toHaveLength(1);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  for (const ending of ['closes', 'crashes'] as const) {
    it(`when the leader ${ending}, the next tab resumes from the tabs' position: no gap, no duplicate`, async () => {
      const tabs = ['a', 'b', 'c'].map((id) => openTab(id));
      const seen = tabs.map((t) => record(t.herald.subscribe('chat:x')));
      const first = await socketCount(1);
      await serve(first, 'chat:x', 'E', 0);
      first.receive(publication('chat:x', 1), publication('chat:x', 2), publication('chat:x', 3));
      await until(() => seen.every((s) => s.length === 3), WAIT_MS, 'every tab to see 3');

      const [leader, b, c] = tabs as [Tab, Tab, Tab];
      const disconnected: string[] = [];
      c.herald.on('disconnected', (e) => disconnected.push(e.reason));
      if (ending === 'closes') leader.herald.close();
      else crash(leader);
      const second = await socketCount(2);
      const resumed = await serve(second, 'chat:x', 'E', 5);
      expect(resumed['since']).toEqual({ epoch: 'E', offset: 3 });
      // The server replays what was published while no tab held the connection, then goes live.
      second.receive(publication('chat:x', 4), publication('chat:x', 5), publication('chat:x', 6));
      await until(() => seen[1]?.length === 6 && seen[2]?.length === 6, WAIT_MS, () => `the others to see 6: ${JSON.stringify(seen)}`);
      await settle(10);
      expect([seen[1], seen[2]]).toEqual([upTo(6), upTo(6)]);
      expect([b.herald.role, c.herald.role]).toEqual(['leader', 'follower']);
      expect(disconnected).toEqual(['the tab holding the connection left']);
      expect(c.herald.state).toBe('connected');
      expect(ops(second, 'subscribe')).toHaveLength(1);
    });
  }

  it('catches up a tab that joins behind the connection from history, then live', async () => {
    const [a] = [openTab('a')];
    const seenA = record(a.herald.subscribe('chat:x'));
    const socket = await socketCount(1);
    await serve(socket, 'chat:x', 'E', 0);
    socket.receive(publication('chat:x', 1), publication('chat:x', 2), publication('chat:x', 3));
    await until(() => seenA.length === 3, WAIT_MS, 'a to see 3');

    const b = openTab('b');
    const late = b.herald.subscribe('chat:x', { since: { epoch: 'E', offset: 1 } });
    const events: string[] = [];
    late.on('subscribed', (e) => events.push(`subscribed ${e.recovered}`));
    late.on('recovered', (e) => events.push(`recovered ${e.offset}`));
    const seenB = record(late);
    await until(() => ops(socket, 'history').length === 1, WAIT_MS, 'a history read');
    const read = ops(socket, 'history')[0] as Record<string, unknown>;
    expect(read).toMatchObject({ channel: 'chat:x', after: 1 });
    // Published while the history read is on its way: it waits behind the read.
    socket.receive(publication('chat:x', 4));
    socket.receive({ id: read['id'], type: 'history', channel: 'chat:x', epoch: 'E', top: 4, first: 1, publications: [2, 3, 4].map((n) => publication('chat:x', n)) });
    socket.receive(publication('chat:x', 5));
    await until(() => seenB.length === 4 && seenA.length === 5, WAIT_MS, () => `b to see 2..5: ${JSON.stringify(seenB)}`);
    expect(seenB).toEqual([2, 3, 4, 5]);
    expect(events).toEqual(['subscribed true', 'recovered 1']);
    expect(ops(socket, 'subscribe')).toHaveLength(1);
  });

  it("sends a follower's publish over the leader's socket, and again with the same key when the leader closes first", async () => {
    const [a, b] = [openTab('a'), openTab('b')];
    a.herald.subscribe('chat:x');
    b.herald.subscribe('chat:x');
    const first = await socketCount(1);
    await serve(first, 'chat:x', 'E', 0);
    await b.herald.getSubscription('chat:x')?.ready;

    const answered = b.herald.publish('chat:x', { text: 'hi' }, { type: 'note' });
    await until(() => ops(first, 'publish').length === 1, WAIT_MS, 'the publish on the socket');
    const sent = ops(first, 'publish')[0] as Record<string, unknown>;
    expect(sent).toMatchObject({ channel: 'chat:x', data: { text: 'hi' }, type: 'note' });
    a.herald.close();
    // The new leader's socket is not open yet: its client publishes over HTTP, as a client of its own would.
    await until(() => http.calls.some((c) => c.method === 'POST'), WAIT_MS, 'the publish again, over HTTP');
    const again = http.calls.find((c) => c.method === 'POST');
    expect(again?.url).toBe('http://herald.test/v1/channels/chat:x/messages');
    expect(again?.headers['Idempotency-Key']).toBe(sent['idempotencyKey']);
    await expect(answered).resolves.toMatchObject({ offset: 1, duplicate: true });
    expect(b.herald.role).toBe('leader');
  });

  it('fails a refused channel in every tab that holds it', async () => {
    const [a, b] = [openTab('a'), openTab('b')];
    const subs = [a.herald.subscribe('secret:x'), b.herald.subscribe('secret:x')];
    const socket = await socketCount(1);
    socket.open();
    await until(() => ops(socket, 'subscribe').length === 1, WAIT_MS, 'the subscribe');
    socket.receive({ id: ops(socket, 'subscribe')[0]?.['id'], type: 'error', code: 'forbidden', message: 'no' });
    for (const sub of subs) await expect(sub.ready).rejects.toMatchObject({ code: 'forbidden' });
    expect(subs.map((s) => s.active)).toEqual([false, false]);
    expect(b.herald.getSubscription('secret:x')).toBeUndefined();
  });

  for (const mode of ['leader', 'none'] as const) {
    it(`keeps a channel on the connection when its last tab lets go and holds it again at once (${mode})`, async () => {
      const a = openTab('a', { share: { mode } });
      const seen = record(a.herald.subscribe('chat:x'));
      const socket = await socketCount(1);
      await serve(socket, 'chat:x', 'E', 0);
      socket.receive(publication('chat:x', 1));
      await until(() => seen.length === 1, WAIT_MS, 'the first publication');
      a.herald.getSubscription('chat:x')?.unsubscribe();
      const again = a.herald.subscribe('chat:x', { since: { epoch: 'E', offset: 1 } });
      const seenAgain = record(again);
      await expect(again.ready).resolves.toMatchObject({ recovered: true, offset: 1 });
      socket.receive(publication('chat:x', 2));
      await until(() => seenAgain.length === 1, WAIT_MS, 'the next publication');
      expect(seenAgain).toEqual([2]);
      expect(ops(socket, 'subscribe')).toHaveLength(1);
      expect(ops(socket, 'unsubscribe')).toHaveLength(0);
    });
  }

  it("keeps a tab alone with mode 'none': a connection of its own", async () => {
    const [a, b] = [openTab('a', { share: { mode: 'none' } }), openTab('b', { share: { mode: 'none' } })];
    a.herald.subscribe('chat:x');
    b.herald.subscribe('chat:x');
    await socketCount(2);
    expect([a.herald.role, b.herald.role]).toEqual(['alone', 'alone']);
  });
});

describe('SharedHerald with a SharedWorker', () => {
  const worker = { worker: '/js/herald-worker.js' };

  beforeEach(() => {
    // The worker has no options.WebSocket (a class cannot cross to it): it uses its global one.
    vi.stubGlobal('WebSocket', FakeWebSocket);
  });

  it("holds one connection for every tab, with a tab's token, and lets go of a channel when its last tab leaves or dies", async () => {
    const [a, b, c] = ['a', 'b', 'c'].map((id) => openTab(id, { token: () => `token-of-${id}`, share: worker })) as [Tab, Tab, Tab];
    const seenA = record(a.herald.subscribe('chat:x'));
    const seenB = record(b.herald.subscribe('chat:x'));
    b.herald.subscribe('chat:y');
    c.herald.subscribe('chat:z');
    const socket = await socketCount(1);
    expect(socket.url).toMatch(/\?token=token-of-[abc]$/);
    socket.open();
    await until(() => ops(socket, 'subscribe').length === 3, WAIT_MS, 'three subscribes');
    for (const channel of ['chat:x', 'chat:y', 'chat:z']) socket.subscribed(channel, 'E', 0);
    socket.receive(publication('chat:x', 1), publication('chat:x', 2));
    await until(() => seenA.length === 2 && seenB.length === 2, WAIT_MS, 'both tabs to see 2');
    expect([a.herald.role, b.herald.role, c.herald.role]).toEqual(['worker', 'worker', 'worker']);
    expect(browser.workers.count).toBe(1);

    a.herald.close();
    await settle(20);
    expect(ops(socket, 'unsubscribe')).toEqual([]);
    crash(c);
    await until(() => ops(socket, 'unsubscribe').length === 1, WAIT_MS, 'the unsubscribe of the dead tab’s channel');
    expect(ops(socket, 'unsubscribe')[0]).toMatchObject({ channel: 'chat:z' });
    // The last tab leaves: nothing is held any more, so the connection closes.
    b.herald.close();
    await until(() => socket.closedByClient, WAIT_MS, 'the connection to close with the last channel');
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('starts a new worker when the browser ends it, and resumes from the tabs’ position', async () => {
    const [a, b] = [openTab('a', { share: worker }), openTab('b', { share: worker })];
    const seen = [record(a.herald.subscribe('chat:x')), record(b.herald.subscribe('chat:x'))];
    const reasons: string[] = [];
    b.herald.on('disconnected', (e) => reasons.push(e.reason));
    const first = await socketCount(1);
    await serve(first, 'chat:x', 'E', 0);
    first.receive(publication('chat:x', 1), publication('chat:x', 2));
    await until(() => seen.every((s) => s.length === 2), WAIT_MS, 'both tabs to see 2');

    browser.workers.killAll();
    const second = await socketCount(2);
    const resumed = await serve(second, 'chat:x', 'E', 4);
    expect(resumed['since']).toEqual({ epoch: 'E', offset: 2 });
    second.receive(publication('chat:x', 3), publication('chat:x', 4), publication('chat:x', 5));
    await until(() => seen.every((s) => s.length === 5), WAIT_MS, () => `both tabs to see 5: ${JSON.stringify(seen)}`);
    expect(seen).toEqual([upTo(5), upTo(5)]);
    expect(browser.workers.count).toBe(2);
    expect(reasons).toEqual(['the SharedWorker ended']);
    expect([a.herald.role, b.herald.role]).toEqual(['worker', 'worker']);
  });

  it('falls back to a leader tab when the worker script cannot be used', async () => {
    const workers = browser.workers as unknown as { SharedWorker: unknown };
    Object.defineProperty(workers, 'SharedWorker', {
      value: class {
        constructor() {
          throw new DOMException('blocked', 'SecurityError');
        }
      },
    });
    const [a, b] = [openTab('a', { share: worker }), openTab('b', { share: worker })];
    a.herald.subscribe('chat:x');
    b.herald.subscribe('chat:x');
    await socketCount(1);
    await until(() => a.herald.role === 'leader' && b.herald.role === 'follower', WAIT_MS, 'a leader and a follower');
  });
});
