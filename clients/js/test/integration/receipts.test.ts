// Receipts against a real Herald: in a direct channel, alice's subscription with receipts sees
// bob's delivered (set by bob's SDK as it hands her message over) and then his seen (his markRead),
// over WebSocket and over SSE; a private markRead shows her nothing; a client on long polling
// reads the receipts when it subscribes.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { directChannel, type Herald, type ReceiptsEvent, type TransportName } from '../../src/index.js';
import { HeraldServer, until, jwt, SECRET } from './herald-server.js';
import { client } from './recorder.js';

const WAIT_MS = 15_000;

let server: HeraldServer;
const clients: Herald[] = [];

beforeAll(async () => {
  // Diffs a tenth of a second apart (1 s by default), so the test waits on the SDK, not the conflation.
  server = await HeraldServer.start({ args: [`--Herald:Auth:HmacSecret=${SECRET}`, '--Herald:Namespaces:dm:ReceiptsInterval=00:00:00.100'] });
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(async () => {
  await server?.dispose();
});

function user(sub: string, transport: TransportName): Herald {
  const herald = client(server.url, [transport], { token: jwt(sub) });
  clients.push(herald);
  return herald;
}

let users = 0;
const someone = (name: string) => `${name}${process.pid}x${++users}`;

/** Where `of` stands in `herald`'s receipts of `channel`: its seen and delivered offsets (0: none). */
function marks(herald: Herald, channel: string, of: string): { seen: number; delivered: number } {
  const member = herald.receipts.get(channel)?.members[of];
  return { seen: member?.seen?.offset ?? 0, delivered: member?.delivered?.offset ?? 0 };
}

async function shown(herald: Herald, channel: string, of: string, wanted: { seen: number; delivered: number }): Promise<void> {
  await until(
    () => marks(herald, channel, of).seen === wanted.seen && marks(herald, channel, of).delivered === wanted.delivered,
    WAIT_MS,
    () => `${of}: wanted ${JSON.stringify(wanted)}, shown ${JSON.stringify(marks(herald, channel, of))}`,
  );
}

describe.each(['ws', 'sse'] as const)('receipts over %s', (transport) => {
  it("shows bob's delivered as his SDK hands alice's message over, then his seen after markRead; a private read shows nothing", async () => {
    const [alice, bob] = [someone('alice'), someone('bob')];
    const dm = directChannel([alice, bob]);
    const aliceClient = user(alice, transport);
    const bobClient = user(bob, transport);
    const events: ReceiptsEvent[] = [];
    const aliceDm = aliceClient.subscribe(dm, { receipts: true });
    aliceDm.on('receipts', (e) => events.push(e));
    const bobDm = bobClient.subscribe(dm, { receipts: true });
    await Promise.all([aliceDm.ready, bobDm.ready]);
    await until(() => events.length > 0, WAIT_MS, 'no receipts snapshot');
    expect(events[0]).toMatchObject({ channel: dm, members: {} });

    const first = await aliceClient.publish(dm, { text: 'hi bob' });
    // Her own message is seen by her (never marked delivered by her SDK); bob's SDK received it and said so.
    await shown(aliceClient, dm, alice, { seen: first.offset, delivered: 0 });
    await shown(aliceClient, dm, bob, { seen: 0, delivered: first.offset });
    expect(aliceClient.receipts.deliveredTo(dm, first.offset, first.epoch)).toEqual([bob]);
    expect(aliceClient.receipts.seenBy(dm, first.offset, first.epoch)).toEqual([alice]);

    await bobClient.markRead(dm, { offset: first.offset, epoch: first.epoch });
    await shown(aliceClient, dm, bob, { seen: first.offset, delivered: first.offset });
    expect(aliceClient.receipts.seenBy(dm, first.offset, first.epoch).sort()).toEqual([alice, bob].sort());
    expect(events.at(-1)?.changed).toEqual([bob]);

    // A private read: bob's count goes to 0, alice is shown his delivered only.
    await aliceClient.publish(dm, { text: 'are you there?' });
    const read = await bobClient.markRead(dm, { private: true });
    expect(read.state.unread).toBe(0);
    // A fence: alice's next message moves her own seen; bob's would have come with it or before.
    const third = await aliceClient.publish(dm, { text: 'ok' });
    await until(() => marks(aliceClient, dm, alice).seen === third.offset, WAIT_MS, 'alice seen of her third message');
    expect(marks(aliceClient, dm, bob).seen).toBe(first.offset);
    expect(bobClient.receipts.get(dm)?.members[bob]?.seen?.offset).toBe(first.offset);
  });
});

describe('receipts on long polling', () => {
  it('reads the snapshot when it subscribes, and again after an answer that brought a publication', async () => {
    const [alice, bob] = [someone('alice'), someone('bob')];
    const dm = directChannel([alice, bob]);
    const aliceClient = user(alice, 'ws');
    const first = await aliceClient.publish(dm, { text: 'hi' });
    const bobWriter = user(bob, 'ws');
    await bobWriter.markRead(dm, { offset: first.offset });
    await bobWriter.markDelivered(dm, { offset: first.offset, epoch: first.epoch });

    const poller = user(alice, 'longpoll');
    const subscription = poller.subscribe(dm, { receipts: true });
    const events: ReceiptsEvent[] = [];
    subscription.on('receipts', (e) => events.push(e));
    await until(() => events.length > 0, WAIT_MS, 'no receipts read');
    expect(events[0]?.members[bob]).toMatchObject({ seen: { offset: first.offset, epoch: first.epoch }, delivered: { offset: first.offset } });
    expect(poller.receipts.seenBy(dm, first.offset).sort()).toEqual([alice, bob].sort());

    // Bob writes: the poll brings it, and the receipts read after it shows his own seen there.
    const reply = await bobWriter.publish(dm, { text: 'hello' });
    await until(() => marks(poller, dm, bob).seen === reply.offset, WAIT_MS, () => `bob's seen of his reply, shown ${JSON.stringify(marks(poller, dm, bob))}`);
    // The poller handed bob's message over: alice's delivered follows, over PUT. On polling a receipt
    // that comes with no publication shows with the next one, or when read on demand.
    const deadline = Date.now() + WAIT_MS;
    while ((await poller.readReceipts(dm)).members[alice]?.delivered?.offset !== reply.offset) {
      if (Date.now() > deadline) throw new Error(`alice's delivered never reached ${reply.offset}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(marks(poller, dm, alice).delivered).toBe(reply.offset);
  });
});
