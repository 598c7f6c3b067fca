// What a transport is to the client: a session that carries the client's channels over one
// connection and reports what arrives. Channel logic (positions, dedupe, events) lives once, in
// the client; transports only move bytes.

import type { HeraldError } from '../errors.js';
import type { HttpContext } from '../http.js';
import type { SubscribeReply } from '../position.js';
import type { EventSourceConstructor, Position, PresenceMode, PresencePosition, Publication, TransportName, WebSocketConstructor } from '../types.js';
import type { JsonObject } from '../wire.js';

/** The client's channels, read by a transport whenever it (re)builds its requests. */
export interface ChannelSource {
  /** The channels to carry now, in subscription order. */
  channels(): readonly string[];
  /** The channels followed as summaries (their newest state only): the WebSocket carries them, other transports do not. */
  summaries?(): readonly string[];
  /** The position to resume after; null: live from now. */
  position(channel: string): Position | null;
  /** Whether the server subscribed this channel on its own before (a personal channel, resumed by the WebSocket's connect cursor). */
  byServer?(channel: string): boolean;
  /** The presence the channel asks for and where its list stands; null: nothing asked. */
  presence(channel: string): { readonly mode: PresenceMode; readonly since: PresencePosition | null } | null;
  /** Whether the channel asks for its receipts. */
  receipts?(channel: string): boolean;
}

export interface CloseInfo {
  readonly reason: string;
  /** WebSocket close code or the `code` of a `disconnect` message. */
  readonly code?: number;
  /** The failure behind the close: an HTTP problem (with `status`), a network error, … */
  readonly error?: HeraldError;
  /** The server said not to reconnect (a `disconnect` message with `reconnect: false`). */
  readonly final?: boolean;
}

/** What a session reports. Nothing is reported after `closed`, nor after the client's `close()`. */
export interface TransportSink {
  open(): void;
  /** `byServer`: the server subscribed the connection on its own (a WebSocket's personal channel). */
  subscribed(channel: string, reply: SubscribeReply, byServer?: boolean): void;
  publication(publication: Publication): void;
  /** A presence, typing, signal or receipts message of a channel (`type` and `channel` are there). */
  event(message: JsonObject): void;
  /** The server refused one channel (the connection carries on with the others). */
  channelError(channel: string, error: HeraldError): void;
  /** The server unsubscribed the connection from a channel on its own (its server API); do not subscribe again. */
  unsubscribed(channel: string, reason: string): void;
  closed(info: CloseInfo): void;
}

export interface TransportSession {
  readonly name: TransportName;
  /**
   * True when `update()` carries a change of the channel set on this connection (WebSocket ops,
   * a re-issued poll); false when the client has to reconnect with the new set (SSE, streaming).
   */
  readonly incremental: boolean;
  update(): void;
  /** Ends the session; nothing more is reported. */
  close(): void;
}

/** Options every transport reads, resolved from `HeraldOptions`. */
export interface TransportSettings {
  readonly http: HttpContext;
  /** `ws://host:port` or `wss://…`, without a trailing slash. */
  readonly wsBaseUrl: string;
  readonly WebSocket: WebSocketConstructor | undefined;
  readonly EventSource: EventSourceConstructor | undefined;
  readonly openTimeoutMs: number;
  readonly livenessTimeoutMs: number;
  readonly longPollWaitSeconds: number;
  readonly pollIntervalMs: number;
}

/**
 * Calls `onExpire` when `kick()` has not been called for `ms`. One timer per connection, re-armed
 * only when it fires, so a busy connection costs a timestamp per message, not a timer.
 */
export class Watchdog {
  private last = Date.now();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly ms: number,
    private readonly onExpire: () => void,
  ) {
    if (ms > 0) this.arm(ms);
  }

  kick(): void {
    this.last = Date.now();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(delay: number): void {
    this.timer = setTimeout(() => {
      const silent = Date.now() - this.last;
      if (silent >= this.ms) {
        this.timer = undefined;
        this.onExpire();
      } else {
        this.arm(this.ms - silent);
      }
    }, delay);
  }
}

/**
 * The guard every session shares: `open` once, `closed` once, nothing after either end, and an
 * open timeout.
 */
export abstract class SessionBase implements TransportSession {
  abstract readonly name: TransportName;
  abstract readonly incremental: boolean;
  protected ended = false;
  protected isOpen = false;
  private readonly openTimer: ReturnType<typeof setTimeout>;

  constructor(
    protected readonly sink: TransportSink,
    protected readonly settings: TransportSettings,
  ) {
    this.openTimer = setTimeout(() => this.fail({ reason: `did not open within ${settings.openTimeoutMs} ms` }), settings.openTimeoutMs);
  }

  abstract update(): void;

  close(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.openTimer);
    this.release();
  }

  /** Frees the connection (socket, request, timers); called once, by `close` or `fail`. */
  protected abstract release(): void;

  protected opened(): void {
    if (this.ended || this.isOpen) return;
    this.isOpen = true;
    clearTimeout(this.openTimer);
    this.sink.open();
  }

  /** Ends the session from the inside and reports why. */
  protected fail(info: CloseInfo): void {
    if (this.ended) return;
    this.close();
    this.sink.closed(info);
  }
}
