// What a person does on the chat page, as steps the tests share.

import assert from 'node:assert/strict';
import { TIMEOUT_MS } from './browser.mjs';

/**
 * Opens the chat, picks the transport with the page's switcher, and joins `room` as `name`;
 * resolves once the page says it is connected (on `transport`, unless it is `auto`). `token`: a
 * user token, given to the page in the fragment (`/#token=<JWT>`), as the README says.
 */
export async function joinChat(context, baseUrl, { name, room, transport = 'auto', token }) {
  const page = await context.newPage();
  await page.goto(`${baseUrl}/${token === undefined ? '' : `#token=${token}`}`);
  await page.selectOption('#transport', transport);
  await page.fill('#name', name);
  await page.fill('#room', room);
  await page.click('#welcome-form button[type=submit]');
  await waitConnected(page, transport === 'auto' ? undefined : transport);
  return page;
}

export async function waitConnected(page, transport) {
  await page.waitForSelector('#connection[data-state="connected"]', { timeout: TIMEOUT_MS });
  if (transport !== undefined) {
    await page.waitForSelector(`#transport-badge[data-transport="${transport}"]`, { timeout: TIMEOUT_MS });
  }
}

export async function send(page, text, { typed = false } = {}) {
  // typed: key by key, as a person types (what the input's key handlers see), not filled at once.
  if (typed) await page.locator('#message').pressSequentially(text, { delay: 20 });
  else await page.fill('#message', text);
  await page.press('#message', 'Enter');
  // Sent once the input is cleared: the publish was committed.
  await page.waitForFunction(() => document.getElementById('message').value === '', null, { timeout: TIMEOUT_MS });
}

/** The texts of the messages shown, in order. */
export async function messageTexts(page) {
  return page.locator('#messages .message .text').allTextContents();
}

/** Waits until every text in `texts` is shown. */
export async function waitForMessages(page, texts) {
  await page.waitForFunction(
    (wanted) => {
      const shown = new Set([...document.querySelectorAll('#messages .message .text')].map((e) => e.textContent));
      return wanted.every((t) => shown.has(t));
    },
    texts,
    { timeout: TIMEOUT_MS },
  ).catch(async (error) => {
    throw new Error(`${error.message}\nwanted: ${JSON.stringify(texts)}\nshown: ${JSON.stringify(await messageTexts(page))}`);
  });
}

/** The offsets of the shown messages: exactly once each, in order, means 1, 2, 3, … with no repeat. */
export async function shownOffsets(page) {
  return page.locator('#messages .message').evaluateAll((items) => items.map((i) => Number(i.dataset.offset)));
}

export function assertContiguous(offsets, from = 1) {
  assert.deepEqual(offsets, Array.from({ length: offsets.length }, (_, i) => from + i), `offsets ${JSON.stringify(offsets)}`);
}
