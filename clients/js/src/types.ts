// The public types of herald-realtime. The wire contract they mirror is docs/protocol.md.

import type { HeraldError } from './errors.js';
import type { ReceiptsEvent } from './read-types.js';
import type { Subscription } from './subscription.js';

/** The five ways the SDK can reach Herald, named as the server names them (`herald tail --transport`). */
export type TransportName = 'ws' | 'sse' | 'stream' | 'longpoll' | 'poll';

/** Every transport, in the order the SDK prefers them. */
export const ALL_TRANSPORTS: readonly TransportName[] = ['ws', 'sse', 'stream', 'longpoll', 'poll'];

/**
 * The default order: WebSocket, then Server-Sent Events, HTTP streaming and long polling. Short
 * polling is left out because long polling beats it everywhere short polling works; add it
 * (`transports: [..., 'poll']`) for networks that cut held requests.
 */
export const DEFAULT_TRANSPORTS: readonly TransportName[] = ['ws', 'sse', 'stream', 'longpoll'];

/** A place in one channel's log: offset 0 means "before the first publication" of any epoch. */
export interface Position {
  readonly epoch: string;
  readonly offset: number;
}

/** One message of a channel, as every transport delivers it. */
export interface Publication<T = unknown> {
  readonly channel: string;
  /** Position in the channel's log, contiguous from 1. */
  readonly offset: number;
  /** The log generation the offset belongs to. */
  readonly epoch: string;
  /** Server-assigned unique id (32 hex digits). */
  readonly id: string;
  /** When the server appended it (ISO 8601, UTC). */
  readonly time: string;
  /** The publishing user; absent for server API keys and anonymous publishers. */
  readonly from?: string;
  /** The application-defined kind given as `type` when publishing (`msgType` on the wire). */
  readonly type?: string;
  /**
   * The countable ordinal: 1 for the epoch's first message, one more per message. Only on
   * publications that count as messages (never on Herald's own `herald.*` types); unread counts
   * are differences of it.
   */
  readonly n?: number;
  /** Set by the server, never by a publisher: `{ mentions: ['bob'] }`, an inbound webhook's `{ source, deliveryId }`. */
  readonly meta?: { readonly mentions?: readonly string[]; readonly [key: string]: unknown };
  readonly data: T;
}

export interface PublishOptions {
  /** Application-defined kind, 1–64 characters; arrives as `publication.type`. */
  readonly type?: string;
  /**
   * 1–128 printable ASCII characters. A repeat within the server's idempotency window (10 min)
   * appends nothing. When absent the SDK makes one, so its own retries never publish twice.
   */
  readonly idempotencyKey?: string;
  /** Users the message mentions (at most 50): each gets a mention in their unread counts, and `meta.mentions` lists them. */
  readonly mentions?: readonly string[];
  readonly signal?: AbortSignal;
}

export interface PublishResult {
  readonly channel: string;
  readonly offset: number;
  readonly epoch: string;
  readonly id: string;
  readonly time: string;
  /** The publication's countable ordinal; absent when it does not count as a message. */
  readonly n?: number;
  /** True when the idempotency key had been used already: nothing new was appended. */
  readonly duplicate: boolean;
}

export interface HistoryOptions {
  /** Only publications with a greater offset (default 0). */
  readonly after?: number;
  /** At most this many (default 100, at most the server's `MaxHistoryLimit`, 1000). */
  readonly limit?: number;
  /** True: the newest `limit` after `after`, newest first. */
  readonly reverse?: boolean;
  /**
   * `raw` (the default): the log as it is, edits, deletes and reactions included. `latest`: the
   * messages only, each with its actions folded in (`LatestMessage`), paged over messages.
   */
  readonly view?: 'raw' | 'latest';
  readonly signal?: AbortSignal;
}

export interface HistoryPage<T = unknown> {
  readonly channel: string;
  /** The channel's epoch ("" for a channel never written). */
  readonly epoch: string;
  /** The newest offset. */
  readonly top: number;
  /** The oldest offset still retained (`top + 1` when none is). */
  readonly first: number;
  /** The countable ordinal at the top: how many messages the epoch holds (absent from servers before read markers). */
  readonly n?: number;
  readonly publications: readonly Publication<T>[];
}

/** A page of `view: 'latest'` history: the messages, each with its actions folded in. */
export interface LatestPage<T = unknown> extends Omit<HistoryPage<T>, 'publications'> {
  readonly publications: readonly LatestMessage<T>[];
}

/** How a namespace counts reactions (its `Reactions` setting; the server's default is `Distinct`). */
export type ReactionPolicy = 'Distinct' | 'Unique' | 'Multiple' | 'Off';

/** One reaction key of a message: how many count, and the first users who reacted with it. */
export interface ReactionCount {
  readonly key: string;
  readonly count: number;
  /** At most the namespace's `ReactionUsersListed` (20), earliest first. */
  readonly users: readonly string[];
}

/** The summary of a message's thread (the channel `<channel>=<offset>`), as the server publishes it. */
export interface ThreadSummary {
  /** The thread's messages (its countable ordinal). */
  readonly replies: number;
  /** The newest of them. */
  readonly last?: { readonly offset: number; readonly time: string; readonly from?: string };
}

/**
 * A message with its edits, delete, reactions and thread folded in: what `view: 'latest'` history
 * answers and `LatestView` keeps. The members of the original publication, but `data`.
 */
export interface LatestMessage<T = unknown> extends Omit<Publication<T>, 'data'> {
  /** The newest edit's data (the original's when never edited); null when deleted. */
  readonly data: T | null;
  /** 1 plus the number of edits applied. */
  readonly version: number;
  /** When the newest edit was appended; absent when never edited. */
  readonly editedAt?: string;
  /** A `herald.delete` tombstoned it: later edits and reactions are ignored. */
  readonly deleted?: boolean;
  /** The keys with a count above 0, in the order they first got one; absent when none. */
  readonly reactions?: readonly ReactionCount[];
  /** Its thread's newest summary; absent when it has none. */
  readonly thread?: ThreadSummary;
}

/** The options of the action helpers (`edit`, `deleteMessage`, `react`, `unreact`): as a publish's. */
export type ActionOptions = Pick<PublishOptions, 'idempotencyKey' | 'signal'>;

export interface SubscribeOptions {
  /**
   * Resume after this position: every later publication is delivered, or a `reset` event says
   * the position is no longer available. `{ epoch: '', offset: 0 }` asks for everything retained;
   * absent means live from now.
   */
  readonly since?: Position;
  /**
   * Presence on this channel (its namespace must enable it; a user token makes you listed):
   * `enter` (be present, receive nothing), `count` (the counts), `list` (the members, kept by
   * `subscription.presence`). Absent: the server's default (`enter` where the namespace has
   * presence), and no `presence` events.
   */
  readonly presence?: PresenceMode;
  /**
   * The channel's receipts — each member's `seen` and `delivered` — as `receipts` events and in
   * `herald.receipts` (direct channels keep them by default). Pushed on WebSocket, SSE and
   * streaming; on long and short polling read (`GET …/receipts`) when the subscription starts and
   * after each answer that brought publications of the channel. With it the SDK also marks what
   * it hands to the application delivered (at most once a second per channel).
   */
  readonly receipts?: boolean;
}

/** How a subscription takes part in presence (docs/protocol.md#presence). */
export type PresenceMode = 'off' | 'enter' | 'count' | 'list';

/** One user present on a channel. */
export interface PresenceMember {
  readonly user: string;
  /** The token's `info` claim, when it has one. */
  readonly info?: unknown;
  /** Set with the WebSocket `status` op. */
  readonly status?: string;
  /** The user's connections on the channel when the entry was written. */
  readonly conns: number;
  /** When the user joined (Unix milliseconds). */
  readonly since: number;
}

/** Where a presence list stands: the server resumes it from here on a reconnect. */
export interface PresencePosition {
  readonly epoch: string;
  readonly seq: number;
}

/** A change of a channel's presence: the whole list and counts after it, and what changed. */
export interface PresenceEvent {
  /** Everyone listed now (empty unless the mode is `list`). */
  readonly members: readonly PresenceMember[];
  /** Users present (anonymous connections are counted in `connections` only). */
  readonly users: number;
  readonly connections: number;
  readonly joined: readonly PresenceMember[];
  readonly left: readonly PresenceMember[];
  readonly updated: readonly PresenceMember[];
}

/** Who is typing on a channel: the first few users (the server's `TypingListLimit`, 10), and how many in all. */
export interface TypingEvent {
  readonly users: readonly string[];
  readonly total: number;
}

/** The server's typing timings, in milliseconds (docs/protocol.md#typing). */
export interface TypingTimings {
  /** Say "typing" again this often while the user types. */
  readonly resend: number;
  /** Say "stopped" after this long without a keystroke. */
  readonly idle: number;
  /** The server forgets a typer it has not heard from for this long. */
  readonly expire: number;
}

/** A signal: sent to the channel's current subscribers, never stored. */
export interface SignalEvent<D = unknown> {
  readonly channel: string;
  readonly name: string;
  /** The sending user; absent for API keys and anonymous senders. */
  readonly from?: string;
  readonly data?: D;
}

/** The answer of `herald.direct()`: the one channel of a set of users. */
export interface DirectChannel {
  readonly channel: string;
  /** Sorted, each once. */
  readonly members: readonly string[];
  /** True when the ids cannot be listed in a name (`dm:=…`): only token grants give access to it. */
  readonly hashed: boolean;
}

/** `closed` only after `close()`; `disconnected` also while no subscription needs a connection. */
export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'closed';

export interface ConnectingEvent {
  readonly transport: TransportName;
  /** 1 for the first attempt after a connection, then counting up until one opens. */
  readonly attempt: number;
}

export interface ConnectedEvent {
  readonly transport: TransportName;
}

export interface DisconnectedEvent {
  /** The transport that was open or being opened; null when none was. */
  readonly transport: TransportName | null;
  /** Why, for people: `server closed (3001 shutdown)`, `failed to open`, `network error`, `closed by the client`, … */
  readonly reason: string;
  /** The WebSocket close code, or the `code` of the SSE/stream `disconnect` message, when there was one. */
  readonly code?: number;
  /**
   * When the next attempt starts; absent when none will: closed, no subscription left, or the
   * server said not to reconnect (3503, the user was disconnected: `reconnect()` tries again).
   */
  readonly retryInMs?: number;
}

/** Events of the client; listen with `herald.on(name, listener)`. */
export interface ClientEvents {
  /** Every change of `herald.state`. */
  readonly state: ConnectionState;
  readonly connecting: ConnectingEvent;
  readonly connected: ConnectedEvent;
  readonly disconnected: DisconnectedEvent;
  /** A failure outside any one subscription (a token function threw, …). */
  readonly error: HeraldError;
  /**
   * The server subscribed the connection to a channel the client had not asked for — the user's
   * personal channel (`me:<sub>`) when the server auto-subscribes it — and the client follows it
   * from now on, across reconnects, as if `subscribe` had been called. Unsubscribe to leave it.
   */
  readonly serverSubscribed: Subscription<unknown>;
}

export interface SubscribedEvent {
  readonly transport: TransportName;
  /** The position delivery continues after. */
  readonly epoch: string;
  readonly offset: number;
  /** False: the position asked for was gone; a `reset` event was emitted too. */
  readonly recovered: boolean;
}

export interface RecoveredEvent {
  readonly transport: TransportName;
  /** The position the subscription resumed from; every publication after it follows. */
  readonly epoch: string;
  readonly offset: number;
}

export interface ResetEvent {
  readonly transport: TransportName;
  /** Delivery continues after this position; whatever lay between `previous` and it is gone. */
  readonly epoch: string;
  readonly offset: number;
  /** The position the subscription had (or asked for); null when it had none. */
  readonly previous: Position | null;
}

/** Events of one subscription; listen with `subscription.on(name, listener)`. */
export interface SubscriptionEvents<T = unknown> {
  /** Each publication once, in offset order. */
  readonly publication: Publication<T>;
  /** The server confirmed the subscription (first time, and after every reconnect). */
  readonly subscribed: SubscribedEvent;
  /** A resume from a known position lost nothing. */
  readonly recovered: RecoveredEvent;
  /** The position was not resumable (history lost or trimmed): reload the state, e.g. with `history()`. */
  readonly reset: ResetEvent;
  /** The subscription was refused (forbidden, invalid channel, …); it is over. */
  readonly error: HeraldError;
  /** The server's API unsubscribed the user from the channel; the subscription is over and is not renewed. */
  readonly unsubscribed: UnsubscribedEvent;
  /** The presence list or counts changed (with `presence` in the subscribe options). */
  readonly presence: PresenceEvent;
  /** The set of typing users changed (on namespaces with typing). */
  readonly typing: TypingEvent;
  /** A signal arrived (on namespaces with signals; not on long or short polling). */
  readonly signal: SignalEvent;
  /** The channel's receipts changed (with `receipts: true` in the subscribe options). */
  readonly receipts: ReceiptsEvent;
}

export interface UnsubscribedEvent {
  readonly transport: TransportName;
  /** `server unsubscribe`. */
  readonly reason: string;
}

/** The minimal WebSocket the SDK needs: the browser's, or `ws`'s (`import WebSocket from 'ws'`). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ readonly data: unknown }> | null;
  onclose: Handler<{ readonly code: number; readonly reason: string }> | null;
  onerror: Handler<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** The minimal EventSource the SDK needs: the browser's, or a polyfill with the same API. */
export interface EventSourceLike {
  onopen: Handler<unknown> | null;
  onerror: Handler<unknown> | null;
  addEventListener(type: string, listener: Handler<{ readonly data: string }>): void;
  close(): void;
}

export type EventSourceConstructor = new (url: string) => EventSourceLike;

/**
 * A callback property that accepts the handlers of both browser and `ws` sockets, whose event
 * types differ: declared as a method, so its parameter is checked bivariantly (TypeScript's
 * documented escape for exactly this kind of structural interface).
 */
export type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

export type TokenSource = string | (() => string | null | undefined | Promise<string | null | undefined>);

export interface BackoffOptions {
  /** Upper bound of the first retry delay (default 500 ms). */
  readonly initialMs?: number;
  /** Upper bound never exceeds this (default 30 000 ms). */
  readonly maxMs?: number;
  /** Growth of the bound per failed attempt (default 2). */
  readonly multiplier?: number;
}

export interface FallbackOptions {
  /** Failed opens of a transport that has worked before, before the next one is tried (default 3). */
  readonly retriesPerTransport?: number;
  /** Connections cut sooner than `stableAfterMs`, in a row, before the next transport is tried (default 3). */
  readonly cutsBeforeFallback?: number;
  /** A connection that lived this long counts as healthy (default 10 000 ms). */
  readonly stableAfterMs?: number;
}

export interface HeraldOptions {
  /** A user JWT or API key, or a function returning one (called again on reconnects and after 401/403). */
  readonly token?: TokenSource;
  /** The transports to try, in order (default `DEFAULT_TRANSPORTS`). One name forces that transport. */
  readonly transports?: readonly TransportName[];
  /** A WebSocket implementation (Node 20: `ws`); default `globalThis.WebSocket`. Without one, `ws` is skipped. */
  readonly WebSocket?: WebSocketConstructor;
  /** An EventSource implementation; default `globalThis.EventSource`; `null` or none: SSE is read with fetch. */
  readonly EventSource?: EventSourceConstructor | null;
  /** A fetch implementation; default `globalThis.fetch`. */
  readonly fetch?: typeof fetch;
  /** Reconnect delays: exponential with full jitter. */
  readonly backoff?: BackoffOptions;
  readonly fallback?: FallbackOptions;
  /** A transport that has not opened after this long failed to open (default 10 000 ms). */
  readonly openTimeoutMs?: number;
  /** Publish, history and short-poll requests fail after this long (default 15 000 ms). */
  readonly requestTimeoutMs?: number;
  /** A push connection silent this long is dead (default 40 000 ms: the server's heartbeat is 15 s); 0 disables. */
  readonly livenessTimeoutMs?: number;
  /** Seconds a long poll is held by the server (default 25). */
  readonly longPollWaitSeconds?: number;
  /** Pause between short polls (default 1 000 ms). */
  readonly pollIntervalMs?: number;
  /** Publishes larger than this go over HTTP instead of the WebSocket (default 65 536, the server's cap). */
  readonly maxWebSocketMessageBytes?: number;
  /** Attempts of a publish whose answer was lost (same idempotency key each time; default 3). */
  readonly publishAttempts?: number;
  /**
   * How long a publish first waits for this client's subscriptions the server has not confirmed
   * yet, so that a `subscribe` then `publish` receives its own publication (default 10 000 ms;
   * 0: publish at once). Past it the publish goes ahead.
   */
  readonly awaitSubscriptionsMs?: number;
}
