// Drives Herald's WebSocket transport with the npm `ws` client and prints a JSON summary on stdout.
// Usage: node ws-client.mjs <ws-url> <http-base-url> <api-key> <channel> <count>
import WebSocket from 'ws';

const [wsUrl, httpBase, apiKey, channel, countText] = process.argv.slice(2);
const count = Number(countText);
const summary = { subscribed: null, offsets: [], frames: 0, maxPerFrame: 0, badJson: null, unknownOp: null, pong: null, close: null, error: null };

const finish = (exitCode) => {
  process.stdout.write(JSON.stringify(summary) + '\n');
  process.exit(exitCode);
};
setTimeout(() => { summary.error = 'timeout'; finish(1); }, 45_000).unref();

const ws = new WebSocket(wsUrl);
const send = (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message));

async function publishAll() {
  for (let i = 1; i <= count; i++) {
    const response = await fetch(`${httpBase}v1/channels/${channel}/messages`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ data: { n: i } }),
    });
    if (response.status !== 201) throw new Error(`publish answered ${response.status}`);
  }
}

function onMessage(message) {
  switch (message.type) {
    case 'subscribed':
      summary.subscribed = { recovered: message.recovered, offset: message.offset };
      publishAll().catch((e) => { summary.error = String(e); finish(1); });
      break;
    case 'publication':
      summary.offsets.push(message.offset);
      if (summary.offsets.length === count) {
        // Two requests in one frame: bad JSON, then an unknown op.
        send('{"id":2,"op":\n{"id":3,"op":"dance"}');
      }
      break;
    case 'error':
      if (message.id === 3) {
        summary.unknownOp = message.code;
        send({ id: 4, op: 'ping' });
      } else {
        summary.badJson = message.code;
      }
      break;
    case 'pong':
      summary.pong = message.id;
      ws.close(1000, 'done');
      break;
    case 'ping':
      send({ op: 'pong' });
      break;
    default:
      summary.error = `unexpected message ${JSON.stringify(message)}`;
  }
}

ws.on('open', () => send({ id: 1, op: 'subscribe', channel }));
ws.on('message', (data, isBinary) => {
  if (isBinary) { summary.error = 'binary frame'; return; }
  const lines = data.toString('utf8').split('\n');
  summary.frames++;
  summary.maxPerFrame = Math.max(summary.maxPerFrame, lines.length);
  for (const line of lines) onMessage(JSON.parse(line));
});
ws.on('close', (code, reason) => {
  summary.close = { code, reason: reason.toString() };
  finish(summary.error ? 1 : 0);
});
ws.on('error', (e) => { summary.error = String(e); finish(1); });
