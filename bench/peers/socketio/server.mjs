// Socket.IO peer for Herald's fan-out benchmark (bench/compare-socketio.sh).
//
//   node server.mjs --port 3000 [--polling]
//
// A client connects, emits `join` with a room name and gets an ack `{top}` (the number of messages
// published to the room so far). `POST /publish/:room` with a JSON body `{"data":…}` numbers it —
// the room's next offset — and emits `{offset, data}` to the room as event `m` (one encode per
// broadcast, as Socket.IO does), then answers 201 `{room, offset}`; node runs one request at a time,
// so every member sees the offsets in order, whatever the number of publishing connections.
// `GET /top/:room` answers `{"top":N}`. Chat: a client's `say` event (room, data) is relayed to the
// room (sender included) as `m` with the data as sent. Transports: WebSocket only by default,
// long-polling only with --polling.
import http from 'node:http';
import { Server } from 'socket.io';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
};
const port = Number(option('port', '3000'));
const host = option('host', '127.0.0.1');
const polling = args.includes('--polling');

const tops = new Map();
const route = /^\/(publish|top)\/([^/?]+)/;

function answer(res, status, json) {
  const body = JSON.stringify(json);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

// Socket.IO's engine takes /socket.io/ requests and hands every other request to this handler.
const httpServer = http.createServer((req, res) => {
  if (req.url === '/healthz') return answer(res, 200, { status: 'ok' });
  const match = route.exec(req.url ?? '');
  if (!match) return answer(res, 404, { error: 'not found' });
  const room = decodeURIComponent(match[2]);
  if (match[1] === 'top' && req.method === 'GET') return answer(res, 200, { top: tops.get(room) ?? 0 });
  if (match[1] !== 'publish' || req.method !== 'POST') return answer(res, 405, { error: 'method not allowed' });

  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return answer(res, 400, { error: 'body is not JSON' });
    }
    const offset = (tops.get(room) ?? 0) + 1;
    tops.set(room, offset);
    io.to(room).emit('m', { offset, data: body?.data ?? null });
    answer(res, 201, { room, offset });
  });
});

const io = new Server(httpServer, {
  transports: polling ? ['polling'] : ['websocket'],
  serveClient: false,
});

io.on('connection', (socket) => {
  socket.on('join', (room, ack) => {
    if (typeof room !== 'string') return;
    socket.join(room);
    if (typeof ack === 'function') ack({ top: tops.get(room) ?? 0 });
  });
  socket.on('say', (room, data) => {
    if (typeof room === 'string') io.to(room).emit('m', data);
  });
});

httpServer.listen(port, host, () => {
  console.log(`socket.io peer on http://${host}:${port} (${polling ? 'long-polling' : 'websocket'} only), pid ${process.pid}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => { io.close(); process.exit(0); });
