// The arithmetic of unread counts, kept on the client: unread = n at the top − n at the marker
// (docs/protocol.md, "Read markers and unread counts"). Pure — no timers, no I/O — so every rule
// is unit-tested; UnreadTracker feeds it and asks the server when it cannot know.

import type { SubscribeReply } from './position.js';
import type { ChannelSummary, ChannelUnread, UnreadCount } from './read-types.js';
import type { Publication } from './types.js';

/** The book cannot know a channel's count from what it saw: ask the server (`exact`: take its marker even if lower than the one held). */
export type LoadRequest = (channel: string, exact: boolean) => void;

interface Entry {
  epoch: string;
  top: number;
  n: number;
  readOffset: number;
  readN: number;
  /** Offsets after the marker, ascending. */
  mentions: number[];
  /** A server state was applied: until then the marker is unknown and nothing is reported. */
  loaded: boolean;
}

/**
 * Per channel: the newest offset and ordinal seen, the user's marker and the mentions after it.
 * Every source may repeat itself or arrive late — a publication replayed after a reconnect, an
 * answer computed before a push that overtook it, a summary older than a publication — so
 * everything only moves forward within an epoch: the top and its ordinal to the highest seen,
 * the marker to the highest offset. Moving a marker back ("mark unread", here or on another
 * device) and a new epoch are the server's word: the book asks for it.
 */
export class UnreadBook {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly user: string,
    private readonly load: LoadRequest,
  ) {}

  /** The count of a loaded channel. */
  get(channel: string): UnreadCount | undefined {
    const e = this.entries.get(channel);
    return e?.loaded === true ? view(channel, e) : undefined;
  }

  /** Every loaded channel's count. */
  all(): UnreadCount[] {
    return [...this.entries].filter(([, e]) => e.loaded).map(([channel, e]) => view(channel, e));
  }

  /** The channels known, loaded or not. */
  channels(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * The server's state (an unread answer, a `read` reply). Merged with what arrived since it was
   * computed; `exact` takes its marker as is — after a "mark unread", or to settle a doubt.
   * Another epoch replaces the channel's state. Returns whether the count changed.
   */
  state(s: ChannelUnread, exact = false): boolean {
    return this.change(s.channel, () => {
      const e = this.entries.get(s.channel);
      const readOffset = s.read?.offset ?? 0;
      const readN = s.n - s.unread;
      if (e === undefined || e.epoch !== s.epoch || exact) {
        const same = e !== undefined && e.epoch === s.epoch;
        this.entries.set(s.channel, {
          epoch: s.epoch,
          top: Math.max(s.top, same ? e.top : 0),
          n: Math.max(s.n, same ? e.n : 0),
          readOffset,
          readN,
          mentions: merge(same ? e.mentions : [], s.mentions, readOffset),
          loaded: true,
        });
        return;
      }
      e.top = Math.max(e.top, s.top);
      e.n = Math.max(e.n, s.n);
      advance(e, readOffset, readN);
      e.mentions = merge(e.mentions, s.mentions, e.readOffset);
      e.loaded = true;
    });
  }

  /** A publication delivered by a full subscription: its ordinal, the user's own message (read), a mention of the user. */
  publication(p: Publication): boolean {
    const n = p.n;
    // Not a message (Herald's own types): it moves no count, and makes no channel worth loading.
    if (n === undefined && !this.entries.has(p.channel)) return false;
    return this.change(p.channel, () => {
      const e = this.at(p.channel, p.epoch);
      e.top = Math.max(e.top, p.offset);
      if (n === undefined) return;
      e.n = Math.max(e.n, n);
      if (p.from === this.user) advance(e, p.offset, n);
      else if (p.meta?.mentions?.includes(this.user) === true && p.offset > e.readOffset) e.mentions = merge(e.mentions, [p.offset], e.readOffset);
    });
  }

  /** A summary push: the channel's top and its ordinal. */
  summary(s: ChannelSummary): boolean {
    return this.change(s.channel, () => {
      const e = this.at(s.channel, s.epoch);
      e.top = Math.max(e.top, s.offset);
      e.n = Math.max(e.n, s.n);
    });
  }

  /**
   * A subscription went live. A WebSocket reply names the top and its ordinal; a reset
   * (`recovered: false`) lost publications, so the server's count is asked for; a channel not
   * known yet is loaded.
   */
  subscribed(channel: string, reply: SubscribeReply): boolean {
    const known = this.entries.has(channel);
    return this.change(channel, () => {
      if (reply.n === undefined && reply.recovered && known) return;
      const e = this.at(channel, reply.epoch);
      if (reply.n !== undefined) {
        e.top = Math.max(e.top, reply.offset);
        e.n = Math.max(e.n, reply.n);
      }
      if (!reply.recovered && known) this.load(channel, false);
    });
  }

  /**
   * The user's marker moved: their own publish, or another device's marker (a `herald.read` sync,
   * `backwards: 'reload'`). A lower one than held is stale — or another device's "mark unread":
   * for a sync the server settles it.
   */
  marker(channel: string, epoch: string, offset: number, n: number, backwards: 'ignore' | 'reload'): boolean {
    return this.change(channel, () => {
      const e = this.entries.get(channel);
      if (e === undefined) {
        this.entries.set(channel, { epoch, top: offset, n, readOffset: offset, readN: n, mentions: [], loaded: false });
        this.load(channel, false);
      } else if (e.epoch !== epoch) {
        this.load(channel, true);
      } else if (offset < e.readOffset) {
        if (backwards === 'reload') this.load(channel, true);
      } else {
        e.top = Math.max(e.top, offset);
        e.n = Math.max(e.n, n);
        advance(e, offset, n);
      }
    });
  }

  /**
   * The user is marking the channel read up to `offset` (absent: the top): when that covers
   * everything seen, the count drops now rather than when the answer comes.
   */
  marking(channel: string, offset: number | undefined, epoch: string | undefined): boolean {
    return this.change(channel, () => {
      const e = this.entries.get(channel);
      if (e === undefined || !e.loaded || (epoch !== undefined && epoch !== e.epoch)) return;
      if (offset === undefined || offset >= e.top) advance(e, e.top, e.n);
    });
  }

  /** The entry of a channel in `epoch`: created (and loaded) when unknown, started over on another epoch. */
  private at(channel: string, epoch: string): Entry {
    let e = this.entries.get(channel);
    if (e === undefined) {
      e = { epoch, top: 0, n: 0, readOffset: 0, readN: 0, mentions: [], loaded: false };
      this.entries.set(channel, e);
      this.load(channel, false);
    } else if (e.epoch !== epoch) {
      // A channel's first publication picks its epoch: nothing was lost. Any other change means
      // its history was reset, and the marker with it: everything in the new epoch is unread, as
      // the server counts it, until the server says what was read there since.
      if (e.epoch !== '' || e.top !== 0) this.load(channel, false);
      Object.assign(e, { epoch, top: 0, n: 0, readOffset: 0, readN: 0, mentions: [] });
    }
    return e;
  }

  /** Runs `update` and says whether the reported count (unread or mentions) changed. */
  private change(channel: string, update: () => void): boolean {
    const before = this.key(channel);
    update();
    return this.key(channel) !== before;
  }

  private key(channel: string): string {
    const e = this.entries.get(channel);
    return e?.loaded === true ? `${unreadOf(e)}/${e.mentions.join(',')}` : '';
  }
}

function unreadOf(e: Entry): number {
  return Math.max(0, e.n - e.readN);
}

/** Moves the marker forward to `offset` (a higher ordinal at the same offset too); mentions it covers go. */
function advance(e: Entry, offset: number, n: number): void {
  if (offset < e.readOffset || (offset === e.readOffset && n <= e.readN)) return;
  e.readOffset = offset;
  e.readN = Math.max(e.readN, n);
  e.mentions = e.mentions.filter((m) => m > offset);
}

/** The offsets of both lists after the marker, each once, ascending. */
function merge(a: readonly number[], b: readonly number[], after: number): number[] {
  return [...new Set([...a, ...b])].filter((m) => m > after).sort((x, y) => x - y);
}

function view(channel: string, e: Entry): UnreadCount {
  return {
    channel,
    epoch: e.epoch,
    top: e.top,
    n: e.n,
    read: { offset: e.readOffset, n: e.readN },
    unread: unreadOf(e),
    mentions: [...e.mentions],
  };
}
