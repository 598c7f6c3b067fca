// docs/protocol.md's examples, as written there, against a real server: the browser WebSocket
// example runs in Chromium on the server's own page (whose Content Security Policy allows only
// that origin), and the long-poll answer it shows has the members a real answer has.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { TIMEOUT_MS, launchBrowser, newContext } from '../lib/browser.mjs';
import { HeraldServer, eventually } from '../lib/herald.mjs';

const protocol = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../../docs/protocol.md'), 'utf8');

/** The first fenced block of `language` after the line that contains `marker`. */
function blockAfter(marker, language) {
  const at = protocol.indexOf(marker);
  assert.ok(at >= 0, `docs/protocol.md no longer says '${marker}'`);
  const block = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(protocol.slice(at))?.[1];
  assert.ok(block !== undefined, `no ${language} block after '${marker}'`);
  return block;
}

describe('docs/protocol.md', () => {
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

  it("the browser WebSocket example subscribes from the server's page on 127.0.0.1 and receives a publication", async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      const logged = [];
      // The example logs objects: their JSON, so a test can read them.
      page.on('console', async (message) => logged.push((await Promise.all(message.args().map((a) => a.jsonValue().then(JSON.stringify, () => a.toString())))).join(' ')));
      await page.goto(`${server.baseUrl}/`);
      // As pasted into the console: evaluated in the page, under its Content Security Policy.
      await page.evaluate(blockAfter("In a browser console on the server's own page", 'js'));
      await eventually(() => logged.some((t) => t.includes('subscribed')), `the example's subscribed reply (the console said: ${logged.join(' | ')})`, TIMEOUT_MS);
      await server.publish('chat:lobby', { text: 'from the docs test' });
      await eventually(() => logged.some((t) => t.includes('from the docs test')), 'the publication in the console', TIMEOUT_MS);
    } finally {
      await context.close();
    }
  });

  it('the long-poll answer shown has the members, and the publication shape, of a real one', async () => {
    const documented = JSON.parse(blockAfter('## Long polling and short polling', 'http').split(/\r?\n\r?\n/)[1]);
    const base = `${server.baseUrl}/v1/poll?channel=chat:docs-poll`;
    const first = await (await fetch(`${base}&wait=0`, { signal: AbortSignal.timeout(TIMEOUT_MS) })).json();
    await server.publish('chat:docs-poll', { text: 'hi' });
    const real = await (await fetch(`${base}&wait=5&cursor=${first.cursor}`, { signal: AbortSignal.timeout(TIMEOUT_MS) })).json();

    assert.deepEqual(Object.keys(documented).sort(), Object.keys(real).sort());
    assert.equal(real.publications.length, 1);
    assert.deepEqual(Object.keys(documented.publications[0]).sort(), Object.keys(real.publications[0]).sort());
    assert.equal(documented.publications[0].type, real.publications[0].type);
    assert.equal(real.publications[0].msgType, 'message');
  });
});
