// What a newcomer meets in the demo chat: a long message is never cut silently, a reload comes back
// to the same room, name and transport, and errors are said in words (their code in a tooltip).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TIMEOUT_MS, launchBrowser, newContext, watchErrors } from '../lib/browser.mjs';
import { joinChat, messageTexts, send, waitConnected, waitForMessages } from '../lib/chat.mjs';
import { HeraldServer } from '../lib/herald.mjs';

const shown = (page, selector) => page.locator(selector).innerText();

async function topOf(server, channel) {
  const response = await fetch(`${server.baseUrl}/v1/channels/${channel}/messages`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  return (await response.json()).top;
}

describe('the chat, for a newcomer', () => {
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

  it('keeps a message over 2,000 characters whole, says so and sends nothing; 2,000 exactly is sent', async () => {
    const context = await newContext(browser);
    try {
      const page = await joinChat(context, server.baseUrl, { name: 'long', room: 'long-lines' });
      const errors = watchErrors(page, 'long');
      const tooLong = 'x'.repeat(2050);
      await page.locator('#message').fill(tooLong);
      assert.equal((await page.inputValue('#message')).length, 2050, 'nothing was cut');
      assert.equal(await page.isVisible('#message-count'), true);
      assert.equal(await shown(page, '#message-count'), '2,050 / 2,000 characters: 50 too many to send.');

      await page.press('#message', 'Enter');
      await page.waitForFunction(() => document.getElementById('send-error').textContent !== '', null, { timeout: TIMEOUT_MS });
      const said = await shown(page, '#send-error');
      assert.match(said, /this message is 2,050 characters long, and messages here are at most 2,000\. Nothing was cut/);
      assert.equal((await page.inputValue('#message')).length, 2050, 'still whole after the refusal');
      assert.equal(await topOf(server, 'chat:long-lines'), 0, 'nothing was published');

      const longest = 'y'.repeat(2000);
      await page.locator('#message').fill(longest);
      assert.equal(await shown(page, '#message-count'), '2,000 / 2,000 characters.');
      await send(page, longest);
      await waitForMessages(page, [longest]);
      assert.equal(await shown(page, '#send-error'), '');
      assert.equal(await page.isVisible('#message-count'), false, 'the count goes once the field is empty');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  it('comes back after a reload to the same name, rooms, room shown and transport, with the room in the address', async () => {
    const context = await newContext(browser);
    try {
      const page = await joinChat(context, server.baseUrl, { name: 'ada', room: 'remember-me', transport: 'sse' });
      await send(page, 'said before the reload');
      await page.fill('#join-room', 'second-room');
      await page.press('#join-room', 'Enter');
      await page.waitForSelector('#room-list button[data-room="second-room"][aria-current="true"]');
      await page.click('#room-list button[data-room="remember-me"]');
      await page.waitForSelector('#room-list button[data-room="remember-me"][aria-current="true"]');
      assert.equal(new URL(page.url()).searchParams.get('room'), 'remember-me');

      await page.reload();
      await waitConnected(page, 'sse');
      assert.equal(await page.isVisible('#welcome'), false, 'no welcome form: straight back into the chat');
      assert.equal(await shown(page, '#me'), 'ada');
      assert.equal(await shown(page, '#room-title'), '#remember-me');
      assert.deepEqual(await page.locator('#room-list button').evaluateAll((b) => b.map((e) => e.dataset.room)), ['remember-me', 'second-room']);
      assert.equal(await page.inputValue('#transport'), 'sse');
      await waitForMessages(page, ['said before the reload']);

      // A link to a room opens that room, in this browser as in another.
      await page.goto(`${server.baseUrl}/?room=second-room`);
      await waitConnected(page, 'sse');
      assert.equal(await shown(page, '#room-title'), '#second-room');
      const stranger = await (await newContext(browser)).newPage();
      await stranger.goto(`${server.baseUrl}/?room=second-room`);
      assert.equal(await stranger.isVisible('#welcome'), true, 'someone new still picks a name first');
      assert.equal(await stranger.inputValue('#room'), 'second-room');
      await stranger.context().close();

      // "Change name" leads back to the form, the room kept.
      await page.click('#change-name');
      await page.waitForSelector('#welcome:not([hidden])');
      assert.equal(await page.inputValue('#name'), '');
      assert.equal(await page.inputValue('#room'), 'second-room');
      await page.fill('#name', 'ada lovelace');
      await page.press('#name', 'Enter');
      await waitConnected(page, 'sse');
      assert.equal(await shown(page, '#me'), 'ada lovelace');
      assert.deepEqual(await page.locator('#room-list button').evaluateAll((b) => b.map((e) => e.dataset.room)), ['remember-me', 'second-room']);
    } finally {
      await context.close();
    }
  });

  it('explains a connection the network refuses in words, the close code in the tooltip', async () => {
    const context = await newContext(browser);
    // As a proxy that refuses WebSockets: the handshake goes to a path the server does not have.
    await context.addInitScript(() => {
      const Real = window.WebSocket;
      window.WebSocket = class extends Real {
        constructor(url, protocols) {
          super(String(url).replace('/v1/ws', '/v1/ws-refused'), protocols);
        }
      };
    });
    try {
      const page = await context.newPage();
      const errors = watchErrors(page, 'refused');
      await page.goto(`${server.baseUrl}/`);
      await page.selectOption('#transport', 'ws');
      await page.fill('#name', 'behind a proxy');
      await page.press('#name', 'Enter');
      // The banner's words and tooltip read together, in the page, when it says so: the next
      // attempt ("Reconnecting…") replaces them within seconds, sooner than a second read could come.
      const said = await page.waitForFunction(() => {
        const banner = document.getElementById('banner');
        return banner.textContent.includes('The server cannot be reached.') ? { text: banner.innerText, title: banner.getAttribute('title') } : null;
      }, null, { timeout: TIMEOUT_MS });
      const { text: banner, title: tooltip } = await said.jsonValue();
      assert.match(banner, /^The server cannot be reached\. Trying again in \d+ s — messages sent meanwhile will appear\.$/);
      assert.doesNotMatch(banner, /1006|failed to open/);
      assert.match(tooltip, /^Details: failed to open \(1006\)$/);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  for (const transport of ['ws', 'sse']) {
    it(`explains a message the server refuses as too large in words over ${transport}, its code in the tooltip`, async () => {
      const small = await new HeraldServer({ args: ['--Herald:Namespaces:chat:MaxMessageBytes=1024'] }).start();
      const context = await newContext(browser);
      try {
        const page = await joinChat(context, small.baseUrl, { name: 'wordy', room: 'small', transport });
        await page.locator('#message').fill('z'.repeat(1500));
        await page.press('#message', 'Enter');
        await page.waitForFunction(() => document.getElementById('send-error').textContent !== '', null, { timeout: TIMEOUT_MS });
        const said = await shown(page, '#send-error');
        assert.equal(said, 'Not sent: this message is too long for this room (the server takes at most 1,024 bytes; most letters take 1, accents 2, emoji 4). Shorten it and send again.');
        const tooltip = await page.getAttribute('#send-error', 'title');
        assert.match(tooltip, /^Details: message_too_large · /);
        assert.equal((await page.inputValue('#message')).length, 1500, 'the message stays in the field');
        assert.deepEqual(await messageTexts(page), []);
      } finally {
        await context.close();
        await small.dispose();
      }
    });
  }
});
