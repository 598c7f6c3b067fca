// Edits, deletes, reactions and threads in the demo chat: signed-in pages (#token=<JWT>) in one
// room, on the demo settings (chat: Edits Own, Reactions Distinct, Threads — the defaults). What
// one page does reaches the other as publications the page folds (the SDK's LatestView); a page
// that loads afterwards folds the room's history into the same state.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { TIMEOUT_MS, artifacts, launchBrowser, newContext, watchErrors } from '../lib/browser.mjs';
import { joinChat, send, waitConnected, waitForMessages } from '../lib/chat.mjs';
import { HeraldServer } from '../lib/herald.mjs';

const SECRET = 'e2e-actions-hmac-secret-0123456789abcdef';

function token(sub) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

async function enter(browser, server, name, room) {
  const context = await newContext(browser);
  const page = await joinChat(context, server.baseUrl, { name, room, transport: 'ws', token: token(name) });
  return { context, page, errors: watchErrors(page, name) };
}

/** The offset of the message whose text is `text` on `page`. */
async function offsetOf(page, text) {
  await waitForMessages(page, [text]);
  const offset = await page.locator('#messages li.message', { has: page.locator('.text', { hasText: new RegExp(`^${text}$`) }) }).getAttribute('data-offset');
  return Number(offset);
}

/** `#messages li[data-offset=…]`, or the thread panel's with `list: '#thread-messages'`. */
const at = (offset, list = '#messages') => `${list} li.message[data-offset="${offset}"]`;

/** What a message shows, for comparisons: text, "(edited)", deleted, reactions `key:count`, replies. */
function shown(page, offset) {
  return page.evaluate((selector) => {
    const item = document.querySelector(selector);
    if (item === null) return null;
    return {
      text: item.querySelector('.text')?.textContent,
      edited: item.querySelector('.edited') !== null,
      deleted: item.classList.contains('deleted'),
      reactions: [...item.querySelectorAll('.reaction')].filter((r) => r.dataset.count !== '0').map((r) => `${r.dataset.key}:${r.dataset.count}`),
      replies: Number(item.querySelector('.thread-link')?.dataset.replies ?? 0),
    };
  }, at(offset));
}

/** Waits until the message at `offset` shows `expected` (the members given). */
async function waitShown(page, offset, expected) {
  await page
    .waitForFunction(
      ([selector, wanted]) => {
        const item = document.querySelector(selector);
        if (item === null) return false;
        const now = {
          text: item.querySelector('.text')?.textContent,
          edited: item.querySelector('.edited') !== null,
          deleted: item.classList.contains('deleted'),
          reactions: [...item.querySelectorAll('.reaction')].filter((r) => r.dataset.count !== '0').map((r) => `${r.dataset.key}:${r.dataset.count}`),
          replies: Number(item.querySelector('.thread-link')?.dataset.replies ?? 0),
        };
        return Object.entries(wanted).every(([k, v]) => JSON.stringify(now[k]) === JSON.stringify(v));
      },
      [at(offset), expected],
      { timeout: TIMEOUT_MS },
    )
    .catch(async (error) => {
      throw new Error(`${error.message}\nmessage ${offset}: wanted ${JSON.stringify(expected)}, shown ${JSON.stringify(await shown(page, offset))}`);
    });
}

describe('the chat: edits, deletes, reactions and threads', () => {
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

  it('alice edits her message in place and deletes another; bob sees it edited and deleted, and cannot change them', async () => {
    const alice = await enter(browser, server, 'alice', 'edits');
    const bob = await enter(browser, server, 'bob', 'edits');
    try {
      await send(alice.page, 'frist draft');
      await send(alice.page, 'not meant for this room');
      const draft = await offsetOf(bob.page, 'frist draft');
      const wrong = await offsetOf(bob.page, 'not meant for this room');
      assert.equal(await bob.page.locator(`${at(draft)} [data-action="edit"], ${at(draft)} [data-action="delete"]`).count(), 0, 'no edit or delete on the messages of others');

      // Escape leaves an edit as it was; Enter saves it.
      await alice.page.click(`${at(draft)} [data-action="edit"]`);
      await alice.page.fill('#edit-input', 'discarded');
      await alice.page.press('#edit-input', 'Escape');
      await waitShown(alice.page, draft, { text: 'frist draft', edited: false });
      assert.equal(await alice.page.evaluate(() => document.activeElement?.dataset.action), 'edit', 'the focus goes back to Edit');
      await alice.page.click(`${at(draft)} [data-action="edit"]`);
      assert.equal(await alice.page.inputValue('#edit-input'), 'frist draft');
      await alice.page.fill('#edit-input', 'first draft');
      await alice.page.press('#edit-input', 'Enter');
      await waitShown(bob.page, draft, { text: 'first draft', edited: true });
      await waitShown(alice.page, draft, { text: 'first draft', edited: true });

      await alice.page.click(`${at(wrong)} [data-action="delete"]`);
      await waitShown(bob.page, wrong, { text: 'message deleted', deleted: true, edited: false });
      await waitShown(alice.page, wrong, { text: 'message deleted', deleted: true });
      assert.equal(await alice.page.locator(`${at(wrong)} button`).count(), 0, 'a deleted message has no buttons');
      assert.deepEqual([...alice.errors, ...bob.errors], []);
    } finally {
      await alice.context.close();
      await bob.context.close();
    }
  });

  it('bob reacts and takes it back, alice sees the counts and who; a reload shows the same edits, deletes and reactions', async () => {
    const alice = await enter(browser, server, 'alice', 'reactions');
    const bob = await enter(browser, server, 'bob', 'reactions');
    try {
      await send(alice.page, 'react to me');
      await send(alice.page, 'edit me');
      await send(alice.page, 'delete me');
      const target = await offsetOf(bob.page, 'react to me');
      const edited = await offsetOf(alice.page, 'edit me');
      const deleted = await offsetOf(alice.page, 'delete me');

      await bob.page.click(`${at(target)} .reaction[data-key="👍"]`);
      await bob.page.click(`${at(target)} .reaction[data-key="😂"]`);
      await waitShown(alice.page, target, { reactions: ['👍:1', '😂:1'] });
      assert.equal(await alice.page.getAttribute(`${at(target)} .reaction[data-key="👍"]`, 'title'), '👍 bob', 'who reacted, on hover');
      assert.equal(await alice.page.getAttribute(`${at(target)} .reaction[data-key="👍"]`, 'aria-pressed'), 'false');
      await waitShown(bob.page, target, { reactions: ['👍:1', '😂:1'] });
      assert.equal(await bob.page.getAttribute(`${at(target)} .reaction[data-key="👍"]`, 'aria-pressed'), 'true');
      // Alice adds hers, bob takes his 😂 back (clicking his own reaction again).
      await alice.page.click(`${at(target)} .reaction[data-key="👍"]`);
      await bob.page.click(`${at(target)} .reaction[data-key="😂"]`);
      await waitShown(alice.page, target, { reactions: ['👍:2'] });
      await waitShown(bob.page, target, { reactions: ['👍:2'] });
      assert.equal(await bob.page.getAttribute(`${at(target)} .reaction[data-key="👍"]`, 'title'), '👍 bob, alice');

      await alice.page.click(`${at(edited)} [data-action="edit"]`);
      await alice.page.fill('#edit-input', 'edited me');
      await alice.page.press('#edit-input', 'Enter');
      await alice.page.click(`${at(deleted)} [data-action="delete"]`);
      const expected = {
        [target]: { text: 'react to me', edited: false, deleted: false, reactions: ['👍:2'] },
        [edited]: { text: 'edited me', edited: true, deleted: false, reactions: [] },
        [deleted]: { text: 'message deleted', edited: false, deleted: true, reactions: [] },
      };
      for (const [offset, state] of Object.entries(expected)) await waitShown(bob.page, offset, state);
      await bob.page.screenshot({ path: join(artifacts, 'chat-actions.png') });

      // Both pages load again: the room's history, folded, shows what they showed live.
      for (const page of [alice.page, bob.page]) {
        await page.reload();
        await waitConnected(page);
        for (const [offset, state] of Object.entries(expected)) await waitShown(page, offset, state);
      }
      assert.equal(await bob.page.getAttribute(`${at(target)} .reaction[data-key="👍"]`, 'aria-pressed'), 'true', 'his reaction is his after the reload');
      assert.deepEqual([...alice.errors, ...bob.errors], []);
    } finally {
      await alice.context.close();
      await bob.context.close();
    }
  });

  it('bob replies in a thread; alice sees the count on the parent, opens the thread and sees the replies, live', async () => {
    const alice = await enter(browser, server, 'alice', 'threads');
    const bob = await enter(browser, server, 'bob', 'threads');
    try {
      await send(alice.page, 'a topic');
      const topic = await offsetOf(bob.page, 'a topic');

      await bob.page.click(`${at(topic)} [data-action="thread"]`);
      await bob.page.waitForSelector('#thread:not([hidden])');
      assert.equal(await bob.page.textContent('#thread-channel'), `chat:threads=${topic}`);
      assert.equal(await bob.page.evaluate(() => document.activeElement?.id), 'thread-message', 'the reply field has the focus');
      await bob.page.keyboard.type('first reply');
      await bob.page.keyboard.press('Enter');
      await bob.page.waitForSelector('#thread-messages li.message .text >> text="first reply"');

      // The server's summary of the thread reaches the parent on both pages.
      await waitShown(alice.page, topic, { replies: 1 });
      await waitShown(bob.page, topic, { replies: 1 });
      await alice.page.click(`${at(topic)} .thread-link`);
      await alice.page.waitForSelector('#thread-messages li.message .text >> text="first reply"');
      assert.equal(await alice.page.textContent('#thread-parent .text'), 'a topic');

      // Live both ways, and the count follows.
      await alice.page.fill('#thread-message', 'second reply');
      await alice.page.press('#thread-message', 'Enter');
      await bob.page.waitForSelector('#thread-messages li.message .text >> text="second reply"');
      await waitShown(bob.page, topic, { replies: 2 });
      await alice.page.screenshot({ path: join(artifacts, 'chat-thread.png') });
      assert.deepEqual(await alice.page.locator('#messages li.message .text').allTextContents(), ['a topic'], 'replies stay in the thread');

      // Escape closes the panel and gives the focus back to the parent's thread button.
      await alice.page.press('#thread-message', 'Escape');
      await alice.page.waitForSelector('#thread', { state: 'hidden' });
      assert.equal(await alice.page.evaluate(() => document.activeElement?.dataset.action), 'thread');
      assert.deepEqual([...alice.errors, ...bob.errors], []);
    } finally {
      await alice.context.close();
      await bob.context.close();
    }
  });
});
