// Who is online, who is typing, and direct messages in the demo chat: pages with different user
// tokens (#token=<JWT>, as `herald token --sub alice` makes) in one room, on WebSocket and on long
// polling, against the demo settings (chat: Presence List, Typing, Signals; dm: Presence, Typing).

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { TIMEOUT_MS, artifacts, launchBrowser, newContext, watchErrors } from '../lib/browser.mjs';
import { joinChat, send, waitConnected, waitForMessages } from '../lib/chat.mjs';
import { HeraldServer } from '../lib/herald.mjs';

const SECRET = 'e2e-presence-hmac-secret-0123456789abcdef';
// 2 s instead of 10: a page that vanishes without a close leaves the others' lists within it.
const LEAVE_GRACE = 2;

function token(sub) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

/** The chat as `name`, signed in with a token for that user (or a guest with `signedIn: false`). */
async function enter(browser, server, { name, room, transport = 'ws', signedIn = true }) {
  const context = await newContext(browser);
  const page = await joinChat(context, server.baseUrl, { name, room, transport, ...(signedIn ? { token: token(name) } : {}) });
  return { context, page, errors: watchErrors(page, name) };
}

const listed = (page) => page.locator('#people li').evaluateAll((items) => items.map((i) => i.dataset.user));

async function waitListed(page, users) {
  await page
    .waitForFunction((wanted) => JSON.stringify([...document.querySelectorAll('#people li')].map((i) => i.dataset.user)) === JSON.stringify(wanted), users, { timeout: TIMEOUT_MS })
    .catch(async (error) => {
      throw new Error(`${error.message}\nwanted online: ${JSON.stringify(users)}\nshown: ${JSON.stringify(await listed(page))}, hint: ${await page.textContent('#people-hint')}`);
    });
}

async function waitText(page, selector, text) {
  await page
    .waitForFunction(([s, t]) => document.querySelector(s)?.textContent === t, [selector, text], { timeout: TIMEOUT_MS })
    .catch(async (error) => {
      throw new Error(`${error.message}\n${selector}: wanted ${JSON.stringify(text)}, shown ${JSON.stringify(await page.textContent(selector))}`);
    });
}

describe('the chat: who is online, who is typing, direct messages', () => {
  let server;
  let browser;

  before(async () => {
    server = await new HeraldServer({
      args: [`--Herald:Auth:HmacSecret=${SECRET}`, `--Herald:Namespaces:chat:PresenceLeaveGrace=00:00:0${LEAVE_GRACE}`],
    }).start();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it('two signed-in people see each other online with a count, a guest is counted and not listed, and a closed page leaves', async () => {
    const room = 'online';
    const alice = await enter(browser, server, { name: 'alice', room });
    const bob = await enter(browser, server, { name: 'bob', room });
    try {
      await waitListed(alice.page, ['alice', 'bob']);
      await waitListed(bob.page, ['alice', 'bob']);
      await waitText(alice.page, '#online-count', '2 online');
      assert.equal(await alice.page.textContent('#people li[data-user="alice"]'), 'alice (you)');
      assert.equal(await alice.page.isVisible('#people li[data-user="bob"] button[data-dm="bob"]'), true, 'a Message button next to bob');

      const guest = await enter(browser, server, { name: 'guest', room, signedIn: false });
      try {
        await waitListed(guest.page, ['alice', 'bob']);
        await waitText(guest.page, '#online-count', '2 online · 3 connections, guests included');
        await waitText(alice.page, '#online-count', '2 online · 3 connections, guests included');
        assert.match(await guest.page.textContent('#people-hint'), /You are a guest: counted, not listed/);
        assert.equal(await guest.page.locator('#people button').count(), 0, 'a guest opens no direct messages');
        await alice.page.screenshot({ path: join(artifacts, 'chat-presence.png') });
      } finally {
        await guest.context.close();
      }
      await waitText(alice.page, '#online-count', '2 online');

      // Closing bob's page: he leaves alice's list (at once on a close, at the latest after the leave grace).
      await bob.context.close();
      await waitListed(alice.page, ['alice']);
      await waitText(alice.page, '#online-count', '1 online');
      assert.deepEqual([...alice.errors, ...bob.errors], []);
    } finally {
      await alice.context.close();
      await bob.context.close();
    }
  });

  it('typing shows "… is typing" on the other page, and it goes when the message is sent', async () => {
    const room = 'typing';
    const alice = await enter(browser, server, { name: 'alice', room });
    const bob = await enter(browser, server, { name: 'bob', room });
    try {
      await waitListed(bob.page, ['alice', 'bob']);
      await alice.page.locator('#message').pressSequentially('hello b', { delay: 50 });
      await waitText(bob.page, '#typing', 'alice is typing…');
      await bob.page.screenshot({ path: join(artifacts, 'chat-typing.png') });
      assert.equal(await alice.page.textContent('#typing'), '', 'nobody else types: alice does not see herself');
      await alice.page.locator('#message').pressSequentially('ob', { delay: 50 });
      await alice.page.press('#message', 'Enter');
      await waitForMessages(bob.page, ['hello bob']);
      await waitText(bob.page, '#typing', '');

      // Both at once.
      const carol = await enter(browser, server, { name: 'carol', room });
      try {
        await waitListed(carol.page, ['alice', 'bob', 'carol']);
        await alice.page.locator('#message').pressSequentially('one', { delay: 50 });
        await bob.page.locator('#message').pressSequentially('two', { delay: 50 });
        await carol.page.waitForFunction(() => ['alice and bob are typing…', 'bob and alice are typing…'].includes(document.getElementById('typing').textContent), null, { timeout: TIMEOUT_MS });
        // A cleared field says "stopped" at once.
        await alice.page.fill('#message', '');
        await alice.page.dispatchEvent('#message', 'input');
        await waitText(carol.page, '#typing', 'bob is typing…');
      } finally {
        await carol.context.close();
      }
      assert.deepEqual([...alice.errors, ...bob.errors], []);
    } finally {
      await alice.context.close();
      await bob.context.close();
    }
  });

  it('a direct message: alice opens one with bob from the online list, and it appears on his page', async () => {
    const room = 'dm-start';
    const alice = await enter(browser, server, { name: 'alice', room });
    const bob = await enter(browser, server, { name: 'bob', room });
    try {
      await waitListed(alice.page, ['alice', 'bob']);
      await alice.page.click('#people button[data-dm="bob"]');
      await alice.page.waitForSelector('#room-list button[data-dm="bob"][aria-current="true"]');
      assert.equal(await alice.page.textContent('#room-title'), '@bob');
      assert.equal(await alice.page.textContent('#room-channel'), 'dm:alice~bob');
      await send(alice.page, 'hi bob, just between us');

      // Bob's page follows the direct message (alice's page nudged it with a signal) and counts it unread.
      await bob.page.waitForSelector('#room-list button[data-dm="alice"] .unread', { timeout: TIMEOUT_MS });
      await bob.page.click('#room-list button[data-dm="alice"]');
      assert.equal(await bob.page.textContent('#room-channel'), 'dm:alice~bob');
      await waitForMessages(bob.page, ['hi bob, just between us']);
      // Both follow the direct message: its list has both of them.
      await waitListed(alice.page, ['alice', 'bob']);
      await waitListed(bob.page, ['alice', 'bob']);
      await send(bob.page, 'hi alice');
      await waitForMessages(alice.page, ['hi bob, just between us', 'hi alice']);
      await bob.page.screenshot({ path: join(artifacts, 'chat-direct.png') });

      // Nobody else may read it.
      const answer = await fetch(`${server.baseUrl}/v1/channels/dm:alice~bob/messages`, { headers: { Authorization: `Bearer ${token('mallory')}` }, signal: AbortSignal.timeout(TIMEOUT_MS) });
      assert.equal(answer.status, 403);
      assert.deepEqual([...alice.errors, ...bob.errors], []);
    } finally {
      await alice.context.close();
      await bob.context.close();
    }
  });

  it('a page on long polling sees who is online and who types on a page on WebSocket', async () => {
    const room = 'polling';
    const polling = await enter(browser, server, { name: 'paula', room, transport: 'longpoll' });
    const socket = await enter(browser, server, { name: 'wes', room, transport: 'ws' });
    try {
      await waitConnected(polling.page, 'longpoll');
      await waitListed(polling.page, ['paula', 'wes']);
      // The poller is present too: the WebSocket page lists it.
      await waitListed(socket.page, ['paula', 'wes']);

      await socket.page.locator('#message').pressSequentially('over the socket', { delay: 50 });
      await waitText(polling.page, '#typing', 'wes is typing…');
      await socket.page.press('#message', 'Enter');
      await waitForMessages(polling.page, ['over the socket']);
      await waitText(polling.page, '#typing', '');

      // And the other way: the poller types over HTTP, with its token.
      await polling.page.locator('#message').pressSequentially('over polling', { delay: 50 });
      await waitText(socket.page, '#typing', 'paula is typing…');
      await polling.page.press('#message', 'Enter');
      await waitForMessages(socket.page, ['over polling']);
      await waitText(socket.page, '#typing', '');

      // wes leaves: the held poll returns with the diff.
      await socket.context.close();
      await waitListed(polling.page, ['paula']);
      assert.deepEqual([...polling.errors, ...socket.errors], []);
    } finally {
      await polling.context.close();
      await socket.context.close();
    }
  });
});
