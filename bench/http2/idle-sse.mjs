// Holds N idle SSE streams open against herald and prints "ready <N>" once every one has its
// `subscribed` event; exits when stdin closes. Modes:
//   h1      plain http, one TCP connection per stream (a browser's HTTP/1.1)
//   h1-tls  https with ALPN http/1.1, one TLS connection per stream
//   h2      https with ALPN h2, streams packed MAX_STREAMS to a connection (a browser opens one
//           connection per origin; past the server's SETTINGS_MAX_CONCURRENT_STREAMS, 100 by
//           default, a load of many users needs more of them)
// usage: node idle-sse.mjs <mode> <base-url> <N> [ca.pem]
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';

const [mode, base, countText, caPath] = process.argv.slice(2);
const count = Number(countText);
const ca = caPath ? readFileSync(caPath) : undefined;
const MAX_STREAMS = Number(process.env.MAX_STREAMS ?? 100);
const path = '/v1/sse?channel=idle:h2';
const held = [];
let subscribed = 0;

function onData(chunks) {
  let seen = false;
  return (chunk) => {
    if (seen) return;
    chunks.text += chunk;
    if (chunks.text.includes('event: subscribed')) {
      seen = true;
      chunks.text = '';
      if (++subscribed === count) {
        console.log(`ready ${count}`);
        if (process.env.EXIT_WHEN_READY) process.exit(0);
      }
    }
  };
}

function fail(error) {
  console.error(`stream failed: ${error.message}`);
  process.exit(1);
}

async function openHttp1(secure) {
  const agent = new (secure ? https : http).Agent({ keepAlive: false, maxSockets: Infinity });
  for (let i = 0; i < count; i++) {
    const req = (secure ? https : http).get(`${base}${path}`, { agent, ca, ALPNProtocols: ['http/1.1'] }, (res) => {
      res.setEncoding('utf8');
      res.on('data', onData({ text: '' }));
      res.on('error', fail);
    });
    req.on('error', fail);
    held.push(req);
    if (i % 200 === 199) await new Promise((r) => setTimeout(r, 50)); // about 4,000/s: no SYN backlog overflow
  }
}

async function openHttp2() {
  const sessions = [];
  for (let i = 0; i < count; i++) {
    if (i % MAX_STREAMS === 0) {
      const session = http2.connect(base, { ca });
      session.on('error', fail);
      sessions.push(session);
    }
    const stream = sessions.at(-1).request({ ':path': path, accept: 'text/event-stream' });
    stream.setEncoding('utf8');
    stream.on('data', onData({ text: '' }));
    stream.on('error', fail);
    held.push(stream);
    if (i % 200 === 199) await new Promise((r) => setTimeout(r, 50));
  }
}

if (mode === 'h2') await openHttp2();
else await openHttp1(mode === 'h1-tls');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
