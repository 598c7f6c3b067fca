// Transport fallback against a real server: a refused WebSocket, a WebSocket that is cut as soon
// as it opens, and a server restart that must not push the client off its preferred transport.

import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Herald, WebSocketConstructor } from '../../src/index.js';
import { HeraldServer, until } from './herald-server.js';
import { client, clientLog, freshChannel, range, Received } from './recorder.js';

/** A browser page on another origin: Herald refuses its WebSocket (403 origin_not_allowed) before the upgrade. */
class ForeignOriginWebSocket extends WebSocket {
  constructor(url: string) {
    super(url, { origin: 'http://elsewhere.example' });
  }
}

/** A middlebox that lets WebSockets open and kills them 100 ms later. */
class ShortLivedWebSocket extends WebSocket {
  static opened = 0;
  constructor(url: string) {
    super(url);
    this.on('open', () => {
      ShortLivedWebSocket.opened++;
      setTimeout(() => this.terminate(), 100);
    });
  }
}

const DEFAULT_ORDER = ['ws', 'sse', 'stream', 'longpoll'] as const;

let server: HeraldServer;
const clients: Herald[] = [];

beforeAll(async () => {
  server = await HeraldServer.start({ store: 'sqlite' });
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(async () => {
  await server?.dispose();
});

describe('fallback', () => {
  it('moves to SSE when the server refuses the WebSocket, and still publishes and receives', async () => {
    const channel = freshChannel();
    const herald = client(server.url, DEFAULT_ORDER, { WebSocket: ForeignOriginWebSocket as WebSocketConstructor });
    clients.push(herald);
    const log = clientLog(herald);
    const received = new Received(herald.subscribe(channel));
    await received.event('subscribed:sse');

    expect(herald.transport).toBe('sse');
    expect(log[0]).toBe('connecting:ws');
    expect(log[1]).toMatch(/^disconnected:ws:failed to open/);
    expect(log.slice(2)).toEqual(['connecting:sse', 'connected:sse']);

    await herald.publish(channel, { n: 1 });
    await server.publish(channel, { n: 2 });
    await received.count(2);
    expect(received.offsets).toEqual([1, 2]);
  });

  it('moves on from a WebSocket that is cut right after it opens, three times in a row', async () => {
    ShortLivedWebSocket.opened = 0;
    const channel = freshChannel();
    const herald = client(server.url, DEFAULT_ORDER, { WebSocket: ShortLivedWebSocket as WebSocketConstructor });
    clients.push(herald);
    const log = clientLog(herald);
    const received = new Received(herald.subscribe(channel));
    await received.event('subscribed:sse');

    expect(ShortLivedWebSocket.opened).toBe(3);
    expect(log.filter((e) => e === 'connected:ws')).toHaveLength(3);
    for (let n = 1; n <= 3; n++) await server.publish(channel, { n });
    await received.count(3);
    expect(received.offsets).toEqual(range(1, 3));
  });

  it('comes back on WebSocket, not a fallback, after the server restarts', async () => {
    const channel = freshChannel();
    const herald = client(server.url, DEFAULT_ORDER);
    clients.push(herald);
    const log = clientLog(herald);
    const received = new Received(herald.subscribe(channel));
    await received.event('subscribed:ws');
    await server.publish(channel, { n: 1 });
    await received.count(1);

    await server.kill();
    await until(() => herald.state !== 'connected', 15_000, 'the client did not notice the kill');
    // Several failed attempts while the server is down, none of them moving to SSE.
    await until(() => log.filter((e) => e.startsWith('disconnected:ws')).length >= 4, 30_000, () => `too few attempts: ${log.join(' ')}`);
    await server.restart();
    await server.publish(channel, { n: 2 });

    await received.count(2, 60_000);
    expect(received.offsets).toEqual([1, 2]);
    expect(herald.transport).toBe('ws');
    expect(log.filter((e) => e.startsWith('connecting:') && e !== 'connecting:ws')).toEqual([]);
  });
});
