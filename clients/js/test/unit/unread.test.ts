// The arithmetic of the unread book: unread = n at the top − n at the marker, whatever order and
// however often its sources speak — publications replayed, answers overtaken by pushes, summaries
// late, markers from other devices — and the server asked exactly when the book cannot know.

import { describe, expect, it } from 'vitest';
import type { ChannelUnread, Publication } from '../../src/index.js';
import { UnreadBook } from '../../src/unread.js';

const CH = 'chat:lobby';

function book() {
  const loads: [string, boolean][] = [];
  return { book: new UnreadBook('alice', (channel, exact) => loads.push([channel, exact])), loads };
}

function state(top: number, n: number, read: { offset: number; n: number } | null, extra: Partial<ChannelUnread> = {}): ChannelUnread {
  return {
    channel: CH,
    epoch: 'E',
    top,
    n,
    ...(read === null ? {} : { read: { epoch: 'E', offset: read.offset, n: read.n, updatedAt: '2026-01-01T00:00:00Z' } }),
    unread: Math.max(0, n - (read?.n ?? 0)),
    mentions: [],
    ...extra,
  };
}

/** A message at `offset` with ordinal `n` (every publication a message unless `n` is null). */
function message(offset: number, n: number | null, from = 'bob', extra: Partial<Publication> = {}): Publication {
  return {
    channel: CH,
    offset,
    epoch: 'E',
    id: `id${offset}`,
    time: '2026-01-01T00:00:00Z',
    from,
    ...(n === null ? { type: 'herald.react' } : { n }),
    data: {},
    ...extra,
  };
}

const unread = (b: UnreadBook) => b.get(CH)?.unread;

describe('the unread book', () => {
  it('reports nothing for a channel until the server said where the marker is, and asks for it once', () => {
    const { book: b, loads } = book();
    expect(b.publication(message(1, 1))).toBe(false);
    expect(b.publication(message(2, 2))).toBe(false);
    expect(b.get(CH)).toBeUndefined();
    expect(loads).toEqual([[CH, false]]);
    // The answer was computed before the second message: the book keeps what it saw since.
    expect(b.state(state(1, 1, null))).toBe(true);
    expect(b.get(CH)).toMatchObject({ top: 2, n: 2, unread: 2, read: { offset: 0, n: 0 } });
  });

  it('counts each message once: replays, duplicates and an answer older than the pushes change nothing', () => {
    const { book: b } = book();
    b.state(state(10, 8, { offset: 7, n: 5 }));
    expect(unread(b)).toBe(3);
    expect(b.publication(message(11, 9))).toBe(true);
    expect(b.publication(message(11, 9))).toBe(false);
    expect(b.publication(message(12, null))).toBe(false); // not a message
    expect(b.publication(message(13, 10))).toBe(true);
    expect(unread(b)).toBe(5);
    // A replay after a reconnect, out of order, and a summary older than what was seen.
    for (const p of [message(12, null), message(11, 9), message(13, 10)]) b.publication(p);
    expect(b.summary({ channel: CH, epoch: 'E', offset: 11, n: 9 })).toBe(false);
    // An answer computed before the last two messages.
    expect(b.state(state(10, 8, { offset: 7, n: 5 }))).toBe(false);
    expect(b.get(CH)).toMatchObject({ top: 13, n: 10, unread: 5, read: { offset: 7, n: 5 } });
  });

  it('takes the ordinal of summaries and of the WebSocket subscribe reply', () => {
    const { book: b, loads } = book();
    b.state(state(10, 8, { offset: 10, n: 8 }));
    expect(b.summary({ channel: CH, epoch: 'E', offset: 14, n: 11 })).toBe(true);
    expect(unread(b)).toBe(3);
    expect(b.subscribed(CH, { recovered: true, epoch: 'E', offset: 20, n: 15 })).toBe(true);
    expect(b.get(CH)).toMatchObject({ top: 20, n: 15, unread: 7 });
    // SSE and polling name a position, not the top, and no ordinal: nothing to learn.
    expect(b.subscribed(CH, { recovered: true, epoch: 'E', offset: 3 })).toBe(false);
    expect(loads).toEqual([]);
  });

  it("reads the user's own messages: their marker moves to each one they publish", () => {
    const { book: b } = book();
    b.state(state(5, 5, { offset: 2, n: 2 }));
    b.publication(message(6, 6));
    expect(unread(b)).toBe(4);
    expect(b.publication(message(7, 7, 'alice'))).toBe(true);
    expect(b.get(CH)).toMatchObject({ unread: 0, read: { offset: 7, n: 7 } });
    // The publish answer of the same message, and an older own message, move nothing back.
    expect(b.marker(CH, 'E', 7, 7, 'ignore')).toBe(false);
    expect(b.marker(CH, 'E', 6, 6, 'ignore')).toBe(false);
    b.publication(message(8, 8));
    expect(unread(b)).toBe(1);
  });

  it("counts mentions of the user after the marker, not the user's own, and drops those the marker passes", () => {
    const { book: b } = book();
    b.state(state(4, 4, { offset: 4, n: 4 }, { mentions: [] }));
    const mention = (offset: number, n: number, from = 'bob') => message(offset, n, from, { meta: { mentions: ['alice', 'carol'] } });
    expect(b.publication(mention(5, 5))).toBe(true);
    expect(b.publication(message(6, 6, 'bob', { meta: { mentions: ['carol'] } }))).toBe(true); // counted, no mention
    expect(b.publication(mention(7, 7))).toBe(true);
    expect(b.publication(mention(7, 7))).toBe(false);
    expect(b.get(CH)).toMatchObject({ unread: 3, mentions: [5, 7] });
    // The server's list merges with what arrived live.
    expect(b.state(state(5, 5, { offset: 4, n: 4 }, { unread: 1, mentions: [5] }))).toBe(false);
    expect(b.get(CH)?.mentions).toEqual([5, 7]);
    // Another device read up to 6: the mention at 5 is read, the one at 7 is not.
    expect(b.marker(CH, 'E', 6, 6, 'reload')).toBe(true);
    expect(b.get(CH)).toMatchObject({ unread: 1, mentions: [7] });
  });

  it("follows another device's markers forward, and asks the server when one goes back or names another epoch", () => {
    const { book: b, loads } = book();
    b.state(state(10, 10, { offset: 3, n: 3 }));
    expect(b.marker(CH, 'E', 8, 8, 'reload')).toBe(true);
    expect(unread(b)).toBe(2);
    // Coalesced syncs may repeat the newest; an older one is stale — or a "mark unread" there.
    expect(b.marker(CH, 'E', 8, 8, 'reload')).toBe(false);
    expect(loads).toEqual([]);
    expect(b.marker(CH, 'E', 5, 5, 'reload')).toBe(false);
    expect(loads).toEqual([[CH, true]]);
    expect(unread(b)).toBe(2);
    // The server says the marker is at 5 now (marked unread on the other device): taken as is.
    expect(b.state(state(10, 10, { offset: 5, n: 5 }), true)).toBe(true);
    expect(b.get(CH)).toMatchObject({ unread: 5, read: { offset: 5, n: 5 } });
    expect(b.marker(CH, 'F', 1, 1, 'reload')).toBe(false);
    expect(loads).toEqual([[CH, true], [CH, true]]);
  });

  it('a marker past the messages seen (the sync outran them) counts nothing below it', () => {
    const { book: b } = book();
    b.state(state(3, 3, { offset: 3, n: 3 }));
    expect(b.marker(CH, 'E', 6, 6, 'reload')).toBe(false);
    // The messages it covers arrive afterwards: read already.
    for (const offset of [4, 5, 6]) b.publication(message(offset, offset));
    expect(unread(b)).toBe(0);
    b.publication(message(7, 7));
    expect(unread(b)).toBe(1);
  });

  it('a new epoch starts over with everything in it unread, as the server counts it, and asks the server', () => {
    const { book: b, loads } = book();
    b.state(state(50, 40, { offset: 50, n: 40 }, { mentions: [] }));
    expect(unread(b)).toBe(0);
    expect(b.publication(message(1, 1, 'bob', { epoch: 'F' }))).toBe(true);
    expect(b.get(CH)).toMatchObject({ epoch: 'F', top: 1, n: 1, unread: 1, read: { offset: 0, n: 0 } });
    expect(loads).toEqual([[CH, false]]);
    b.publication(message(2, 2, 'bob', { epoch: 'F' }));
    // The answer: another device already read the first message of the new epoch.
    b.state({ ...state(1, 1, { offset: 1, n: 1 }), epoch: 'F', read: { epoch: 'F', offset: 1, n: 1, updatedAt: 'x' } });
    expect(b.get(CH)).toMatchObject({ epoch: 'F', top: 2, n: 2, unread: 1 });
    // A stale answer of the old epoch replaces it (the server is the judge of epochs)…
    b.state(state(50, 40, { offset: 50, n: 40 }));
    expect(b.get(CH)?.epoch).toBe('E');
    // …until the next push of the new one, which asks again.
    b.publication(message(3, 3, 'bob', { epoch: 'F' }));
    expect(b.get(CH)?.epoch).toBe('F');
    expect(loads).toHaveLength(2);
  });

  it("a channel's first publication picks its epoch without a reset", () => {
    const { book: b, loads } = book();
    b.state({ channel: CH, epoch: '', top: 0, n: 0, unread: 0, mentions: [] });
    expect(b.publication(message(1, 1, 'bob', { epoch: 'G' }))).toBe(true);
    expect(b.get(CH)).toMatchObject({ epoch: 'G', unread: 1 });
    expect(loads).toEqual([]);
  });

  it('a subscription reset (history lost meanwhile) asks the server; the reply still gives the ordinal', () => {
    const { book: b, loads } = book();
    b.state(state(10, 10, { offset: 10, n: 10 }));
    expect(b.subscribed(CH, { recovered: false, epoch: 'E', offset: 30, n: 25 })).toBe(true);
    expect(unread(b)).toBe(15);
    expect(loads).toEqual([[CH, false]]);
    expect(b.subscribed('chat:new', { recovered: true, epoch: 'E', offset: 3 })).toBe(false);
    expect(loads).toEqual([[CH, false], ['chat:new', false]]);
  });

  it('marking read drops the count at once when the mark covers everything seen', () => {
    const { book: b } = book();
    b.state(state(10, 9, { offset: 4, n: 4 }, { mentions: [6] }));
    expect(b.marking(CH, 7, 'E')).toBe(false); // an offset below the top: its ordinal is unknown here
    expect(b.marking(CH, 10, 'F')).toBe(false); // another epoch: the server will refuse it
    expect(b.marking(CH, undefined, undefined)).toBe(true);
    expect(b.get(CH)).toMatchObject({ unread: 0, mentions: [], read: { offset: 10, n: 9 } });
  });

  it('reports nothing of channels not loaded, and knows them', () => {
    const { book: b } = book();
    b.publication(message(1, 1));
    b.state({ ...state(2, 2, null), channel: 'chat:b' });
    expect(b.all().map((c) => [c.channel, c.unread])).toEqual([['chat:b', 2]]);
    expect(b.channels()).toEqual([CH, 'chat:b']);
  });
});
