// The dashboard follows the server live; screenshots of it and of the chat go to artifacts/.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { artifacts, launchBrowser, newContext, watchErrors } from '../lib/browser.mjs';
import { joinChat, send, waitForMessages } from '../lib/chat.mjs';
import { HeraldServer } from '../lib/herald.mjs';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

async function screenshot(page, name) {
  const path = join(artifacts, name);
  await page.screenshot({ path, fullPage: true });
  assert.deepEqual(readFileSync(path).subarray(0, 4), PNG, `${name} is a PNG`);
}

const text = (page, selector) => page.locator(selector).innerText();

describe('dashboard', () => {
  let browser;

  before(async () => {
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
  });

  it('shows connections per transport, traffic and the busiest channel as they change; screenshots of it and of the chat', async () => {
    const server = await new HeraldServer().start();
    try {
      const dashboard = await (await newContext(browser)).newPage();
      const errors = watchErrors(dashboard, 'dashboard');
      await dashboard.goto(`${server.baseUrl}/dashboard`);
      await dashboard.waitForSelector('#feed[data-state="connected"]');
      assert.equal(await dashboard.isVisible('#access'), false, 'dotnet run shows the stats without a key');

      const alice = await joinChat(await newContext(browser), server.baseUrl, { name: 'alice', room: 'lobby', transport: 'ws' });
      const bob = await joinChat(await newContext(browser), server.baseUrl, { name: 'bob', room: 'lobby', transport: 'sse' });
      const carol = await joinChat(await newContext(browser), server.baseUrl, { name: 'carol', room: 'help', transport: 'stream' });
      errors.push(...watchErrors(alice, 'alice'), ...watchErrors(bob, 'bob'), ...watchErrors(carol, 'carol'));

      await dashboard.waitForFunction(() =>
        ['c-ws', 'c-sse', 'c-stream'].every((id) => document.getElementById(id).textContent === '1'));
      await dashboard.waitForFunction(() => {
        const first = document.querySelector('#top-channels tr');
        return first?.cells.length === 3 && first.cells[0].textContent === 'chat:lobby' && first.cells[1].textContent === '2';
      });

      const conversation = [
        [alice, 'Has anyone tried the long-polling fallback?'],
        [bob, 'Yes — switch the transport above and watch the badge.'],
        [alice, 'Nice, and it resumes from the last offset after a restart.'],
        [bob, 'Exactly once, in order.'],
      ];
      for (const [page, line] of conversation) await send(page, line);
      await waitForMessages(alice, conversation.map(([, line]) => line));
      for (let i = 0; i < 20; i++) await server.publish('chat:help', { name: 'bot', text: `tick ${i}` });

      // The chart draws both series once traffic came through the stream, and the totals count it.
      await dashboard.waitForFunction(() => document.querySelectorAll('#chart polyline').length === 2);
      await dashboard.waitForFunction(() => Number(document.getElementById('t-publications').textContent.replace(/,/g, '')) >= 24);
      assert.match(await text(dashboard, '#channel-count'), /^2$/);

      await screenshot(dashboard, 'dashboard.png');
      await screenshot(alice, 'chat.png');
      await alice.setViewportSize({ width: 390, height: 780 });
      await screenshot(alice, 'chat-mobile.png');

      // A page that leaves is gone from the figures within a sample or two.
      await carol.context().close();
      await dashboard.waitForFunction(() => document.getElementById('c-stream').textContent === '0');
      assert.deepEqual(errors, []);
    } finally {
      await server.dispose();
    }
  });

  it('where stats are for API keys only, the dashboard asks for the key, refuses a wrong one and then shows the stats', async () => {
    const server = await new HeraldServer({ args: ['--Herald:Stats:Access=ServerOnly'] }).start();
    try {
      const page = await (await newContext(browser)).newPage();
      const errors = watchErrors(page, 'dashboard');
      await page.goto(`${server.baseUrl}/dashboard`);
      await page.waitForSelector('#access:not([hidden])');
      assert.equal(await page.isVisible('#c-ws'), false, 'no figures without the key');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'api-key');

      await page.keyboard.type('hk_not-the-key');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.getElementById('access-error').textContent.includes('refused'));

      await page.fill('#api-key', server.apiKey);
      await page.press('#api-key', 'Enter');
      await page.waitForSelector('#feed[data-state="connected"]');
      await page.waitForSelector('#access', { state: 'hidden' });
      assert.equal(await text(page, '#c-ws'), '0');
      assert.deepEqual(errors, []);
    } finally {
      await server.dispose();
    }
  });
});
