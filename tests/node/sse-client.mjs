// Drives Herald's /v1/sse with the third-party `eventsource` package (v3, WHATWG-compliant) and
// prints one JSON summary line for SseEventSourceTests to assert on.
//
//   node sse-client.mjs <baseUrl> <channel> <apiKey> <count>
//
// Phase 1: connect, publish <count> (one carrying line breaks), receive them.
// Phase 2: cut the connection under the library; while it waits to reconnect, publish <count>
//          more; the library reconnects by itself with its Last-Event-ID header.
// Phase 3: close; publish <count> more; a new EventSource resumes with ?lastEventId=.
import { EventSource } from 'eventsource';

const [baseUrl, channel, apiKey, countArg] = process.argv.slice(2);
const count = Number(countArg);
const multiLine = 'line1\nline2\r\nline3';
const deadline = setTimeout(() => fail('timed out'), 60_000);

function fail(message) {
  console.log(JSON.stringify({ ok: false, error: message }));
  process.exit(1);
}

async function publish(first, n) {
  for (let i = first; i < first + n; i++) {
    const data = i % 10 === 3 ? { n: i, text: multiLine } : { n: i };
    const response = await fetch(new URL(`v1/channels/${channel}/messages`, baseUrl), {
      method: 'POST',
      headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ data }),
    });
    if (response.status !== 201) fail(`publish ${i} answered ${response.status}`);
  }
}

function deferred() {
  let resolve;
  const promise = new Promise((r) => { resolve = r; });
  return { promise, resolve };
}

// A fetch for the library that records the Last-Event-ID it sends, can hold a reconnect back, and
// can cut the current response so that the library sees the stream end and reconnects on its own.
const requests = [];
let holdNextRequest = null;
let cutCurrent = null;
async function wrappedFetch(url, init) {
  requests.push({ url: String(url), lastEventId: init.headers['Last-Event-ID'] ?? null });
  if (holdNextRequest) await holdNextRequest;
  const response = await fetch(url, init);
  const reader = response.body.getReader();
  const body = new ReadableStream({
    start(controller) {
      cutCurrent = () => { reader.cancel().catch(() => {}); controller.close(); };
    },
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) controller.close(); else controller.enqueue(value);
      } catch (err) {
        controller.error(err);
      }
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

function track(source, sink) {
  source.addEventListener('subscribed', (e) => sink.subscribed.push({ data: JSON.parse(e.data), lastEventId: e.lastEventId }));
  source.addEventListener('publication', (e) => {
    const p = JSON.parse(e.data);
    sink.publications.push({ offset: p.offset, n: p.data.n, text: p.data.text ?? null, lastEventId: e.lastEventId, rawNewline: /[\r\n]/.test(e.data) });
    sink.onPublication?.();
  });
}

function waitFor(sink, total) {
  const done = deferred();
  const check = () => { if (sink.publications.length >= total) done.resolve(); };
  sink.onPublication = check;
  check();
  return done.promise;
}

const summary = { ok: true, phases: [] };
const sink = { subscribed: [], publications: [] };

// Phase 1.
const es = new EventSource(new URL(`v1/sse?channel=${channel}`, baseUrl), { fetch: wrappedFetch });
track(es, sink);
await new Promise((resolve) => es.addEventListener('subscribed', resolve, { once: true }));
await publish(1, count);
await waitFor(sink, count);

// Phase 2: hold the library's reconnect until the missed publications exist.
const published = deferred();
holdNextRequest = published.promise;
cutCurrent();
await publish(count + 1, count);
published.resolve();
holdNextRequest = null;
await waitFor(sink, 2 * count);
const lastId = es.lastEventId ?? sink.publications.at(-1).lastEventId;
es.close();

// Phase 3: a fresh EventSource resumes with ?lastEventId= (what a page does after a reload).
await publish(2 * count + 1, count);
const sink3 = { subscribed: [], publications: [] };
const es3 = new EventSource(new URL(`v1/sse?channel=${channel}&lastEventId=${encodeURIComponent(lastId)}`, baseUrl));
track(es3, sink3);
await waitFor(sink3, count);
es3.close();

summary.requests = requests;
summary.subscribed = [...sink.subscribed, ...sink3.subscribed].map((s) => s.data.channels[channel]);
summary.offsets = sink.publications.map((p) => p.offset);
summary.resumedOffsets = sink3.publications.map((p) => p.offset);
summary.numbers = [...sink.publications, ...sink3.publications].map((p) => p.n);
summary.multiLineCount = [...sink.publications, ...sink3.publications].filter((p) => p.text === multiLine).length;
summary.rawNewlines = [...sink.publications, ...sink3.publications].filter((p) => p.rawNewline).length;
summary.lastEventId = lastId;
clearTimeout(deadline);
console.log(JSON.stringify(summary));
process.exit(0);
