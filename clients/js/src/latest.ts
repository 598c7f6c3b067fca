// The client's fold of a channel's edits, deletes, reactions and thread summaries into its
// messages: the rules of docs/protocol.md ("The latest view"), ported from the server's own fold,
// Herald.Core's Herald.Publishing.LatestView, so both give the same messages for the same offsets.

import type { LatestMessage, Publication, ReactionCount, ReactionPolicy, ThreadSummary } from './types.js';
import { isObject, type JsonObject } from './wire.js';

export interface LatestViewOptions {
  /** The namespace's `Reactions` (default `Distinct`, the server's default). */
  readonly reactions?: ReactionPolicy;
  /** The namespace's `ReactionUsersListed`: users listed per key (default 20). */
  readonly usersListed?: number;
}

/** One held message, as it changes; `view` is its snapshot, made again after each change. */
interface Held {
  readonly publication: Publication;
  data: unknown;
  version: number;
  editedAt?: string;
  deleted: boolean;
  thread?: JsonObject;
  /** Key → user → how many of the user's reacts count (above 1 only under `Multiple`), in the order they first counted. */
  readonly keys: Map<string, Map<string, number>>;
  /** `Unique`: each user's one key. */
  readonly unique: Map<string, string>;
  view: LatestMessage | null;
}

/**
 * Folds a channel's publications, in offset order — a history page, then the subscription's
 * pushes — into its messages as they are now, exactly as history's `view: 'latest'` answers them:
 *
 * ```ts
 * const view = new LatestView<{ text: string }>();
 * const page = await herald.history('chat:lobby', { limit: 500, reverse: true });
 * [...page.publications].reverse().forEach((p) => view.add(p));
 * herald.subscribe('chat:lobby', { since: { epoch: page.epoch, offset: page.top } })
 *   .on('publication', (p) => { const changed = view.add(p); if (changed) draw(changed); });
 * ```
 *
 * A message is a publication whose type is not `herald.*`. An action about an offset the view does
 * not hold (never seen, or an action itself) is ignored; an edit replaces the data and counts a
 * version; a delete clears data and reactions, and later edits and reactions are ignored; reactions
 * count by the namespace's policy, only from a user (`from`); the `herald.thread` with the most
 * replies is the message's thread. A publication at or below `lastOffset` is skipped, so a resumed
 * stream that repeats one folds the same; one of another epoch (the log was lost) starts again.
 */
export class LatestView<T = unknown> {
  private readonly held = new Map<number, Held>();
  private readonly policy: ReactionPolicy;
  private readonly usersListed: number;
  private last = 0;
  private currentEpoch = '';

  constructor(options: LatestViewOptions = {}) {
    this.policy = options.reactions ?? 'Distinct';
    this.usersListed = options.usersListed ?? 20;
  }

  /** The newest offset folded; 0 before any. */
  get lastOffset(): number {
    return this.last;
  }

  /** The epoch of the publications folded; "" before any. */
  get epoch(): string {
    return this.currentEpoch;
  }

  /** The messages, in offset order. */
  get messages(): LatestMessage<T>[] {
    return [...this.held.values()].map((h) => this.view(h));
  }

  /** The message at `offset`, folded; undefined when the view does not hold it. */
  get(offset: number): LatestMessage<T> | undefined {
    const held = this.held.get(offset);
    return held === undefined ? undefined : this.view(held);
  }

  /**
   * Folds the next publication. Returns the message it added, or the one its action is about
   * (changed or not), to draw again; null when it was skipped or is about no message held.
   */
  add(publication: Publication): LatestMessage<T> | null {
    if (publication.epoch !== this.currentEpoch) {
      if (this.currentEpoch !== '') this.held.clear();
      this.currentEpoch = publication.epoch;
      this.last = 0;
    }
    if (publication.offset <= this.last) return null;
    this.last = publication.offset;
    const type = publication.type;
    if (type === undefined || !type.startsWith('herald.')) {
      const held: Held = { publication, data: publication.data, version: 1, deleted: false, keys: new Map(), unique: new Map(), view: null };
      this.held.set(publication.offset, held);
      return this.view(held);
    }
    const action = parseAction(type, publication.data);
    const target = action === null ? undefined : this.held.get(action.ref);
    if (action === null || target === undefined) return null;
    this.apply(target, type, action, publication);
    target.view = null;
    return this.view(target);
  }

  private apply(target: Held, type: string, action: JsonObject & { ref: number }, publication: Publication): void {
    if (type === 'herald.thread') {
      // Several nodes summarise one thread, each what it accepted: the most replies is the newest state.
      if (target.thread === undefined || replies(action) >= replies(target.thread)) target.thread = action;
      return;
    }
    if (target.deleted) return;
    const user = publication.from;
    const key = action['key'] as string;
    if (type === 'herald.edit') {
      target.data = action['data'];
      target.version++;
      target.editedAt = publication.time;
    } else if (type === 'herald.delete') {
      target.deleted = true;
      target.data = null;
      target.keys.clear();
      target.unique.clear();
    } else if (this.policy === 'Off' || user === undefined) {
      return;
    } else if (type === 'herald.react') {
      this.react(target, user, key);
    } else {
      this.unreact(target, user, key);
    }
  }

  private react(target: Held, user: string, key: string): void {
    if (this.policy === 'Unique') {
      const previous = target.unique.get(user);
      if (previous === key) return;
      if (previous !== undefined) remove(target, user, previous, true);
      target.unique.set(user, key);
    }
    let users = target.keys.get(key);
    if (users === undefined) target.keys.set(key, (users = new Map()));
    const mine = users.get(user);
    if (mine === undefined) users.set(user, 1);
    else if (this.policy === 'Multiple') users.set(user, mine + 1);
  }

  private unreact(target: Held, user: string, key: string): void {
    if (this.policy === 'Unique') {
      if (target.unique.get(user) !== key) return;
      target.unique.delete(user);
    }
    remove(target, user, key, this.policy !== 'Multiple');
  }

  /** The message as `view: 'latest'` writes it: the original's members, then the fold's. */
  private view(held: Held): LatestMessage<T> {
    if (held.view !== null) return held.view as LatestMessage<T>;
    const reactions: ReactionCount[] = [];
    // Keys and users are added and removed in offset order, so a Map's order is the server's.
    for (const [key, users] of held.keys) {
      let count = 0;
      for (const n of users.values()) count += n;
      reactions.push({ key, count, users: [...users.keys()].slice(0, this.usersListed) });
    }
    let thread: ThreadSummary | undefined;
    if (held.thread !== undefined) {
      const { ref: _, ...summary } = held.thread;
      thread = summary as unknown as ThreadSummary;
    }
    held.view = {
      ...held.publication,
      data: held.deleted ? null : held.data,
      version: held.version,
      ...(held.editedAt === undefined ? {} : { editedAt: held.editedAt }),
      ...(held.deleted ? { deleted: true } : {}),
      ...(reactions.length === 0 ? {} : { reactions }),
      ...(thread === undefined ? {} : { thread }),
    };
    return held.view as LatestMessage<T>;
  }
}

/** Takes `user`'s reacts of `key` back: all of them, or (`Multiple`) one. */
function remove(target: Held, user: string, key: string, all: boolean): void {
  const users = target.keys.get(key);
  const mine = users?.get(user);
  if (users === undefined || mine === undefined) return;
  if (all || mine === 1) users.delete(user);
  else users.set(user, mine - 1);
  if (users.size === 0) target.keys.delete(key);
}

const MEMBERS: { readonly [type: string]: readonly string[] } = {
  'herald.edit': ['ref', 'data'],
  'herald.delete': ['ref'],
  'herald.react': ['ref', 'key'],
  'herald.unreact': ['ref', 'key'],
};

/**
 * The data of an action the fold applies, as the server reads it: a client action has exactly its
 * members (`ref` an integer of at least 1, `key` a non-empty string, `data` present); a thread
 * summary needs `ref`. Null for any other type or shape.
 */
function parseAction(type: string, data: unknown): (JsonObject & { ref: number }) | null {
  const members = MEMBERS[type];
  if ((members === undefined && type !== 'herald.thread') || !isObject(data)) return null;
  const ref = data['ref'];
  if (!Number.isSafeInteger(ref) || (ref as number) < 1) return null;
  if (members !== undefined) {
    const names = Object.keys(data);
    if (names.length !== members.length || !members.every((m) => names.includes(m))) return null;
    if (members.includes('key') && (typeof data['key'] !== 'string' || data['key'] === '')) return null;
  }
  return data as JsonObject & { ref: number };
}

/** A summary's `replies`; 0 when it has none. */
function replies(summary: JsonObject): number {
  const value = summary['replies'];
  return Number.isSafeInteger(value) ? (value as number) : 0;
}
