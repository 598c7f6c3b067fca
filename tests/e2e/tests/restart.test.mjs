// The server dies mid-conversation (SIGKILL) and comes back on the same port and data directory:
// the pages reconnect by themselves and show every message sent meanwhile, exactly once.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { artifacts, launchBrowser, newContext, watchErrors } from '../lib/browser.mjs';
import { assertContiguous, joinChat, messageTexts, send, shownOffsets, waitConnected, waitForMessages } from '../lib/chat.mjs';
import { HeraldServer } from '../lib/herald.mjs';

describe('server restart', () => {
  it('after a SIGKILL and a restart on the same port and data, the pages reconnect by themselves and show every message sent meanwhile exactly once', async () => {
    const server = await new HeraldServer().start();
    const browser = await launchBrowser();
    let elsewhere = null;
    try {
      const room = 'restart';
      const channel = `chat:${room}`;
      const alice = await joinChat(await newContext(browser), server.baseUrl, { name: 'alice', room });
      const bob = await joinChat(await newContext(browser), server.baseUrl, { name: 'bob', room, transport: 'sse' });
      const pages = [alice, bob];
      const errors = [...watchErrors(alice, 'alice'), ...watchErrors(bob, 'bob')];
      assert.equal(await alice.getAttribute('#transport-badge', 'data-transport'), 'ws');

      await send(alice, 'before the crash');
      await server.publish(channel, { name: 'app', text: 'also before the crash' });
      for (const page of pages) await waitForMessages(page, ['before the crash', 'also before the crash']);

      await server.kill();
      for (const page of pages) {
        await page.waitForSelector('#connection[data-state="reconnecting"]');
        assert.equal(await page.isVisible('#banner'), true, 'the reconnect banner is shown');
      }
      await alice.screenshot({ path: join(artifacts, 'chat-reconnecting.png') });

      // While the pages cannot reach their server, the same data directory serves on another
      // port and the application goes on publishing: these are the messages the pages miss.
      elsewhere = await new HeraldServer({ dataDir: server.dataDir }).start();
      const away = [1, 2, 3, 4, 5].map((i) => `while you were away ${i}`);
      for (const [i, text] of away.entries()) await elsewhere.publish(channel, { name: 'app', text }, `away-${i}`);
      await elsewhere.kill();
      await elsewhere.dispose();
      elsewhere = null;
      for (const page of pages) assert.equal(await page.getAttribute('#connection', 'data-state'), 'reconnecting');

      // Back on the same port and data directory; one more message races the pages' return.
      await server.start();
      await server.publish(channel, { name: 'app', text: 'right after the restart' });
      for (const page of pages) await waitConnected(page);
      assert.equal(await alice.isVisible('#banner'), false, 'the banner is gone once reconnected');

      await send(alice, 'after the restart');
      const expected = ['before the crash', 'also before the crash', ...away, 'right after the restart', 'after the restart'];
      for (const page of pages) {
        await waitForMessages(page, expected);
        assert.deepEqual(await messageTexts(page), expected);
        assertContiguous(await shownOffsets(page));
      }
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await elsewhere?.dispose();
      await server.dispose();
    }
  });
});
