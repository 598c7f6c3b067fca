// A page on another origin than Herald's: a tiny static server on 127.0.0.1 and an ephemeral
// port, reached as http://localhost:PORT (one origin) or http://127.0.0.1:PORT (another one).
// Its page calls Herald's HTTP API the way a third-party site would: fetch publish, history and
// polling, an EventSource, a streamed fetch — each step bounded, each outcome reported.

import { createServer } from 'node:http';

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Another origin</title></head>
<body><p>A page of another origin calling Herald.</p>
<script>
// Each step: its outcome as a string ("201", "blocked: TypeError …"), never a throw.
const STEP_MS = 20000;
async function step(run) {
  try { return await run(); } catch (error) { return 'blocked: ' + error.name + ' ' + error.message; }
}
function waitEvent(source, names) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), STEP_MS);
    for (const name of names) source.addEventListener(name, (e) => { clearTimeout(timer); resolve(name === 'error' ? 'error' : JSON.parse(e.data)); }, { once: true });
  });
}
window.runChecks = async (herald, channel) => {
  const results = {};
  const sse = new EventSource(herald + '/v1/sse?channel=' + channel);
  const subscribed = await waitEvent(sse, ['subscribed', 'error']);
  results.sse = typeof subscribed === 'object' ? 'subscribed' : subscribed;
  const publication = typeof subscribed === 'object' ? waitEvent(sse, ['publication', 'error']) : Promise.resolve(null);

  results.publish = await step(async () => {
    const r = await fetch(herald + '/v1/channels/' + channel + '/messages', {
      method: 'POST', body: JSON.stringify({ data: { text: 'from another origin' } }),
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'other-origin-' + channel },
      signal: AbortSignal.timeout(STEP_MS),
    });
    return String(r.status);
  });
  const pushed = await publication;
  results.ssePublication = pushed === null ? 'none' : typeof pushed === 'object' ? pushed.data.text : pushed;
  sse.close();

  results.history = await step(async () => {
    const r = await fetch(herald + '/v1/channels/' + channel + '/messages', { headers: { 'If-None-Match': '"nothing"' }, signal: AbortSignal.timeout(STEP_MS) });
    const body = await r.json();
    return r.status + ' etag=' + (r.headers.get('ETag') !== null) + ' top=' + body.top;
  });

  results.stream = await step(async () => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), STEP_MS);
    const r = await fetch(herald + '/v1/stream?channel=' + channel + '&cursor=' + encodeURIComponent(subscribed?.cursor ?? ''), { signal: controller.signal });
    const reader = r.body.getReader();
    let text = '';
    while (!text.includes('from another origin')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    clearTimeout(timer);
    controller.abort();
    return r.status + ' ' + text.split('\\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l).type).join(',');
  });

  results.poll = await step(async () => {
    const r = await fetch(herald + '/v1/poll?channel=' + channel + '&wait=0', { headers: { 'Last-Event-ID': subscribed?.cursor ?? '' }, signal: AbortSignal.timeout(STEP_MS) });
    const body = await r.json();
    return r.status + ' publications=' + body.publications.length;
  });
  return results;
};
</script></body></html>`;

export class OtherOrigin {
  #server;
  port = 0;

  async start() {
    this.#server = createServer((request, response) => {
      if (request.url === '/' || request.url.startsWith('/?')) {
        response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
        response.end(PAGE);
      } else {
        response.writeHead(404).end();
      }
    });
    await new Promise((resolve, reject) => this.#server.once('error', reject).listen(0, '127.0.0.1', resolve));
    this.port = this.#server.address().port;
    return this;
  }

  /** The page's origin under one name: `localhost` and `127.0.0.1` are two origins to a browser. */
  origin(host) {
    return `http://${host}:${this.port}`;
  }

  async close() {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}
