// The server is killed (SIGKILL) and started again: with the SQLite store every transport resumes
// without loss or duplicates; with the memory store history is gone, and the client says `reset`.

import { EventSource } from 'eventsource';
import { afterEach, describe, expect, it } from 'vitest';
import type { Herald, HeraldOptions, TransportName } from '../../src/index.js';
import { HeraldServer, until } from './herald-server.js';
import { client, clientLog, freshChannel, range, Received } from './recorder.js';

const cases: readonly (readonly [string, TransportName, HeraldOptions])[] = [
  ['ws', 'ws', {}],
  ['sse (EventSource)', 'sse', { EventSource }],
  ['sse (fetch)', 'sse', { EventSource: null }],
  ['stream', 'stream', {}],
  ['longpoll', 'longpoll', {}],
  ['poll', 'poll', {}],
];

const servers: HeraldServer[] = [];
const clients: Herald[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.dispose();
});

async function start(store: 'sqlite' | 'memory'): Promise<HeraldServer> {
  const server = await HeraldServer.start({ store });
  servers.push(server);
  return server;
}

describe.each(cases)('over %s', (_, transport, options) => {
  it('resumes without loss or duplicates after the server is killed and restarted (SQLite)', async () => {
    const server = await start('sqlite');
    const channel = freshChannel();
    const herald = client(server.url, [transport], options);
    clients.push(herald);
    const log = clientLog(herald);
    const received = new Received<{ n: number }>(herald.subscribe(channel));
    await received.event('subscribed:');
    for (let n = 1; n <= 5; n++) await server.publish(channel, { n });
    await received.count(5);

    await server.kill();
    await until(() => herald.state !== 'connected', 15_000, 'the client did not notice the kill');
    await server.restart();
    for (let n = 6; n <= 10; n++) await server.publish(channel, { n });

    await received.count(10, 60_000);
    expect(received.offsets).toEqual(range(1, 10));
    expect(received.publications.map((p) => p.data.n)).toEqual(range(1, 10));
    expect(received.events.filter((e) => e.startsWith('reset'))).toEqual([]);
    expect(received.events).toContain(`recovered:${transport}:5`);
    // The server was down, not the transport blocked: the client came back on the same one.
    expect(herald.transport).toBe(transport);
    expect(log.at(-1)).toBe(`connected:${transport}`);
  });
});

describe.each(['ws', 'sse', 'longpoll'] as const)('over %s with the memory store', (transport) => {
  it('says reset when the restarted server lost the history, then delivers the new epoch', async () => {
    const server = await start('memory');
    const channel = freshChannel();
    const herald = client(server.url, [transport]);
    clients.push(herald);
    const received = new Received(herald.subscribe(channel));
    await received.event('subscribed:');
    for (let n = 1; n <= 3; n++) await server.publish(channel, { n });
    await received.count(3);
    const before = received.publications[0]?.epoch;

    await server.restart();
    await received.event('reset:', 60_000);
    expect(received.events).toContain(`reset:${transport}:3->0`);
    await server.publish(channel, { n: 1 });
    await received.count(4);

    const last = received.publications[3];
    expect(last?.offset).toBe(1);
    expect(last?.epoch).not.toBe(before);
    expect(received.subscription.position).toEqual({ epoch: last?.epoch, offset: 1 });
  });
});
