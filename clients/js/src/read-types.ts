// The public types of read markers, unread counts and summary subscriptions. The wire contract
// they mirror is docs/protocol.md, "Read markers and unread counts".

import type { HeraldError } from './errors.js';
import type { TransportName } from './types.js';

/** A user's read marker on a channel: the newest offset read and the countable ordinal there. */
export interface ReadMarker {
  readonly epoch: string;
  readonly offset: number;
  readonly n: number;
  /** When it was stored (ISO 8601, UTC). */
  readonly updatedAt: string;
}

/** One channel's unread count as the server computes it (`n − read.n`, exact and uncapped). */
export interface ChannelUnread {
  readonly channel: string;
  /** The channel's epoch ("" when never written). */
  readonly epoch: string;
  /** The channel's newest offset. */
  readonly top: number;
  /** The countable ordinal at the top: how many messages the epoch holds. */
  readonly n: number;
  /** The user's marker; absent when the user never read the channel (or it was of an older epoch). */
  readonly read?: ReadMarker;
  /** Messages after the marker. */
  readonly unread: number;
  /** Offsets after the marker of messages that mention the user. */
  readonly mentions: readonly number[];
  /** Where reading resumes; absent when nothing is unread. */
  readonly firstUnread?: number;
  /** True when the marker was of an older epoch: the channel's history was reset, all of it is unread. */
  readonly reset?: boolean;
}

/** The answer of `herald.unread()`: per channel, and the sums. */
export interface UnreadReport {
  readonly channels: readonly ChannelUnread[];
  readonly total: number;
  readonly mentions: number;
}

export interface MarkReadOptions {
  /** The newest offset read (0 to the top); absent: the channel's top ("mark all read"). */
  readonly offset?: number;
  /** The epoch `offset` belongs to; the server refuses another (`epoch_mismatch`). */
  readonly epoch?: string;
  /** True: move the marker back ("mark unread"); without it a lower offset is ignored. */
  readonly unread?: boolean;
  /**
   * True: a private read — the unread count and the user's other devices move, and on a channel
   * with receipts the others are shown nothing (the user's `seen` stays where it was).
   */
  readonly private?: boolean;
  readonly signal?: AbortSignal;
}

export interface MarkReadResult {
  /** False when the marker did not move (a lower offset without `unread`). */
  readonly changed: boolean;
  /** The channel's count with the stored marker. */
  readonly state: ChannelUnread;
}

/** One member's receipts on a channel (docs/protocol.md, "Receipts"); a marker is absent until it was first set. */
export interface MemberReceipts {
  /** How far the others are shown the member read (a private read does not move it). */
  readonly seen?: ReadMarker;
  /** What the member's devices received. */
  readonly delivered?: ReadMarker;
}

/** A channel's receipts as the client holds them: every member's markers, merged from the snapshot and the diffs. */
export interface ChannelReceipts {
  readonly channel: string;
  /** By user id; a member with neither marker is listed with `{}`. */
  readonly members: Readonly<Record<string, MemberReceipts>>;
  /** Why the channel shows none: `disabled` (its namespace keeps no receipts) or `too_many_members`; absent when it shows them. */
  readonly off?: string;
}

/** A change of a channel's receipts: the whole state after it, and who changed. */
export interface ReceiptsEvent extends ChannelReceipts {
  /** The members whose markers moved (after a snapshot: whoever differs from before). */
  readonly changed: readonly string[];
}

/** Events of the receipt tracker. */
export interface ReceiptTrackerEvents {
  /** A channel's receipts changed (or a snapshot arrived: a subscription started or resumed). */
  readonly change: ReceiptsEvent;
}

/** The options of `herald.markDelivered()`. */
export interface MarkDeliveredOptions {
  /** The newest offset received (0 to the top); absent: the channel's top. */
  readonly offset?: number;
  /** The epoch `offset` belongs to; the server refuses another (`epoch_mismatch`). */
  readonly epoch?: string;
  readonly signal?: AbortSignal;
}

/** The answer of `herald.markDelivered()`. */
export interface MarkDeliveredResult {
  /** False when the marker did not move (it was there or further already). */
  readonly changed: boolean;
  /** The stored marker. */
  readonly delivered?: ReadMarker;
}

/** The newest state of a channel followed with `subscribeSummary`. */
export interface ChannelSummary {
  readonly channel: string;
  readonly epoch: string;
  /** The channel's newest offset. */
  readonly offset: number;
  /** The countable ordinal at the newest offset. */
  readonly n: number;
  /** When the newest publication was appended; absent until a summary push told it. */
  readonly time?: string;
  /** Who published it, when a user did; absent until a summary push told it. */
  readonly from?: string;
}

export interface SummarySubscribedEvent extends ChannelSummary {
  readonly transport: TransportName;
}

/** Events of a summary subscription; listen with `summary.on(name, listener)`. */
export interface SummaryEvents {
  /** The channel moved (at most once a second per channel), or the subscription (re)started with another state. */
  readonly summary: ChannelSummary;
  /** The server confirmed the summary subscription (first time, and after every reconnect). */
  readonly subscribed: SummarySubscribedEvent;
  /** The server refused it (`forbidden`, `too_many_channels`, …); it is over. */
  readonly error: HeraldError;
  /** The server's API unsubscribed the user from the channel; it is over. */
  readonly unsubscribed: { readonly transport: TransportName; readonly reason: string };
}

/** One channel's count as the unread tracker keeps it. */
export interface UnreadCount {
  readonly channel: string;
  readonly epoch: string;
  /** The newest offset known. */
  readonly top: number;
  /** The countable ordinal at `top`. */
  readonly n: number;
  /** The user's marker as known: offset and ordinal (0 and 0 when the user never read the channel). */
  readonly read: { readonly offset: number; readonly n: number };
  /** Messages after the marker. */
  readonly unread: number;
  /** Offsets after the marker of messages that mention the user, oldest first. */
  readonly mentions: readonly number[];
}

/** Events of the unread tracker. */
export interface UnreadTrackerEvents {
  /** A channel's `unread` or `mentions` changed (or it was loaded). */
  readonly change: UnreadCount;
  /** Loading counts from the server failed; the tracker tries again at the next connection. */
  readonly error: HeraldError;
}

export interface UnreadTrackerOptions {
  /** The user the client's token names (its `sub`): their own messages are read, and `me:<user>` carries their other devices' markers. */
  readonly user: string;
  /** Channels to count from the start besides the user's own list (`GET /v1/me/unread`) and the client's subscriptions. */
  readonly channels?: readonly string[];
  /** The personal namespace the server syncs markers to (`Herald:Unread:SyncNamespace`, default `me`); `null`: no sync. */
  readonly syncNamespace?: string | null;
}
