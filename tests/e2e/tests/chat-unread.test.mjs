// Unread and mention badges in the demo chat: signed-in pages (#token=<JWT>) count the messages of
// rooms they do not show, exactly, from the server's read markers; showing a room marks it read,
// and the same user's other device (a phone on long polling) clears its badge through the sync on
// me:<user>; a message that mentions the user (@name in the composer) shows as a mention badge and
// is highlighted; a guest has no markers and no badges.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { TIMEOUT_MS, artifacts, launchBrowser, newContext, watchErrors } from '../lib/browser.mjs';
import { joinChat, send, waitForMessages } from '../lib/chat.mjs';
import { HeraldServer } from '../lib/herald.mjs';

const SECRET = 'e2e-unread-hmac-secret-0123456789abcdef';
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

function token(sub) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

/** A page in `rooms` (joined in order), showing the first; signed in as `name` unless a guest. */
async function enter(browser, server, { name, rooms, transport = 'ws', signedIn = true, device = {} }) {
  const context = await newContext(browser, device);
  const page = await joinChat(context, server.baseUrl, { name, room: rooms[0], transport, ...(signedIn ? { token: token(name) } : {}) });
  for (const room of rooms.slice(1)) {
    await page.fill('#join-room', room);
    await page.press('#join-room', 'Enter');
    await page.waitForSelector(`#room-list button[data-room="${room}"][aria-current="true"]`);
  }
  await open(page, rooms[0]);
  return { context, page, errors: watchErrors(page, name) };
}

async function open(page, room) {
  await page.click(`#room-list button[data-room="${room}"]`);
  await page.waitForSelector(`#room-list button[data-room="${room}"][aria-current="true"]`);
}

/** The badge of `room` in the list: `{unread, mentions, text}`, or null when it has none. */
function badge(page, room) {
  return page.evaluate((r) => {
    const element = document.querySelector(`#room-list button[data-room="${r}"] .unread`);
    return element === null ? null : { unread: Number(element.dataset.unread), mentions: Number(element.dataset.mentions), text: element.textContent, mention: element.classList.contains('mention') };
  }, room);
}

/** Waits until `room`'s badge says `unread` (0: no badge) with `mentions`. */
async function waitBadge(page, room, unread, mentions = 0) {
  await page
    .waitForFunction(
      ([r, u, m]) => {
        const element = document.querySelector(`#room-list button[data-room="${r}"] .unread`);
        if (u === 0) return element === null;
        return element !== null && element.dataset.unread === String(u) && element.dataset.mentions === String(m);
      },
      [room, unread, mentions],
      { timeout: TIMEOUT_MS },
    )
    .catch(async (error) => {
      throw new Error(`${error.message}\n${room}: wanted ${unread} unread, ${mentions} mentions; shown ${JSON.stringify(await badge(page, room))}`);
    });
}

describe('the chat: unread and mention badges', () => {
  let server;
  let browser;

  before(async () => {
    server = await new HeraldServer({ args: [`--Herald:Auth:HmacSecret=${SECRET}`] }).start();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it('counts what bob writes in a room alice does not show, clears it when she opens it, on her phone too, and shows mentions', async () => {
    const desktop = await enter(browser, server, { name: 'alice', rooms: ['hall', 'news'] });
    const phone = await enter(browser, server, { name: 'alice', rooms: ['hall', 'news'], transport: 'longpoll', device: PHONE });
    const bob = await enter(browser, server, { name: 'bob', rooms: ['news'] });
    const guest = await enter(browser, server, { name: 'guest', rooms: ['hall', 'news'], signedIn: false });
    try {
      for (const text of ['one', 'two', 'three']) await send(bob.page, text);
      await waitBadge(desktop.page, 'news', 3);
      await waitBadge(phone.page, 'news', 3);
      const shown = await badge(desktop.page, 'news');
      assert.deepEqual(shown, { unread: 3, mentions: 0, text: '3, 3 unread', mention: false });
      assert.equal(await desktop.page.textContent('#room-list button[data-room="news"] .visually-hidden'), ', 3 unread', 'the count in words for screen readers');
      // The phone's badge is on screen in the narrow layout.
      const box = await phone.page.locator('#room-list button[data-room="news"] .unread').boundingBox();
      assert.ok(box !== null && box.x >= 0 && box.x + box.width <= PHONE.viewport.width, `the phone's badge is inside the screen: ${JSON.stringify(box)}`);
      // Alice's own room has no badge, and a guest has none at all.
      assert.equal(await badge(desktop.page, 'hall'), null);
      await open(guest.page, 'news');
      await waitForMessages(guest.page, ['one', 'two', 'three']);
      await open(guest.page, 'hall');
      await send(bob.page, 'four');
      await waitBadge(desktop.page, 'news', 4);
      assert.equal(await guest.page.locator('#room-list .unread').count(), 0, 'a guest has no badges');

      // Alice opens the room on her desktop: read there, and on her phone through the sync.
      await open(desktop.page, 'news');
      await waitForMessages(desktop.page, ['one', 'two', 'three', 'four']);
      await waitBadge(phone.page, 'news', 0);
      await open(desktop.page, 'hall');
      await waitBadge(desktop.page, 'news', 0);

      // A mention: bob writes @alice; both of alice's pages show a mention badge.
      await send(bob.page, 'look at this @alice!');
      await send(bob.page, 'and this');
      await waitBadge(desktop.page, 'news', 2, 1);
      await waitBadge(phone.page, 'news', 2, 1);
      assert.deepEqual(await badge(desktop.page, 'news'), { unread: 2, mentions: 1, text: '@ 2, 2 unread, 1 mention of you', mention: true });
      await desktop.page.screenshot({ path: join(artifacts, 'chat-unread.png') });
      await phone.page.screenshot({ path: join(artifacts, 'chat-unread-mobile.png') });
      // The phone opens the room: the message is highlighted, and the desktop's badge goes.
      await open(phone.page, 'news');
      await phone.page.waitForSelector('#messages .message.mentions-me', { timeout: TIMEOUT_MS });
      assert.match(await phone.page.textContent('#messages .message.mentions-me'), /mentions you.*look at this @alice!/s);
      await waitBadge(desktop.page, 'news', 0);
      assert.deepEqual([...desktop.errors, ...phone.errors, ...bob.errors, ...guest.errors], []);
    } finally {
      for (const each of [desktop, phone, bob, guest]) await each.context.close();
    }
  });

  it("alice's mention reaches bob's badge; her own messages never count for her", async () => {
    const alice = await enter(browser, server, { name: 'alice', rooms: ['desk', 'side'] });
    const bob = await enter(browser, server, { name: 'bob', rooms: ['desk', 'side'] });
    try {
      await open(alice.page, 'side');
      // send() returns once the input is cleared: typing the next one sooner would be wiped by that clearing.
      await send(alice.page, '@bob, ping', { typed: true });
      await send(alice.page, 'no mention here');
      await waitBadge(bob.page, 'side', 2, 1);
      await open(alice.page, 'desk');
      assert.equal(await badge(alice.page, 'side'), null, 'her own messages are read');
      // After a reload bob's count comes from the server's marker, exactly.
      await bob.page.reload();
      await waitBadge(bob.page, 'side', 2, 1);
      assert.deepEqual([...alice.errors, ...bob.errors], []);
    } finally {
      await alice.context.close();
      await bob.context.close();
    }
  });
});
