// "Delivered" and "Seen" in the demo chat's direct messages (receipts): alice opens a direct
// message with bob and writes; the line under her newest message says "Delivered" while bob's page
// is open on another room (his SDK marked the message delivered), then "Seen" once he opens the
// conversation (his read marker) — live, alice on WebSocket and bob on SSE (his SDK marks over
// HTTP), then the other way round.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { TIMEOUT_MS, artifacts, launchBrowser, newContext, watchErrors } from '../lib/browser.mjs';
import { joinChat, send, waitForMessages } from '../lib/chat.mjs';
import { HeraldServer } from '../lib/herald.mjs';

const SECRET = 'e2e-seen-hmac-secret-0123456789abcdef-00';

function token(sub) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

async function enter(browser, server, { name, room, transport }) {
  const context = await newContext(browser);
  const page = await joinChat(context, server.baseUrl, { name, room, transport, token: token(name) });
  return { context, page, errors: watchErrors(page, name) };
}

/** Every status line in the room shown: its state, its text and the text of the message it is under. */
function receipts(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('#messages .receipt')].map((line) => ({
      state: line.dataset.state,
      text: line.textContent,
      under: line.closest('li')?.querySelector('.text')?.textContent,
    })),
  );
}

/** Waits until the one status line says `text` (`state`) under the message `under`. */
async function waitReceipt(page, under, state, text) {
  await page
    .waitForFunction(
      ([u, s, t]) => {
        const lines = document.querySelectorAll('#messages .receipt');
        const line = lines[0];
        return lines.length === 1 && line.dataset.state === s && line.textContent === t && line.closest('li.message.mine')?.querySelector('.text')?.textContent === u;
      },
      [under, state, text],
      { timeout: TIMEOUT_MS },
    )
    .catch(async (error) => {
      throw new Error(`${error.message}\nwanted "${text}" under "${under}"; shown ${JSON.stringify(await receipts(page))}`);
    });
}

describe('the chat: delivered and seen in a direct message', () => {
  let server;
  let browser;

  before(async () => {
    // Receipts' diffs 200 ms apart instead of 1 s: the waits below are the SDK's and the page's.
    server = await new HeraldServer({ args: [`--Herald:Auth:HmacSecret=${SECRET}`, '--Herald:Namespaces:dm:ReceiptsInterval=00:00:00.200'] }).start();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  for (const [aliceOn, bobOn] of [['ws', 'sse'], ['sse', 'ws']]) {
    it(`alice (${aliceOn}) sees "Delivered" while bob (${bobOn}) shows another room, then "Seen" when he opens the conversation`, async () => {
      const room = `seen-${aliceOn}`;
      const [alice, bob] = [`alice${aliceOn}`, `bob${bobOn}`];
      const [a, b] = await Promise.all([enter(browser, server, { name: alice, room, transport: aliceOn }), enter(browser, server, { name: bob, room, transport: bobOn })]);
      try {
        await a.page.click(`#people button[data-dm="${bob}"]`, { timeout: TIMEOUT_MS });
        await a.page.waitForSelector(`#room-list button[data-dm="${bob}"][aria-current="true"]`);
        await send(a.page, 'are you there?');
        // Bob's page follows the direct message (alice's page nudged it) but shows the room.
        await b.page.waitForSelector(`#room-list button[data-dm="${alice}"] .unread`, { timeout: TIMEOUT_MS });
        await waitReceipt(a.page, 'are you there?', 'delivered', 'Delivered');
        assert.equal(await b.page.getAttribute(`#room-list button[data-room="${room}"]`, 'aria-current'), 'true', "bob's page still shows the room");
        // Read with the message, never announced on its own: it changes too often.
        const line = a.page.locator('#messages .receipt');
        assert.deepEqual(
          [await line.getAttribute('role'), await line.getAttribute('aria-label'), await line.getAttribute('aria-live')],
          ['note', 'Status of your message', 'off'],
        );

        await b.page.click(`#room-list button[data-dm="${alice}"]`);
        await waitForMessages(b.page, ['are you there?']);
        await waitReceipt(a.page, 'are you there?', 'seen', 'Seen');
        assert.match(await line.getAttribute('title'), new RegExp(`^Seen by ${bob} at `));
        if (aliceOn === 'ws') await a.page.screenshot({ path: join(artifacts, 'chat-seen.png') });

        // The next message takes the line; bob has the conversation open, so it is seen at once.
        // Bob's page shows no line: none of the messages is his.
        await send(a.page, 'great');
        await waitReceipt(a.page, 'great', 'seen', 'Seen');
        assert.deepEqual(await receipts(b.page), []);
        assert.deepEqual([...a.errors, ...b.errors], []);
      } finally {
        await a.context.close();
        await b.context.close();
      }
    });
  }
});
