// A channel's presence as the server delivers it (docs/protocol.md#presence): a snapshot, then
// numbered diffs, the same messages on every transport (long polling's answer is turned into them).

import { invalid, isObject, num, str, type JsonObject } from './wire.js';
import type { PresenceEvent, PresenceMember, PresenceMode, PresencePosition } from './types.js';

/**
 * The members of one channel, kept from `presence_state`, `presence_snapshot`, `presence` and
 * `presence_count`. A snapshot comes in pages and replaces the list on its last page; a diff is
 * applied only right after the position (`from` ≤ `seq` < `to`), as upserts and removals — a
 * diff the snapshot already holds converges — and anything else is a gap, which the caller
 * resumes from `position` (the server sends the missed diffs, or a new snapshot).
 */
export class PresenceList {
  /** The mode the server granted (`off` on a namespace without presence); null before it said. */
  mode: PresenceMode | null = null;
  /** The last snapshot or diff applied: sent as `presenceSince` on every reconnect. */
  position: PresencePosition | null;
  private users = 0;
  private connections = 0;
  private readonly list = new Map<string, PresenceMember>();
  private pending: Map<string, PresenceMember> | null = null;

  constructor(
    /** What the subscription asked for. */
    readonly asked: PresenceMode,
    since?: PresencePosition,
  ) {
    this.position = since ?? null;
  }

  /** Everyone listed, in snapshot order then by joining. */
  get members(): PresenceMember[] {
    return [...this.list.values()];
  }

  get count(): { users: number; connections: number } {
    return { users: this.users, connections: this.connections };
  }

  /** Applies one presence message: the event to emit, null when nothing changed, `gap` when the list cannot go on. */
  apply(m: JsonObject): PresenceEvent | null | 'gap' {
    const before = this.users + ':' + this.connections;
    if (typeof m['users'] === 'number') this.users = m['users'];
    if (typeof m['connections'] === 'number') this.connections = m['connections'];
    const counted = before !== this.users + ':' + this.connections;
    switch (m['type']) {
      case 'presence_state': {
        const mode = str(m, 'mode') as PresenceMode;
        const changed = mode !== this.mode;
        this.mode = mode;
        if (mode === 'list') {
          if (m['recovered'] === true) return counted ? this.event([], [], []) : null;
          this.pending = new Map();
          return null;
        }
        // Counts only from now on: whoever was listed is not any more.
        const left = this.members;
        this.list.clear();
        this.position = null;
        return changed || counted || left.length > 0 ? this.event([], left, []) : null;
      }
      case 'presence_snapshot': {
        const pending = (this.pending ??= new Map());
        for (const member of members(m, 'members')) pending.set(member.user, member);
        if (m['last'] !== true) return null;
        this.pending = null;
        const joined: PresenceMember[] = [];
        const updated: PresenceMember[] = [];
        for (const [user, member] of pending) {
          const old = this.list.get(user);
          if (old === undefined) joined.push(member);
          else if (!same(old, member)) updated.push(member);
        }
        const left = this.members.filter((member) => !pending.has(member.user));
        this.list.clear();
        for (const [user, member] of pending) this.list.set(user, member);
        this.position = { epoch: str(m, 'epoch'), seq: num(m, 'seq') };
        return this.event(joined, left, updated);
      }
      case 'presence': {
        const at = this.position;
        const from = num(m, 'from');
        const to = num(m, 'to');
        if (this.pending !== null || at === null || str(m, 'epoch') !== at.epoch || from > at.seq) return 'gap';
        // Already applied (a resume's replay overlapping a snapshot): the counts still count.
        if (to <= at.seq) return counted ? this.event([], [], []) : null;
        const joined: PresenceMember[] = [];
        const updated: PresenceMember[] = [];
        const left: PresenceMember[] = [];
        for (const member of [...members(m, 'join'), ...members(m, 'update')]) {
          (this.list.has(member.user) ? updated : joined).push(member);
          this.list.set(member.user, member);
        }
        const leave = m['leave'];
        for (const user of Array.isArray(leave) ? leave : []) {
          const old = this.list.get(String(user));
          if (old === undefined) continue;
          this.list.delete(old.user);
          left.push(old);
        }
        this.position = { epoch: at.epoch, seq: to };
        return this.event(joined, left, updated);
      }
      default:
        // presence_count
        return counted ? this.event([], [], []) : null;
    }
  }

  private event(joined: PresenceMember[], left: PresenceMember[], updated: PresenceMember[]): PresenceEvent {
    return { members: this.members, users: this.users, connections: this.connections, joined, left, updated };
  }
}

function members(m: JsonObject, key: string): PresenceMember[] {
  const list = m[key];
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw invalid(`'${key}' is not an array`);
  return list.map((entry: unknown) => {
    if (!isObject(entry)) throw invalid(`a member of '${key}' is not an object`);
    return { ...entry, user: str(entry, 'user'), conns: num(entry, 'conns'), since: num(entry, 'since') } as PresenceMember;
  });
}

function same(a: PresenceMember, b: PresenceMember): boolean {
  return a.status === b.status && a.conns === b.conns && JSON.stringify(a.info) === JSON.stringify(b.info);
}

/**
 * Long polling carries presence as a `presence` member of each channel's entry in the answer;
 * these are the push messages it stands for, so one list logic serves every transport.
 */
export function pollPresence(channel: string, p: JsonObject): JsonObject[] {
  const counts = { channel, users: p['users'], connections: p['connections'] };
  if (p['mode'] !== 'list') return [{ ...counts, type: 'presence_state', mode: p['mode'] }];
  if (p['recovered'] !== true) {
    return [
      { ...counts, type: 'presence_state', mode: 'list', recovered: false },
      { ...counts, type: 'presence_snapshot', epoch: p['epoch'], seq: p['seq'], members: p['members'], last: true },
    ];
  }
  const diffs = p['diffs'];
  return [...(Array.isArray(diffs) ? (diffs as JsonObject[]) : []), { ...counts, type: 'presence_count' }];
}
