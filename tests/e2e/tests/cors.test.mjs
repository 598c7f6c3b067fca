// A real page on another origin uses Herald's HTTP API from Chromium — fetch publish, history and
// polling, an EventSource, a streamed fetch — and succeeds only when Herald:Cors:AllowedOrigins
// lists that origin. The page is served on 127.0.0.1:PORT by a tiny static server and opened as
// http://localhost:PORT (allowed) or http://127.0.0.1:PORT (another origin, not allowed).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TIMEOUT_MS, launchBrowser, newContext, watchErrors } from '../lib/browser.mjs';
import { HeraldServer } from '../lib/herald.mjs';
import { OtherOrigin } from '../lib/other-origin.mjs';

describe('a page on another origin', () => {
  let other;
  let server;
  let browser;

  before(async () => {
    other = await new OtherOrigin().start();
    server = await new HeraldServer({ args: [`--Herald:Cors:AllowedOrigins:0=${other.origin('localhost')}`] }).start();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
    await other?.close();
  });

  async function runChecks(origin, channel) {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      const errors = watchErrors(page, origin);
      await page.goto(`${origin}/`);
      assert.notEqual(new URL(page.url()).origin, new URL(server.baseUrl).origin);
      const results = await page.evaluate(([herald, ch]) => window.runChecks(herald, ch), [server.baseUrl, channel], { timeout: TIMEOUT_MS });
      assert.deepEqual(errors, []);
      return results;
    } finally {
      await context.close();
    }
  }

  async function history(channel) {
    const response = await fetch(`${server.baseUrl}/v1/channels/${channel}/messages`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    return response.json();
  }

  it('publishes, reads history, polls and follows a channel by EventSource and streaming when its origin is allowed', async () => {
    const channel = 'chat:cors-allowed';
    const results = await runChecks(other.origin('localhost'), channel);
    assert.deepEqual(results, {
      sse: 'subscribed',
      publish: '201',
      ssePublication: 'from another origin',
      // The ETag header is exposed to the page: short polling with If-None-Match works across origins.
      history: '200 etag=true top=1',
      stream: '200 subscribed,publication',
      poll: '200 publications=1',
    });
    assert.equal((await history(channel)).top, 1);
  });

  it('can do none of it from an origin that is not allowed, and stores nothing', async () => {
    const channel = 'chat:cors-refused';
    const results = await runChecks(other.origin('127.0.0.1'), channel);
    assert.equal(results.sse, 'error');
    assert.equal(results.ssePublication, 'none');
    for (const step of ['publish', 'history', 'stream', 'poll']) {
      assert.match(results[step], /^blocked: TypeError/, `${step}: ${results[step]}`);
    }
    assert.equal((await history(channel)).top, 0, 'the refused publish appended nothing');
  });
});
