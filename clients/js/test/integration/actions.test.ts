// Edits, deletes, reactions and threads against a real Herald: the SDK's action helpers publish
// them, and the client's fold (LatestView) of raw history and live pushes gives exactly what the
// server's `view=latest` answers — also for a client that was cut off while they happened and
// resumed (docs/protocol.md: "resume covers edits, deletes and reactions with no extra mechanism").

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LatestView, type Herald, type HeraldError, type TransportName } from '../../src/index.js';
import { HeraldServer, until, jwt, SECRET } from './herald-server.js';
import { client, freshChannel } from './recorder.js';
import { TcpProxy } from './tcp-proxy.js';

let server: HeraldServer;
let proxy: TcpProxy;
const clients: Herald[] = [];

beforeAll(async () => {
  server = await HeraldServer.start({ args: [`--Herald:Auth:HmacSecret=${SECRET}`, '--Herald:Namespaces:chat:Publish=Authenticated'] });
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

function user(sub: string, transport: TransportName = 'ws', url = server.url): Herald {
  const herald = client(url, [transport], { token: jwt(sub) });
  clients.push(herald);
  return herald;
}

/** Raw history, then the subscription's pushes from its top, all folded by one LatestView. */
async function follow(herald: Herald, channel: string): Promise<{ view: LatestView; events: string[] }> {
  const view = new LatestView();
  const events: string[] = [];
  const page = await herald.history(channel, { limit: 1000 });
  for (const publication of page.publications) view.add(publication);
  const subscription = herald.subscribe(channel, { since: { epoch: page.epoch, offset: page.top } });
  subscription.on('publication', (p) => view.add(p));
  subscription.on('recovered', (e) => events.push(`recovered:${e.offset}`));
  subscription.on('reset', () => events.push('reset'));
  await subscription.ready;
  return { view, events };
}

async function refusal(promise: Promise<unknown>): Promise<HeraldError> {
  return promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: HeraldError) => error,
  );
}

describe('actions and the client fold', () => {
  it('folds raw history and live pushes into exactly the server’s latest view, over the WebSocket op and HTTP', async () => {
    const channel = freshChannel();
    const [alice, bob, carol] = [user('alice'), user('bob'), user('carol')];
    const first = (await alice.publish(channel, { text: 'helo' }, { type: 'message' })).offset;
    const second = (await alice.publish(channel, { text: 'oops' }, { type: 'message' })).offset;
    await bob.react(channel, first, '👍');
    // Half of the log comes from history, the rest live.
    const observerClient = user('olga');
    const observer = await follow(observerClient, channel);

    await alice.edit(channel, first, { text: 'hello' });
    await alice.deleteMessage(channel, second);
    await carol.react(channel, first, '👍');
    await carol.react(channel, first, '❤️');
    await bob.react(channel, first, '👍'); // Distinct: counted once.
    await carol.unreact(channel, first, '❤️');
    await bob.react(channel, second, '😂'); // About a deleted message: ignored.
    const third = (await bob.publish(channel, { text: 'a third' }, { type: 'message' })).offset;
    await bob.publish(`${channel}=${first}`, { text: 'a reply' }, { type: 'message' });
    // Only the author edits (the namespace's Edits: Own), checked by the server.
    expect((await refusal(bob.edit(channel, first, { text: 'mine now' }))).code).toBe('not_author');

    // The thread's summary is the server's own publication on the channel, after the reply.
    await until(() => observer.view.get(first)?.thread !== undefined, 10_000, 'no thread summary folded');
    const messages = observer.view.messages;
    expect(messages.map((m) => m.offset)).toEqual([first, second, third]);
    expect(messages[0]).toMatchObject({ data: { text: 'hello' }, version: 2, reactions: [{ key: '👍', count: 2, users: ['bob', 'carol'] }], thread: { replies: 1, last: { from: 'bob' } } });
    expect(messages[1]).toMatchObject({ data: null, deleted: true });

    // The observer's WebSocket is open (the history op); alice follows nothing, so she asks over HTTP.
    for (const reader of [observerClient, alice]) {
      const latest = await reader.history(channel, { view: 'latest' });
      expect(latest.top).toBe(observer.view.lastOffset);
      expect(latest.publications).toEqual(messages);
    }
  });

  it('resumes a client cut off while messages were edited, deleted and reacted to into the same fold as one never cut off', async () => {
    const channel = freshChannel();
    const [alice, bob] = [user('alice'), user('bob')];
    const steady = await follow(user('sam'), channel);
    const flakyClient = user('fay', 'ws', proxy.url);
    const flaky = await follow(flakyClient, channel);
    const first = (await alice.publish(channel, { text: 'one' })).offset;
    const second = (await alice.publish(channel, { text: 'two' })).offset;
    await bob.react(channel, first, '👍');
    await until(() => flaky.view.lastOffset === 3, 10_000, 'the flaky client did not receive the first publications');

    flaky.events.length = 0;
    proxy.cut();
    await until(() => flakyClient.state !== 'connected', 10_000, 'the cut was not noticed');
    await alice.edit(channel, first, { text: 'one, edited' });
    await alice.deleteMessage(channel, second);
    await bob.unreact(channel, first, '👍');
    await bob.react(channel, first, '🎉');
    const last = (await bob.publish(channel, { text: 'three' })).offset;
    await alice.react(channel, last, '❤️');
    await until(() => steady.view.lastOffset === last + 1, 10_000, 'the steady client did not receive everything');
    expect(flaky.view.lastOffset).toBe(3);

    proxy.restore();
    await until(() => flaky.view.lastOffset === last + 1, 10_000, () => `the flaky client did not resume: at ${flaky.view.lastOffset}`);
    expect(flaky.events).toEqual(['recovered:3']);
    expect(flaky.view.messages).toEqual(steady.view.messages);
    expect(steady.view.messages.map((m) => [m.offset, m.data, m.reactions?.map((r) => r.key) ?? []])).toEqual([
      [first, { text: 'one, edited' }, ['🎉']],
      [second, null, []],
      [last, { text: 'three' }, ['❤️']],
    ]);
    expect((await alice.history(channel, { view: 'latest' })).publications).toEqual(steady.view.messages);
  });
});
