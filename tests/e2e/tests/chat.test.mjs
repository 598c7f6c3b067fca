// Two people chat in real browsers over each transport, and over SSE when WebSocket is blocked.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, newContext, watchErrors } from '../lib/browser.mjs';
import { assertContiguous, joinChat, messageTexts, send, shownOffsets, waitForMessages } from '../lib/chat.mjs';
import { HeraldServer, eventually } from '../lib/herald.mjs';

const TRANSPORTS = ['ws', 'sse', 'stream', 'longpoll', 'poll'];

describe('chat', () => {
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

  for (const transport of TRANSPORTS) {
    it(`two people chat with each other over ${transport}, chosen with the switcher, and see the room's history on joining`, async () => {
      const room = `over-${transport}`;
      await server.publish(`chat:${room}`, { name: 'server', text: `history before joining ${transport}` });

      const aliceContext = await newContext(browser);
      const bobContext = await newContext(browser);
      try {
        const alice = await joinChat(aliceContext, server.baseUrl, { name: 'alice', room, transport });
        const bob = await joinChat(bobContext, server.baseUrl, { name: 'bob', room, transport });
        const errors = [...watchErrors(alice, 'alice'), ...watchErrors(bob, 'bob')];
        await waitForMessages(alice, [`history before joining ${transport}`]);
        await waitForMessages(bob, [`history before joining ${transport}`]);

        await send(alice, `hello bob, over ${transport}`);
        await waitForMessages(bob, [`hello bob, over ${transport}`]);
        await send(bob, `hi alice, over ${transport}`);
        await waitForMessages(alice, [`hi alice, over ${transport}`]);

        const expected = [`history before joining ${transport}`, `hello bob, over ${transport}`, `hi alice, over ${transport}`];
        for (const page of [alice, bob]) {
          // Each sees its own message too, when the transport brings it back (short polling: within a poll interval).
          await waitForMessages(page, expected);
          assert.deepEqual(await messageTexts(page), expected);
          assertContiguous(await shownOffsets(page));
          assert.equal(await page.getAttribute('#transport-badge', 'data-transport'), transport);
        }

        // The badge tells the truth: the server sees the two pages on that transport.
        if (transport === 'ws' || transport === 'sse' || transport === 'stream') {
          await eventually(async () => (await server.stats()).connections[transport] === 2, `two ${transport} connections in /v1/stats`);
        } else if (transport === 'longpoll') {
          await eventually(async () => (await server.stats()).totals.longPolls >= 2, 'long polls in /v1/stats');
        } else {
          const before = (await server.stats()).totals.shortPolls;
          await eventually(async () => (await server.stats()).totals.shortPolls >= before + 2, 'short polls in /v1/stats');
        }
        assert.deepEqual(errors, []);
      } finally {
        await aliceContext.close();
        await bobContext.close();
      }
    });
  }

  it('switching the transport mid-conversation, through all five, shows every message exactly once', async () => {
    const room = 'switching';
    const aliceContext = await newContext(browser);
    const bobContext = await newContext(browser);
    try {
      const alice = await joinChat(aliceContext, server.baseUrl, { name: 'alice', room, transport: 'ws' });
      const bob = await joinChat(bobContext, server.baseUrl, { name: 'bob', room, transport: 'ws' });
      const errors = [...watchErrors(alice, 'alice'), ...watchErrors(bob, 'bob')];
      const expected = [];
      for (const transport of ['sse', 'stream', 'longpoll', 'poll', 'ws']) {
        await alice.selectOption('#transport', transport);
        await alice.waitForSelector(`#transport-badge[data-transport="${transport}"]`);
        await alice.waitForSelector('#connection[data-state="connected"]');
        // One message while alice switches is in flight, one once she is on the new transport.
        const line = `bob, while alice is on ${transport}`;
        await send(bob, line);
        await send(alice, `alice, now on ${transport}`);
        expected.push(line, `alice, now on ${transport}`);
        await waitForMessages(alice, expected);
      }
      await waitForMessages(bob, expected);
      for (const page of [alice, bob]) {
        assert.deepEqual(await messageTexts(page), expected);
        assertContiguous(await shownOffsets(page));
      }
      assert.deepEqual(errors, []);
    } finally {
      await aliceContext.close();
      await bobContext.close();
    }
  });

  it('with WebSocket blocked, the page falls back to Server-Sent Events by itself and still chats', async () => {
    const room = 'blocked-ws';
    const blockedContext = await newContext(browser);
    const openContext = await newContext(browser);
    // As a proxy that refuses upgrades would: every WebSocket the page opens to /v1/ws gets a
    // 404 instead of a 101 (the handshake goes to a path the server does not have), with the
    // browser's own WebSocket and its own error and close.
    await blockedContext.addInitScript(() => {
      const Real = window.WebSocket;
      window.__blockedWebSockets = 0;
      window.WebSocket = class extends Real {
        constructor(url, protocols) {
          const blocked = String(url).includes('/v1/ws');
          if (blocked) window.__blockedWebSockets += 1;
          super(blocked ? String(url).replace('/v1/ws', '/v1/ws-blocked') : url, protocols);
        }
      };
    });
    try {
      const blocked = await joinChat(blockedContext, server.baseUrl, { name: 'behind-a-proxy', room });
      const open = await joinChat(openContext, server.baseUrl, { name: 'open', room, transport: 'ws' });
      const errors = [...watchErrors(blocked, 'blocked'), ...watchErrors(open, 'open')];

      assert.equal(await blocked.getAttribute('#transport-badge', 'data-transport'), 'sse');
      assert.ok((await blocked.evaluate(() => window.__blockedWebSockets)) >= 1, 'the page tried WebSocket first');
      assert.equal(await blocked.inputValue('#transport'), 'auto');

      await send(blocked, 'sent over the fallback');
      await waitForMessages(open, ['sent over the fallback']);
      await send(open, 'received over the fallback');
      await waitForMessages(blocked, ['received over the fallback']);
      assert.deepEqual(await messageTexts(blocked), ['sent over the fallback', 'received over the fallback']);
      assert.deepEqual(errors, []);
    } finally {
      await blockedContext.close();
      await openContext.close();
    }
  });

  it('the chat form works with the keyboard alone, with a visible focus', async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      await page.goto(`${server.baseUrl}/`);
      const focused = () => page.evaluate(() => document.activeElement?.id ?? '');
      const outline = () => page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);

      // The name field has the focus when the page opens.
      await page.waitForFunction(() => document.activeElement?.id === 'name');
      await page.keyboard.type('kim');
      await page.keyboard.press('Tab');
      assert.equal(await focused(), 'room');
      await page.keyboard.press('Control+A');
      await page.keyboard.type('keys');
      await page.keyboard.press('Enter');

      // Joining moves the focus to the message field.
      await page.waitForSelector('#connection[data-state="connected"]');
      assert.equal(await focused(), 'message');
      await page.keyboard.type('typed, then Enter');
      await page.keyboard.press('Enter');
      await waitForMessages(page, ['typed, then Enter']);
      await page.waitForFunction(() => document.getElementById('message').value === '');
      assert.equal(await focused(), 'message', 'the focus stays in the message field after sending');

      await page.keyboard.type('typed, then Tab to Send and Space');
      await page.keyboard.press('Tab');
      assert.equal(await focused(), 'send');
      assert.notEqual(await outline(), 'none', 'the focused button shows a focus ring');
      await page.keyboard.press('Space');
      await waitForMessages(page, ['typed, then Tab to Send and Space']);
      assert.deepEqual(await messageTexts(page), ['typed, then Enter', 'typed, then Tab to Send and Space']);

      // Another room, joined from the keyboard: from the message field (where sending left the
      // focus), back over "Change name" and the room list's Join button to its field.
      assert.equal(await focused(), 'message');
      await page.keyboard.press('Shift+Tab');
      assert.equal(await focused(), 'change-name');
      await page.keyboard.press('Shift+Tab');
      await page.keyboard.press('Shift+Tab');
      assert.equal(await focused(), 'join-room');
      await page.keyboard.type('second');
      await page.keyboard.press('Enter');
      await page.waitForSelector('#room-list button[data-room="second"][aria-current="true"]');
      assert.equal(await focused(), 'message');

      // New messages are announced to screen readers as they arrive.
      assert.equal(await page.getAttribute('#messages', 'role'), 'log');
      assert.equal(await page.getAttribute('#messages', 'aria-live'), 'polite');
    } finally {
      await context.close();
    }
  });
});
