// One page opens 20 EventSources, then 20 streaming fetches (NDJSON), on one origin, and a
// publication is sent to their channel. Over plain HTTP/1.1 the browser holds at most 6
// connections per host, so only those streams open and the rest wait for a free connection; over
// HTTP/2 (herald serve with a certificate from `herald dev-cert`) every stream shares one
// connection and all 20 receive. Counts, not timings, are asserted: the HTTP/1.1 wait is bounded,
// and a stream that did not open by then could not have opened at all.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TIMEOUT_MS, launchBrowser, newContext, watchErrors } from '../lib/browser.mjs';
import { HeraldServer, eventually, heraldDll } from '../lib/herald.mjs';

const STREAMS = 20;
// Chromium's limit of connections per host for HTTP/1.1 (the HTML spec's EventSource note).
const HTTP1_CONNECTIONS_PER_HOST = 6;
// How long the HTTP/1.1 page is given for more streams to open once the first has: far above a
// stream's open time on a busy machine; none can open while the first 6 are held.
const SETTLE_MS = 3_000;

/** Opens `count` streams of `kind` ('sse' or 'stream') on the page's own origin and counts what they receive in window.h2. */
function openStreams([kind, count, channel]) {
  const state = { subscribed: 0, received: 0 };
  window.h2 = state;
  for (let i = 0; i < count; i++) {
    if (kind === 'sse') {
      const source = new EventSource(`/v1/sse?channel=${channel}`);
      source.addEventListener('subscribed', () => state.subscribed++);
      source.addEventListener('publication', () => state.received++);
      continue;
    }
    fetch(`/v1/stream?channel=${channel}`).then(async (response) => {
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end + 1);
          if (!line) continue;
          const type = JSON.parse(line).type;
          if (type === 'subscribed') state.subscribed++;
          else if (type === 'publication') state.received++;
        }
      }
    }).catch(() => {});
  }
}

/** POST over https trusting exactly the development certificate, as an application server would. */
function publishTls(server, ca, channel, data) {
  const body = JSON.stringify({ data, type: 'message' });
  return new Promise((resolve, reject) => {
    const req = request(`${server.baseUrl}/v1/channels/${channel}/messages`, {
      method: 'POST',
      ca,
      headers: { Authorization: `Bearer ${server.apiKey}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      timeout: 30_000,
    }, (response) => {
      response.resume();
      response.on('end', () => (response.statusCode === 201 ? resolve() : reject(new Error(`publish answered ${response.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('publish timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

describe('20 streams from one page', () => {
  let certificates;
  let ca;
  let plain;
  let tls;
  let browser;

  before(async () => {
    certificates = mkdtempSync(join(tmpdir(), 'herald-e2e-cert-'));
    execFileSync('dotnet', [heraldDll, 'dev-cert', '--out', certificates], { stdio: 'ignore', timeout: 60_000 });
    ca = readFileSync(join(certificates, 'cert.pem'));
    plain = await new HeraldServer().start();
    tls = await new HeraldServer({ tls: { cert: join(certificates, 'cert.pem'), key: join(certificates, 'key.pem') } }).start();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await plain?.dispose();
    await tls?.dispose();
    if (certificates) rmSync(certificates, { recursive: true, force: true });
  });

  /** Opens the streams in a fresh context (its own connection pool), publishes once, and returns what the page counted. */
  async function run(server, kind, channel, publish) {
    const context = await newContext(browser, { ignoreHTTPSErrors: true });
    try {
      const page = await context.newPage();
      const errors = watchErrors(page, `${kind} on ${server.baseUrl}`);
      const loaded = await page.goto(`${server.baseUrl}/healthz`);
      const protocol = await page.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol);
      assert.equal(loaded.status(), 200);
      await page.evaluate(openStreams, [kind, STREAMS, channel]);
      const count = () => page.evaluate(() => ({ ...window.h2 }));

      if (server.tls) {
        await eventually(async () => (await count()).subscribed === STREAMS, `${STREAMS} ${kind} streams subscribed over HTTP/2`, TIMEOUT_MS);
      } else {
        await eventually(async () => (await count()).subscribed >= 1, `a first ${kind} stream subscribed`, TIMEOUT_MS);
        await new Promise((r) => setTimeout(r, SETTLE_MS));
      }
      const opened = (await count()).subscribed;
      await publish(channel);
      await eventually(async () => (await count()).received === opened, `the ${opened} open ${kind} streams to receive`, TIMEOUT_MS);
      if (!server.tls) await new Promise((r) => setTimeout(r, SETTLE_MS));
      assert.deepEqual(errors, []);
      return { protocol, ...(await count()) };
    } finally {
      await context.close();
    }
  }

  for (const kind of ['sse', 'stream']) {
    it(`${kind}: over HTTP/1.1 only the browser's 6 connections per host receive, the rest stall`, async (t) => {
      const result = await run(plain, kind, `e2e:h1-${kind}`, (channel) => plain.publish(channel, { text: 'h1' }));
      t.diagnostic(`HTTP/1.1 ${kind}: ${result.received} of ${STREAMS} received`);
      assert.equal(result.protocol, 'http/1.1');
      assert.ok(result.received >= 1 && result.received <= HTTP1_CONNECTIONS_PER_HOST, `received ${result.received} of ${STREAMS}`);
      assert.equal(result.received, result.subscribed);
    });

    it(`${kind}: over HTTP/2 with TLS all ${STREAMS} receive on one connection`, async (t) => {
      const result = await run(tls, kind, `e2e:h2-${kind}`, (channel) => publishTls(tls, ca, channel, { text: 'h2' }));
      t.diagnostic(`HTTP/2 ${kind}: ${result.received} of ${STREAMS} received`);
      assert.equal(result.protocol, 'h2');
      assert.equal(result.subscribed, STREAMS);
      assert.equal(result.received, STREAMS);
    });
  }
});
