import { HeraldError } from './errors.js';
import type { Planner, Attempt } from './planner.js';
import type { SubscribeReply } from './position.js';
import { PollSession } from './transports/poll.js';
import { EventSourceSession, FetchSseSession } from './transports/sse.js';
import { StreamSession } from './transports/stream.js';
import type { ChannelSource, CloseInfo, TransportSession, TransportSettings, TransportSink } from './transports/transport.js';
import { WebSocketSession } from './transports/websocket.js';
import type { ClientEvents, ConnectionState, Publication, TransportName } from './types.js';
import type { JsonObject } from './wire.js';

/** What the connector needs from the client: its channels, and where to send what arrives. */
export interface ConnectorHooks {
  readonly source: ChannelSource;
  subscribed(channel: string, reply: SubscribeReply, transport: TransportName, byServer: boolean): void;
  /** False when the publication breaks the channel's order: the connector reconnects from the positions. */
  publication(publication: Publication, transport: TransportName): boolean;
  /** A presence, typing or signal message; false when the channel's presence list has a gap: the connector reconnects from its position. */
  event(message: JsonObject): boolean;
  channelError(channel: string, error: HeraldError): void;
  /** The server unsubscribed the client from a channel on its own. */
  unsubscribed(channel: string, reason: string, transport: TransportName): void;
  /** Checks each channel on its own after a refused connection; reports and removes the refused ones, returns how many. */
  removeRefused(channels: readonly string[]): Promise<number>;
  emit<K extends keyof ClientEvents>(name: K, event: ClientEvents[K]): void;
}

/**
 * Close codes after which the client does not reconnect by itself: 3500–3999, the terminal range
 * (3503: the server API disconnected the user). `reconnect()` starts again.
 */
export function isTerminal(info: CloseInfo): boolean {
  return info.final === true || (info.code !== undefined && info.code >= 3500 && info.code <= 3999);
}

/** Codes of a refused push or poll request that may come from one channel among several. */
const CHANNEL_REFUSALS = new Set(['unauthorized', 'forbidden', 'invalid_channel']);

/**
 * Keeps one connection open for the client's channels: opens the transport the planner names,
 * routes what it reports to the client, and on failure reconnects — same transport or the next,
 * now or after a backoff delay, as the planner decides. Every session gets a generation number;
 * reports from a session that is no longer the current one are ignored, so a late event of a
 * closed connection can never move a position.
 */
export class Connector {
  private session: TransportSession | null = null;
  private current: TransportName | null = null;
  private stateValue: ConnectionState = 'disconnected';
  private generation = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private starting = false;
  private syncQueued = false;
  private attempts = 0;
  private ended = false;
  private authRetried = false;
  private attempted = false;
  /** The server said not to reconnect: wait for `reconnectNow()`. */
  private halted = false;
  /** The browser says the network is back: skip the rest of a backoff wait. */
  private readonly onOnline = () => {
    if (this.retryTimer !== undefined && this.current !== null) void this.attempt(this.current, false);
  };

  constructor(
    private readonly settings: TransportSettings,
    private readonly planner: Planner,
    private readonly hooks: ConnectorHooks,
  ) {
    globalThis.addEventListener?.('online', this.onOnline);
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** The transport open, being opened, or to be tried next; null while idle or closed. */
  get transport(): TransportName | null {
    return this.current;
  }

  /** The WebSocket session when one is open (publish and history use it). */
  get webSocket(): WebSocketSession | null {
    const session = this.session;
    return this.stateValue === 'connected' && session instanceof WebSocketSession && session.canSend ? session : null;
  }

  /** The channel set changed: carried on the open connection, or by reconnecting, in the next microtask (so several changes in a row cost one reconnect). */
  channelsChanged(): void {
    if (this.syncQueued || this.ended) return;
    this.syncQueued = true;
    queueMicrotask(() => {
      this.syncQueued = false;
      this.sync();
    });
  }

  /**
   * The summary set changed: only a WebSocket carries summaries, so only it is told (SSE and
   * streaming do not reconnect for them); with no connection, one is opened if needed; with
   * nothing left to carry, the connection is closed as after the last `unsubscribe`.
   */
  summariesChanged(): void {
    if (this.session === null || !this.needed()) this.channelsChanged();
    else if (this.session.name === 'ws') this.session.update();
  }

  /** Uses another transport order from now on (reconnecting at once). */
  reorder(order: readonly TransportName[]): void {
    this.halted = false;
    this.planner.reorder(order);
    this.drop();
    this.sync();
  }

  /** Drops the current connection or pending wait and connects at once. */
  reconnectNow(): void {
    if (this.ended) return;
    this.halted = false;
    this.drop();
    this.sync();
  }

  close(): void {
    if (this.ended) return;
    const transport = this.current;
    const wasConnected = this.stateValue !== 'disconnected';
    this.drop();
    this.ended = true;
    this.current = null;
    globalThis.removeEventListener?.('online', this.onOnline);
    if (wasConnected) this.hooks.emit('disconnected', { transport, reason: 'closed by the client' });
    this.setState('closed');
  }

  /** Whether anything needs a connection: a channel, or a summary where a WebSocket may carry it. */
  private needed(): boolean {
    const { source } = this.hooks;
    return source.channels().length > 0 || ((source.summaries?.().length ?? 0) > 0 && this.planner.transports.includes('ws'));
  }

  private sync(): void {
    if (this.ended || this.halted) return;
    if (!this.needed()) {
      if (this.session === null && this.retryTimer === undefined && !this.starting) return;
      const transport = this.current;
      const wasOpen = this.stateValue !== 'disconnected';
      this.drop();
      this.current = null;
      if (wasOpen) this.hooks.emit('disconnected', { transport, reason: 'no subscriptions' });
      this.setState('disconnected');
      return;
    }
    if (this.session === null) {
      if (this.retryTimer === undefined && !this.starting) void this.attempt(this.planner.transport, false);
      return;
    }
    if (this.session.incremental) {
      this.session.update();
    } else {
      // SSE and streaming carry a fixed channel set: reconnect with the new one and the current
      // positions. Quietly — the application stays "connected" unless the new request fails.
      const transport = this.session.name;
      this.drop();
      void this.attempt(transport, true);
    }
  }

  /** Ends the current session and any pending retry, without reporting anything. */
  private drop(): void {
    this.generation++;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.starting = false;
    const session = this.session;
    this.session = null;
    session?.close();
  }

  private async attempt(planned: TransportName, quiet: boolean): Promise<void> {
    // Summaries alone: only the WebSocket carries them (the others would open with no channel).
    const transport = this.hooks.source.channels().length === 0 ? 'ws' : planned;
    const generation = ++this.generation;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.current = transport;
    this.starting = true;
    if (!quiet) {
      this.attempts++;
      this.setState('connecting');
      this.hooks.emit('connecting', { transport, attempt: this.attempts });
    }
    // Every attempt but the first fetches a fresh token: the old one may have expired meanwhile.
    // A quiet reconnect (a new channel set) follows an open connection and keeps it.
    const fresh = this.attempted && !quiet;
    this.attempted = true;
    let token: string | undefined;
    try {
      token = fresh ? await this.settings.http.token.refresh() : await this.settings.http.token.current();
    } catch (error) {
      if (generation !== this.generation) return;
      this.starting = false;
      const failure = error instanceof HeraldError ? error : new HeraldError('token', String(error));
      this.hooks.emit('error', failure);
      this.schedule(this.planner.openFailed(false), { reason: failure.message, error: failure });
      return;
    }
    if (generation !== this.generation) return;
    this.starting = false;
    this.session = this.create(transport, this.sink(generation, transport), token);
  }

  private create(transport: TransportName, sink: TransportSink, token: string | undefined): TransportSession {
    const { settings } = this;
    const source = this.hooks.source;
    switch (transport) {
      case 'ws':
        return new WebSocketSession(sink, settings, source, token);
      case 'sse':
        return settings.EventSource === undefined ? new FetchSseSession(sink, settings, source) : new EventSourceSession(sink, settings, source, token);
      case 'stream':
        return new StreamSession(sink, settings, source);
      case 'longpoll':
        return new PollSession(sink, settings, source, true);
      case 'poll':
        return new PollSession(sink, settings, source, false);
    }
  }

  private sink(generation: number, transport: TransportName): TransportSink {
    const live = () => generation === this.generation && !this.ended;
    let opened = false;
    return {
      open: () => {
        if (!live()) return;
        opened = true;
        this.planner.opened(Date.now());
        this.attempts = 0;
        this.authRetried = false;
        if (this.stateValue !== 'connected') {
          this.setState('connected');
          this.hooks.emit('connected', { transport });
        }
      },
      subscribed: (channel, reply, byServer) => {
        if (live()) this.hooks.subscribed(channel, reply, transport, byServer === true);
      },
      publication: (publication) => {
        if (live() && !this.hooks.publication(publication, transport)) this.outOfOrder(`offsets out of order on ${publication.channel}`);
      },
      event: (message) => {
        if (live() && !this.hooks.event(message)) this.outOfOrder(`presence out of order on ${String(message['channel'])}`);
      },
      channelError: (channel, error) => {
        if (live()) this.hooks.channelError(channel, error);
      },
      unsubscribed: (channel, reason) => {
        if (live()) this.hooks.unsubscribed(channel, reason, transport);
      },
      closed: (info) => {
        if (!live()) return;
        this.session = null;
        if (opened && isTerminal(info)) {
          this.halt(transport, info);
          return;
        }
        if (opened) this.schedule(this.planner.closed(Date.now()), info);
        else void this.openFailed(info);
      },
    };
  }

  /** What arrived cannot follow what the client has: reconnect, resuming from the client's positions. */
  private outOfOrder(reason: string): void {
    this.session?.close();
    this.session = null;
    this.schedule(this.planner.closed(Date.now()), { reason });
  }

  private async openFailed(info: CloseInfo): Promise<void> {
    const generation = this.generation;
    const error = info.error;
    const transport = this.current ?? this.planner.transport;
    if (error?.status !== undefined && CHANNEL_REFUSALS.has(error.code)) {
      // A refused token may just have expired: one more try with a fresh one.
      if (error.code !== 'invalid_channel' && this.settings.http.token.refreshable && !this.authRetried) {
        this.authRetried = true;
        await this.settings.http.token.refresh().catch(() => undefined);
        if (generation === this.generation) void this.attempt(transport, true);
        return;
      }
      // One refused channel must not keep the others from connecting: find it, drop it, go on.
      const removed = await this.hooks.removeRefused(this.hooks.source.channels());
      if (generation !== this.generation || this.ended) return;
      if (removed > 0) {
        if (this.hooks.source.channels().length > 0) void this.attempt(transport, true);
        else this.sync();
        return;
      }
    }
    const reachable = error?.status !== undefined || (await this.serverAnswers());
    if (generation !== this.generation || this.ended) return;
    this.schedule(this.planner.openFailed(reachable), info);
  }

  /** Whether the server answers plain HTTP: tells "this transport is blocked" from "the server is down". */
  private async serverAnswers(): Promise<boolean> {
    const { http } = this.settings;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), http.requestTimeoutMs);
    try {
      // no-cors: a page on another origin needs only to know that something answered.
      await http.fetch(`${http.baseUrl}/healthz`, { mode: 'no-cors', cache: 'no-store', signal: controller.signal });
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The server closed for good (3503): report it without a next attempt, and make none. */
  private halt(transport: TransportName, info: CloseInfo): void {
    this.halted = true;
    this.generation++;
    this.current = null;
    this.setState('disconnected');
    this.hooks.emit('disconnected', { transport, reason: info.reason, ...(info.code === undefined ? {} : { code: info.code }) });
  }

  private schedule(next: Attempt, info: CloseInfo): void {
    if (this.ended) return;
    const transport = this.current;
    this.setState('disconnected');
    this.hooks.emit('disconnected', {
      transport,
      reason: info.reason,
      ...(info.code === undefined ? {} : { code: info.code }),
      retryInMs: next.delayMs,
    });
    this.current = next.transport;
    const generation = this.generation;
    this.retryTimer = setTimeout(() => {
      if (generation === this.generation) void this.attempt(next.transport, false);
    }, next.delayMs);
  }

  private setState(state: ConnectionState): void {
    if (state === this.stateValue) return;
    this.stateValue = state;
    this.hooks.emit('state', state);
  }
}
