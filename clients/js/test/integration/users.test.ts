// The server acting on its own against a real Herald: a personal channel subscribed at connect,
// the server API unsubscribing a channel and disconnecting the user (3503: the client stays away).

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Herald, Subscription, TransportName } from '../../src/index.js';
import { API_KEY, HeraldServer, until, jwt, SECRET } from './herald-server.js';
import { client, freshChannel } from './recorder.js';

let server: HeraldServer;
const clients: Herald[] = [];

beforeAll(async () => {
  server = await HeraldServer.start({ args: [`--Herald:Auth:HmacSecret=${SECRET}`, '--Herald:Namespaces:me:AutoSubscribe=true'] });
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(async () => {
  await server?.dispose();
});

async function users(user: string, action: 'disconnect' | 'unsubscribe', body?: object): Promise<void> {
  const response = await fetch(`${server.url}/v1/users/${user}/${action}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${API_KEY}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(15_000),
  });
  expect(response.status).toBe(202);
}

function make(user: string, transport: TransportName): Herald {
  const herald = client(server.url, [transport], { token: jwt(user) });
  clients.push(herald);
  return herald;
}

describe.each(['ws', 'sse', 'stream'] as const)('over %s', (transport) => {
  it('follows the personal channel the server subscribes, stops a channel the server unsubscribes, and stays away after 3503', async () => {
    const user = `u${transport}${Date.now().toString(36)}`;
    const herald = make(user, transport);
    const personal: Subscription<unknown>[] = [];
    herald.on('serverSubscribed', (s) => personal.push(s));
    const chat = freshChannel();
    const other = freshChannel();
    const room = herald.subscribe(chat);
    const kept = herald.subscribe(other);
    await Promise.all([room.ready, kept.ready]);
    await until(() => personal.length === 1, 15_000, 'the personal channel was not announced');
    expect(personal[0]?.channel).toBe(`me:${user}`);
    const mentions: unknown[] = [];
    personal[0]?.on('publication', (p) => mentions.push(p.data));
    await server.publish(`me:${user}`, { mention: 1 });
    await until(() => mentions.length === 1, 15_000, 'the personal publication did not arrive');

    const reasons: string[] = [];
    room.on('unsubscribed', (e) => reasons.push(e.reason));
    await users(user, 'unsubscribe', { channel: chat });
    await until(() => reasons.length === 1, 15_000, 'no unsubscribed event');
    expect(reasons).toEqual(['server unsubscribe']);
    expect(room.active).toBe(false);
    const kept1: unknown[] = [];
    kept.on('publication', (p) => kept1.push(p.data));
    await server.publish(other, 'still');
    await until(() => kept1.length === 1, 15_000, 'the other channel stopped');

    const codes: (number | undefined)[] = [];
    herald.on('disconnected', (e) => codes.push(e.code));
    await users(user, 'disconnect');
    await until(() => codes.length === 1, 15_000, 'not disconnected');
    expect(codes).toEqual([3503]);
    await new Promise((r) => setTimeout(r, 300));
    expect(herald.state).toBe('disconnected');
    expect(codes).toHaveLength(1);
  });
});
