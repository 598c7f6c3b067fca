import type { Position, TypingTimings } from './types.js';

/** What the server said when a subscription went live on a connection. */
export interface SubscribeReply {
  readonly recovered: boolean;
  readonly epoch: string;
  readonly offset: number;
  /** The WebSocket reply's countable ordinal at the channel's top (`offset` there is the top). */
  readonly n?: number;
  /** The WebSocket reply's typing timings, on a namespace with typing. */
  readonly typing?: TypingTimings;
}

export type ConfirmOutcome =
  /** Resumed from the tracked position: everything after it follows. */
  | 'recovered'
  /** No position was tracked: live from the reply's position. */
  | 'live'
  /** The tracked position was not resumable: continue after the reply's position. */
  | 'reset';

export type AcceptOutcome =
  /** The next publication: deliver it. */
  | 'deliver'
  /** Already delivered (a replay overlapping what a previous connection delivered): drop it. */
  | 'duplicate'
  /**
   * Not the next one (an offset was skipped, or the epoch changed without a reset): the
   * connection cannot be trusted, so the caller reconnects from the tracked position.
   */
  | 'gap';

/**
 * One channel's position as the application has seen it, and the rules that keep delivery
 * exactly-once and in order whatever the transport: a publication is delivered only when it is
 * the one right after the position, and the position moves only by delivering or by the server's
 * reply to a subscribe.
 */
export class ChannelPosition {
  private current: Position | null;

  constructor(since?: Position) {
    this.current = since === undefined ? null : { epoch: since.epoch, offset: since.offset };
  }

  get position(): Position | null {
    return this.current;
  }

  /** Applies a subscribe reply. Returns the outcome and the position held before it. */
  confirm(reply: SubscribeReply): { outcome: ConfirmOutcome; previous: Position | null } {
    const previous = this.current;
    if (!reply.recovered) {
      this.current = { epoch: reply.epoch, offset: reply.offset };
      return { outcome: 'reset', previous };
    }
    if (previous === null) {
      this.current = { epoch: reply.epoch, offset: reply.offset };
      return { outcome: 'live', previous };
    }
    // Recovered from our position: the replay that follows moves it. Taking the reply's offset
    // instead would drop the replay (on WebSocket it is the channel's top, not our position).
    return { outcome: 'recovered', previous };
  }

  /** Decides what to do with a publication and, when it is delivered, moves the position to it. */
  accept(offset: number, epoch: string): AcceptOutcome {
    const at = this.current;
    if (at === null) {
      // Before any reply (only possible from a misbehaving server): take it as the start.
      this.current = { epoch, offset };
      return 'deliver';
    }
    if (epoch === at.epoch) {
      if (offset <= at.offset) return 'duplicate';
      if (offset !== at.offset + 1) return 'gap';
    } else if (at.offset !== 0 || offset !== 1) {
      // Offset 0 is "before the first publication" of whatever epoch comes; any other change
      // of epoch is announced by a reset, never by a publication.
      return 'gap';
    }
    this.current = { epoch, offset };
    return 'deliver';
  }
}
