// Which tab holds which channel, and how a tab that joins a channel already followed catches up.
// Pure: no timers, no I/O, so the rules are unit-tested on their own.

import type { HistoryPage, Position } from '../types.js';
import type { Hold, Reply } from './protocol.js';

/** One tab's hold of a channel, as the hub tracks it. */
export interface Holder {
  readonly seq: number;
  readonly position: Position | null;
  /** The tab has its `joined` answer: it gets `subscribed` again on reconnects. */
  joined: boolean;
}

/**
 * Reference counts of channels across tabs: a channel is subscribed on the shared connection
 * while at least one tab holds it, and unsubscribed when the last one lets go (by releasing it,
 * closing, or dying). A tab holds a channel at most once; holding it again replaces the hold.
 */
export class ChannelShares {
  private readonly channels = new Map<string, Map<string, Holder>>();

  /** Holds (or holds again) `channel` for `tab`; true when no tab held it before: subscribe it. */
  hold(tab: string, hold: Hold): boolean {
    let holders = this.channels.get(hold.channel);
    const first = holders === undefined;
    if (holders === undefined) this.channels.set(hold.channel, (holders = new Map()));
    holders.set(tab, { seq: hold.seq, position: hold.position, joined: false });
    return first;
  }

  /** Lets go of `channel` for `tab`; true when it was the last holder: unsubscribe it. */
  release(tab: string, channel: string): boolean {
    const holders = this.channels.get(channel);
    if (holders === undefined || !holders.delete(tab)) return false;
    if (holders.size > 0) return false;
    this.channels.delete(channel);
    return true;
  }

  /** Lets go of every channel of `tab` (it left); returns the channels no tab holds any more. */
  releaseTab(tab: string): string[] {
    return this.channelsOf(tab).filter((channel) => this.release(tab, channel));
  }

  /** Forgets a channel entirely (the server refused it); returns who held it. */
  drop(channel: string): ReadonlyMap<string, Holder> {
    const holders = this.channels.get(channel) ?? new Map<string, Holder>();
    this.channels.delete(channel);
    return holders;
  }

  holders(channel: string): ReadonlyMap<string, Holder> {
    return this.channels.get(channel) ?? new Map<string, Holder>();
  }

  holder(tab: string, channel: string): Holder | undefined {
    return this.channels.get(channel)?.get(tab);
  }

  channelsOf(tab: string): string[] {
    return [...this.channels].filter(([, holders]) => holders.has(tab)).map(([channel]) => channel);
  }

  get size(): number {
    return this.channels.size;
  }
}

/**
 * How a tab at `position` joins a channel the hub follows and has delivered up to `hub`:
 * - `live`: it asked for nothing: live from the hub's position, as a subscribe without `since`;
 * - `resume`: it is at or past the hub (a tab that was ahead when a new leader resumed from an
 *   older position): everything after it will come through the hub, duplicates are dropped;
 * - `history`: it is behind: the publications in between come from history first.
 */
export function joinPlan(hub: Position, position: Position | null): 'live' | 'resume' | 'history' {
  if (position === null) return 'live';
  if (position.epoch === hub.epoch && position.offset >= hub.offset) return 'resume';
  return 'history';
}

/**
 * Whether the publications after `position` are all in history, by the server's own rule for a
 * resume (docs/protocol.md, "Positions and resets"): offset 0 resumes while offset 1 is retained,
 * in any epoch; another position needs the same epoch, retained, and not ahead of the log.
 */
export function recoverable(page: Pick<HistoryPage, 'epoch' | 'first' | 'top'>, position: Position): boolean {
  if (position.offset === 0) return page.first === 1;
  return page.epoch === position.epoch && position.offset + 1 >= page.first && position.offset <= page.top;
}

/** The reply a joining tab gets: what a subscribe from its position would have answered. */
export function joinReply(hub: Position, position: Position | null, resumed: boolean): Reply {
  if (position === null || !resumed) return { recovered: resumed || position === null, epoch: hub.epoch, offset: hub.offset };
  return { recovered: true, epoch: position.epoch, offset: position.offset };
}

export function samePosition(a: Position | null, b: Position | null): boolean {
  return a === b || (a !== null && b !== null && a.epoch === b.epoch && a.offset === b.offset);
}
