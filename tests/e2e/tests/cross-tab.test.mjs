// One connection per browser: three tabs (pages of one browser context, one origin) follow a
// channel through SharedHerald (/js/herald-shared.js) — its connection in the SharedWorker
// (/js/herald-worker.js), or in a leader tab elected with Web Locks — on each of the SDK's five
// transports. The application publishes a numbered sequence over HTTP and the tab that holds the
// connection (the leader tab; with the worker, the tab that started it) is closed mid-stream: every
// remaining tab shows every number exactly once, in order, the last one published by a follower
// tab through the shared connection, and the server sees one connection for all tabs.
// Counts and order are asserted, not speed: every wait is bounded by a generous timeout.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TIMEOUT_MS, launchBrowser, newContext, watchErrors } from '../lib/browser.mjs';
import { HeraldServer, eventually } from '../lib/herald.mjs';

const TABS = 3;
// Numbers published over HTTP; the leader closes before number CLOSE_AT, a follower publishes the last.
const NUMBERS = 40;
const CLOSE_AT = 15;
const PUBLISH_GAP_MS = 40;
const POLL_INTERVAL_MS = 250;
const TRANSPORTS = ['ws', 'sse', 'stream', 'longpoll', 'poll'];

/** In the page: a SharedHerald following `channel`; resolves with the tab's role once the subscription is confirmed. */
async function startTab({ channel, transport, share, pollIntervalMs }) {
  const { SharedHerald } = await import('/js/herald-shared.js');
  const herald = new SharedHerald(location.origin, { transports: [transport], pollIntervalMs, backoff: { initialMs: 100, maxMs: 1000 }, share });
  const seen = { numbers: [], offsets: [], problems: [], disconnects: [] };
  window.tab = { herald, seen };
  const subscription = herald.subscribe(channel);
  subscription.on('publication', (p) => {
    seen.numbers.push(p.data.n);
    seen.offsets.push(p.offset);
  });
  subscription.on('reset', (e) => seen.problems.push(`reset ${JSON.stringify(e)}`));
  subscription.on('error', (e) => seen.problems.push(`subscription error ${e.code}`));
  herald.on('error', (e) => seen.problems.push(`client error ${e.code}`));
  herald.on('disconnected', (e) => seen.disconnects.push(e.reason));
  await subscription.ready;
  return herald.role;
}

describe('one connection per browser (SharedHerald)', () => {
  let server;
  let browser;

  before(async () => {
    server = await new HeraldServer().start();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  /** Opens `TABS` pages of one context on the server's origin, each following `channel` with `share`. */
  async function openTabs(context, channel, transport, share) {
    const tabs = [];
    for (let i = 0; i < TABS; i++) {
      const page = await context.newPage();
      const errors = watchErrors(page, `tab ${i}`);
      await page.goto(`${server.baseUrl}/healthz`);
      // One after the other: the first tab starts the worker, or becomes the leader.
      const role = await page.evaluate(startTab, { channel, transport, share, pollIntervalMs: POLL_INTERVAL_MS });
      tabs.push({ page, errors, role });
    }
    return tabs;
  }

  const seenBy = (tab) => tab.page.evaluate(() => ({ ...window.tab.seen, role: window.tab.herald.role, transport: window.tab.herald.transport }));
  const subscribersOf = (stats, channel) => stats.topChannels.find((c) => c.channel === channel)?.subscribers ?? 0;

  /** What the server counts for `transport` and `channel` now; `exactly` true when it is one connection. */
  async function oneConnection(transport, channel) {
    if (transport === 'poll') {
      // Short polling holds no connection: count the polls of a quiet while instead. One poller
      // makes at most one every POLL_INTERVAL_MS; three would make three times as many.
      const windowMs = 1_500;
      const before = (await server.stats()).totals.shortPolls;
      await new Promise((r) => setTimeout(r, windowMs));
      const polls = (await server.stats()).totals.shortPolls - before;
      return { exactly: polls >= 2 && polls <= windowMs / POLL_INTERVAL_MS + 2, seen: `${polls} short polls in ${windowMs} ms` };
    }
    const stats = await server.stats();
    if (transport === 'longpoll') return { exactly: stats.connections.longPoll === 1, seen: `${stats.connections.longPoll} held long polls` };
    const open = stats.connections[transport];
    const subscribers = subscribersOf(stats, channel);
    return { exactly: open === 1 && subscribers === 1, seen: `${open} ${transport} connections, ${subscribers} subscribers of ${channel}` };
  }

  async function assertOneConnection(transport, channel, when) {
    let last = '';
    await eventually(async () => {
      const { exactly, seen } = await oneConnection(transport, channel);
      last = seen;
      return exactly;
    }, `one ${transport} connection ${when} (the server saw ${last})`, TIMEOUT_MS).catch(() => assert.fail(`${when}: the server saw ${last}, not one connection for all tabs`));
  }

  it('without sharing (mode none), each of the three tabs holds its own WebSocket: what the counts below tell apart', async () => {
    const channel = 'chat:xtab-none';
    const context = await newContext(browser);
    try {
      const tabs = await openTabs(context, channel, 'ws', { mode: 'none' });
      assert.deepEqual(tabs.map((t) => t.role), ['alone', 'alone', 'alone']);
      await eventually(async () => subscribersOf(await server.stats(), channel) === TABS, `${TABS} subscribers of ${channel}`, TIMEOUT_MS);
    } finally {
      await context.close();
    }
  });

  for (const mode of ['worker', 'leader']) {
    const share = mode === 'worker' ? { worker: '/js/herald-worker.js' } : { mode: 'leader' };
    for (const transport of TRANSPORTS) {
      it(`${mode === 'worker' ? 'SharedWorker' : 'leader tab'}, ${transport}: one connection for ${TABS} tabs, and 0 gaps and 0 duplicates in every tab when the ${mode === 'worker' ? 'first tab' : 'leader tab'} closes mid-stream`, async (t) => {
        const channel = `chat:xtab-${mode}-${transport}`;
        const context = await newContext(browser);
        try {
          const tabs = await openTabs(context, channel, transport, share);
          assert.deepEqual(tabs.map((tab) => tab.role), mode === 'worker' ? ['worker', 'worker', 'worker'] : ['leader', 'follower', 'follower']);
          await assertOneConnection(transport, channel, 'before the leader closes');

          const [leader, ...rest] = tabs;
          let closing;
          for (let n = 0; n < NUMBERS; n++) {
            if (n === CLOSE_AT) closing = leader.page.close();
            await server.publish(channel, { n });
            await new Promise((r) => setTimeout(r, PUBLISH_GAP_MS));
          }
          await closing;
          // The last number from a follower tab, through the shared connection.
          await rest[1].page.evaluate(([ch, n]) => window.tab.herald.publish(ch, { n }), [channel, NUMBERS]);

          const expected = Array.from({ length: NUMBERS + 1 }, (_, i) => i);
          for (const [i, tab] of rest.entries()) {
            await eventually(async () => (await seenBy(tab)).numbers.length >= expected.length, `tab ${i + 1} to show ${expected.length} numbers`, TIMEOUT_MS).catch(async (error) => {
              assert.fail(`${error.message}: it shows ${JSON.stringify((await seenBy(tab)).numbers)}`);
            });
          }
          // A moment for a duplicate to show up, if one were coming.
          await new Promise((r) => setTimeout(r, 500));
          const seen = await Promise.all(rest.map(seenBy));
          for (const [i, s] of seen.entries()) {
            assert.deepEqual(s.numbers, expected, `tab ${i + 1}: every number once, in order`);
            assert.deepEqual(s.offsets, expected.map((n) => n + 1), `tab ${i + 1}: contiguous offsets`);
            assert.deepEqual(s.problems, [], `tab ${i + 1}: no reset, no error`);
            assert.equal(s.transport, transport);
            // The worker's connection outlives the tab that started it; a leader's does not, and the
            // tabs say so once, then resume on the next leader's.
            assert.deepEqual(s.disconnects, mode === 'worker' ? [] : ['the tab holding the connection left'], `tab ${i + 1}: disconnects`);
          }
          assert.deepEqual(seen.map((s) => s.role).sort(), mode === 'worker' ? ['worker', 'worker'] : ['follower', 'leader']);
          await assertOneConnection(transport, channel, 'after the leader closed');
          assert.deepEqual(rest.flatMap((tab) => tab.errors), []);
          t.diagnostic(`${mode} ${transport}: ${TABS - 1} tabs saw ${expected.length} numbers each, once, in order`);
        } finally {
          await context.close();
        }
      });
    }
  }
});
