// Each of the five transports against a real `herald serve`: subscribe, receive, publish, and
// resume across a network cut without loss or duplicates.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Herald, TransportName } from '../../src/index.js';
import { HeraldServer, until } from './herald-server.js';
import { client, clientLog, freshChannel, range, Received } from './recorder.js';
import { TcpProxy } from './tcp-proxy.js';

const TRANSPORTS: readonly TransportName[] = ['ws', 'sse', 'stream', 'longpoll', 'poll'];

let server: HeraldServer;
let proxy: TcpProxy;
const clients: Herald[] = [];

beforeAll(async () => {
  server = await HeraldServer.start();
  proxy = await TcpProxy.start(server.port);
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  proxy.restore();
});

afterAll(async () => {
  await proxy?.close();
  await server?.dispose();
});

describe.each(TRANSPORTS)('over %s', (transport) => {
  it('receives publications in order, from the app and from other publishers', async () => {
    const channel = freshChannel();
    const herald = client(server.url, [transport]);
    clients.push(herald);
    const log = clientLog(herald);
    const received = new Received<{ n: number }>(herald.subscribe(channel));
    await received.event('subscribed:');
    expect(herald.state).toBe('connected');
    expect(herald.transport).toBe(transport);
    expect(log).toContain(`connected:${transport}`);

    for (let n = 1; n <= 3; n++) {
      const result = await herald.publish(channel, { n });
      expect(result.offset).toBe(n);
      expect(result.duplicate).toBe(false);
    }
    await server.publish(channel, { n: 4 });
    await server.publish(channel, { n: 5 });

    await received.count(5);
    expect(received.offsets).toEqual(range(1, 5));
    expect(received.publications.map((p) => p.data.n)).toEqual(range(1, 5));
    expect(received.publications.every((p) => p.channel === channel && p.epoch.length > 0)).toBe(true);
  });

  it('resumes after a network cut with exactly the publications it missed', async () => {
    const channel = freshChannel();
    const herald = client(proxy.url, [transport]);
    clients.push(herald);
    const log = clientLog(herald);
    const received = new Received(herald.subscribe(channel));
    await received.event('subscribed:');
    for (let n = 1; n <= 3; n++) await server.publish(channel, { n });
    await received.count(3);

    proxy.cut();
    await until(() => herald.state !== 'connected', 15_000, 'the client did not notice the cut');
    for (let n = 4; n <= 23; n++) await server.publish(channel, { n });
    proxy.restore();

    await received.count(23);
    // Let any late duplicate arrive before counting.
    await server.publish(channel, { n: 24 });
    await received.count(24);
    expect(received.offsets).toEqual(range(1, 24));
    expect(herald.transport).toBe(transport);
    // It did reconnect, and resumed from offset 3 rather than starting live.
    expect(log.filter((e) => e.startsWith('disconnected:')).length).toBeGreaterThan(0);
    expect(received.events).toContain(`recovered:${transport}:3`);
  });
});
