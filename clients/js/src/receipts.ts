// Receipts (docs/protocol.md, "Receipts"): per member of a channel, how far the others are shown
// they read (`seen`) and what their devices received (`delivered`), pushed as a snapshot then
// diffs; and the delivered marker the SDK sets for the user when it hands publications over.

import { Emitter } from './emitter.js';
import { asHeraldError } from './errors.js';
import { sendJson, type HttpContext } from './http.js';
import type { ChannelReceipts, MemberReceipts, ReadMarker, ReceiptsEvent, ReceiptTrackerEvents } from './read-types.js';
import type { Position } from './types.js';
import { isObject, toMarker, type JsonObject } from './wire.js';

type Member = { seen?: ReadMarker; delivered?: ReadMarker };
type Held = { members: Map<string, Member>; off?: string };
const MARKERS = ['seen', 'delivered'] as const;

/**
 * The receipts of every channel the client follows with `receipts: true` (one per client,
 * `herald.receipts`): each snapshot replaces a channel's, each diff moves a member's marker
 * forward — a marker of another epoch (the history was reset) replaces the one held.
 *
 * ```ts
 * herald.subscribe('dm:alice~bob', { receipts: true });
 * herald.receipts.on('change', ({ channel }) => {
 *   const seen = herald.receipts.seenBy(channel, mine.offset, mine.epoch).filter((u) => u !== 'alice');
 *   status.textContent = seen.length > 0 ? 'Seen' : 'Sent';
 * });
 * ```
 */
export class ReceiptTracker extends Emitter<ReceiptTrackerEvents> {
  private readonly channels = new Map<string, Held>();

  /** A channel's receipts; undefined before its first snapshot (or without `receipts: true`). */
  get(channel: string): ChannelReceipts | undefined {
    const held = this.channels.get(channel);
    return held === undefined ? undefined : view(channel, held);
  }

  /**
   * The members whose `seen` is at `offset` or past it — in `epoch` when given (pass the message's:
   * a marker of an older history then does not count). The message's author is among them.
   */
  seenBy(channel: string, offset: number, epoch?: string): string[] {
    return this.past(channel, 'seen', offset, epoch);
  }

  /** The members whose `delivered` is at `offset` or past it (in `epoch` when given). */
  deliveredTo(channel: string, offset: number, epoch?: string): string[] {
    return this.past(channel, 'delivered', offset, epoch);
  }

  /** @internal Applies a `receipts` message (pushed, or a poll's read made into one); the change, or null when nothing moved. */
  apply(m: JsonObject): ReceiptsEvent | null {
    const channel = String(m['channel']);
    const snapshot = m['snapshot'] === true;
    const previous = this.channels.get(channel);
    // A snapshot replaces what was held; a diff moves each marker it names forward.
    const held: Held = snapshot || previous === undefined ? { members: new Map() } : previous;
    if (m['off'] === true) held.off = typeof m['reason'] === 'string' ? m['reason'] : 'disabled';
    const changed: string[] = [];
    const list = m['members'];
    for (const [user, entry] of Object.entries(isObject(list) ? list : {})) {
      const was = previous?.members.get(user);
      const member: Member = snapshot ? {} : { ...was };
      for (const key of MARKERS) {
        const value = isObject(entry) ? entry[key] : undefined;
        if (!isObject(value)) continue;
        const next = toMarker(value);
        const old = member[key];
        if (snapshot || old?.epoch !== next.epoch || old.offset < next.offset) member[key] = next;
      }
      held.members.set(user, member);
      if (was === undefined || MARKERS.some((key) => member[key]?.offset !== was[key]?.offset || member[key]?.epoch !== was[key]?.epoch)) changed.push(user);
    }
    if (snapshot) for (const user of previous?.members.keys() ?? []) if (!held.members.has(user)) changed.push(user);
    this.channels.set(channel, held);
    if (!snapshot && changed.length === 0) return null;
    const event: ReceiptsEvent = { ...view(channel, held), changed };
    this.emit('change', event);
    return event;
  }

  /** @internal The channel is no longer followed with receipts. */
  forget(channel: string): void {
    this.channels.delete(channel);
  }

  private past(channel: string, key: 'seen' | 'delivered', offset: number, epoch: string | undefined): string[] {
    const out: string[] = [];
    for (const [user, member] of this.channels.get(channel)?.members ?? []) {
      const marker = member[key];
      if (marker !== undefined && marker.offset >= offset && (epoch === undefined || marker.epoch === epoch)) out.push(user);
    }
    return out;
  }
}

function view(channel: string, held: Held): ChannelReceipts {
  const members: Record<string, MemberReceipts> = {};
  for (const [user, member] of held.members) members[user] = { ...member };
  return { channel, members, ...(held.off === undefined ? {} : { off: held.off }) };
}

/** Refusals after which a channel's delivered marker is not sent again (until it is subscribed anew). */
const FINAL = ['unauthorized', 'forbidden', 'user_required', 'receipts_disabled'];

/**
 * The delivered marker the SDK sets for the user: per channel, the newest position handed to the
 * application, the first at once, then at most one every `intervalMs` (the newest by then).
 * Failures are swallowed — a marker is a hint, never worth breaking delivery — and a final refusal
 * (an anonymous client, a channel without receipts) stops the channel's markers.
 */
export class DeliveredSender {
  private readonly channels = new Map<string, { timer?: ReturnType<typeof setTimeout>; sent?: Position; due?: Position; stopped?: boolean }>();

  constructor(
    private readonly send: (channel: string, at: Position) => Promise<unknown>,
    private readonly intervalMs = 1_000,
  ) {}

  /** A publication at `at` reached the application. */
  handed(channel: string, at: Position): void {
    let c = this.channels.get(channel);
    if (c === undefined) this.channels.set(channel, (c = {}));
    if (c.stopped === true) return;
    const last = c.due ?? c.sent;
    if (last !== undefined && last.epoch === at.epoch && last.offset >= at.offset) return;
    if (c.timer !== undefined) {
      c.due = at;
      return;
    }
    const entry = c;
    const fire = (position: Position) => {
      entry.sent = position;
      delete entry.due;
      this.send(channel, position).catch((error: unknown) => {
        if (FINAL.includes(asHeraldError(error).code)) this.stop(channel);
      });
      entry.timer = setTimeout(() => {
        delete entry.timer;
        if (entry.due !== undefined && entry.stopped !== true) fire(entry.due);
      }, this.intervalMs);
    };
    fire(at);
  }

  /** Sends no more markers for `channel` (its receipts are off); `forget` starts it over. */
  stop(channel: string): void {
    const c = this.channels.get(channel) ?? {};
    c.stopped = true;
    this.channels.set(channel, c);
  }

  /** Forgets a channel (unsubscribed): its pending marker is dropped. */
  forget(channel: string): void {
    clearTimeout(this.channels.get(channel)?.timer);
    this.channels.delete(channel);
  }

  close(): void {
    for (const channel of [...this.channels.keys()]) this.forget(channel);
  }
}

/**
 * `GET /v1/channels/{channel}/receipts`, as the `receipts` snapshot a push transport would have
 * sent (a channel without receipts: `off`, reason `disabled`).
 */
export async function readReceipts(http: HttpContext, channel: string, signal?: AbortSignal): Promise<JsonObject> {
  try {
    const answer = await sendJson(http, `/v1/channels/${channel}/receipts`, { signal });
    return { ...answer.body, type: 'receipts', channel, snapshot: true };
  } catch (error) {
    if (asHeraldError(error).code !== 'receipts_disabled') throw error;
    return { type: 'receipts', channel, snapshot: true, off: true, reason: 'disabled' };
  }
}
