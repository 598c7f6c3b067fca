import { Backoff } from './backoff.js';
import { Connector } from './connector.js';
import { Emitter } from './emitter.js';
import { asHeraldError, HeraldError, isTransient } from './errors.js';
import { TokenProvider, type HttpContext } from './http.js';
import { Planner } from './planner.js';
import type { SubscribeReply } from './position.js';
import type { ChannelSummary, ReceiptsEvent } from './read-types.js';
import { publishOnce, sendSignal, sendTyping } from './requests.js';
import { Subscription } from './subscription.js';
import { SummarySubscription } from './summary.js';
import type { TransportSettings } from './transports/transport.js';
import {
  ALL_TRANSPORTS,
  DEFAULT_TRANSPORTS,
  type ClientEvents,
  type ConnectionState,
  type EventSourceConstructor,
  type HeraldOptions,
  type HistoryOptions,
  type HistoryPage,
  type LatestPage,
  type Position,
  type PublishOptions,
  type PresenceMode,
  type Publication,
  type PublishResult,
  type SubscribeOptions,
  type TransportName,
  type TypingTimings,
  type WebSocketConstructor,
} from './types.js';
import { abortable, checkPosition, newIdempotencyKey, positive, resolveBase, sleep, wholeNumber } from './util.js';
import { readHistory } from './history.js';
import { checkChannel, toSummary, type JsonObject } from './wire.js';

/**
 * The connection part of the client (`Herald`, client.ts, adds the chat API: read markers,
 * unread counts, receipts, actions): one connection to a Herald server, shared by every
 * subscription, with publish and history. Its hooks (`onDelivered`, `onLive`, …) are where the
 * chat layer follows what the connection carries.
 */
export class HeraldConnection extends Emitter<ClientEvents> {
  protected readonly http: HttpContext;
  protected readonly connector: Connector;
  protected readonly subscriptions = new Map<string, Subscription<unknown>>();
  private readonly summaries = new Map<string, SummarySubscription>();
  /** Channels the server subscribed on its own at least once (a personal channel, `AutoSubscribe`). */
  protected readonly serverChannels = new Set<string>();
  private readonly hasWebSocket: boolean;
  private readonly backoff: Backoff;
  private readonly publishAttempts: number;
  private readonly maxWebSocketMessageBytes: number;
  private readonly awaitSubscriptionsMs: number;
  private order: readonly TransportName[];
  protected closed = false;

  constructor(url: string, options: HeraldOptions = {}) {
    super();
    const base = resolveBase(url);
    const fetchImpl = options.fetch ?? (typeof globalThis.fetch === 'function' ? globalThis.fetch.bind(globalThis) : undefined);
    if (fetchImpl === undefined) throw new HeraldError('unsupported', 'No fetch in this runtime: pass one as options.fetch.');
    this.http = {
      baseUrl: base.http,
      fetch: fetchImpl,
      token: new TokenProvider(options.token),
      requestTimeoutMs: positive(options.requestTimeoutMs, 15_000, 'requestTimeoutMs'),
    };
    const platform = globalThis as { WebSocket?: WebSocketConstructor; EventSource?: EventSourceConstructor };
    const webSocket = options.WebSocket ?? platform.WebSocket;
    this.hasWebSocket = webSocket !== undefined;
    const settings: TransportSettings = {
      http: this.http,
      wsBaseUrl: base.ws,
      WebSocket: webSocket,
      EventSource: options.EventSource === null ? undefined : (options.EventSource ?? platform.EventSource),
      openTimeoutMs: positive(options.openTimeoutMs, 10_000, 'openTimeoutMs'),
      livenessTimeoutMs: options.livenessTimeoutMs === 0 ? 0 : positive(options.livenessTimeoutMs, 40_000, 'livenessTimeoutMs'),
      longPollWaitSeconds: wholeNumber(options.longPollWaitSeconds, 25, 1, 'longPollWaitSeconds'),
      pollIntervalMs: positive(options.pollIntervalMs, 1_000, 'pollIntervalMs'),
    };
    this.backoff = new Backoff(options.backoff);
    this.publishAttempts = wholeNumber(options.publishAttempts, 3, 1, 'publishAttempts');
    this.maxWebSocketMessageBytes = wholeNumber(options.maxWebSocketMessageBytes, 65_536, 1, 'maxWebSocketMessageBytes');
    this.awaitSubscriptionsMs = wholeNumber(options.awaitSubscriptionsMs, 10_000, 0, 'awaitSubscriptionsMs');
    this.order = this.usable(options.transports ?? DEFAULT_TRANSPORTS);
    const planner = new Planner(this.order, this.backoff, options.fallback);
    this.connector = new Connector(settings, planner, {
      source: {
        channels: () => [...this.subscriptions.keys()],
        summaries: () => [...this.summaries.keys()],
        position: (channel) => this.subscriptions.get(channel)?.position ?? null,
        byServer: (channel) => this.serverChannels.has(channel),
        presence: (channel) => {
          const list = this.subscriptions.get(channel)?.presence;
          return list == null ? null : { mode: list.asked, since: list.position };
        },
        receipts: (channel) => this.subscriptions.get(channel)?.withReceipts === true,
      },
      subscribed: (channel, reply, transport, byServer) => this.confirm(channel, reply, transport, byServer),
      publication: (publication, transport) => {
        this.onArrived(publication.channel, transport);
        return this.subscriptions.get(publication.channel)?.deliver(publication) ?? true;
      },
      event: (message) => {
        if (message['type'] !== 'summary') return this.subscriptions.get(String(message['channel']))?.handle(message) ?? true;
        const summary = toSummary(message);
        this.summaries.get(summary.channel)?.push(summary);
        this.onSummary(summary);
        return true;
      },
      channelError: (channel, error) => this.refuse(channel, error),
      unsubscribed: (channel, reason, transport) => this.unsubscribedByServer(channel, reason, transport),
      removeRefused: (channels) => this.removeRefused(channels),
      emit: (name, event) => this.emit(name, event),
    });
  }

  /** `connecting`, `connected`, `disconnected` (also while idle: no subscription) or `closed`. */
  get state(): ConnectionState {
    return this.connector.state;
  }

  /** The transport in use, being opened, or tried next; null while idle or closed. */
  get transport(): TransportName | null {
    return this.connector.transport;
  }

  /** The transports tried, in order (without `ws` when the runtime has no WebSocket). */
  get transports(): readonly TransportName[] {
    return this.order;
  }

  /** Tries these transports from now on, in this order, reconnecting at once (`['sse']` forces SSE). */
  setTransports(transports: readonly TransportName[]): void {
    this.checkOpen();
    this.order = this.usable(transports);
    this.connector.reorder(this.order);
  }

  /** Drops the connection (or the wait before the next attempt) and connects again at once. */
  reconnect(): void {
    this.checkOpen();
    this.connector.reconnectNow();
  }

  /**
   * Follows a channel. The client connects with its first subscription, and all subscriptions
   * share the connection. One subscription per channel: unsubscribe before subscribing again.
   * `await subscription.ready` to know the server confirmed it; a `publish` made meanwhile waits
   * for that by itself (`awaitSubscriptionsMs`).
   */
  subscribe<T = unknown>(channel: string, options: SubscribeOptions = {}): Subscription<T> {
    this.checkOpen();
    checkChannel(channel);
    this.checkNew(channel);
    const since = options.since === undefined ? undefined : checkPosition(options.since);
    const presence = options.presence;
    if (presence !== undefined && !['off', 'enter', 'count', 'list'].includes(presence)) {
      throw new HeraldError('bad_request', "'presence' is one of 'off', 'enter', 'count', 'list'.");
    }
    const subscription = this.add<T>(channel, since, presence, options.receipts === true);
    this.connector.channelsChanged();
    return subscription;
  }

  /**
   * Follows a channel's newest state only (offset, ordinal, time and author of the newest
   * publication, at most once a second), never its publications: for a sidebar's badges. Carried
   * by the WebSocket; over other transports it waits for one. A channel is followed either fully
   * or as a summary (`already_subscribed`).
   */
  subscribeSummary(channel: string): SummarySubscription {
    this.checkOpen();
    checkChannel(channel);
    this.checkNew(channel);
    const summary = new SummarySubscription(channel, (s) => {
      if (this.summaries.get(channel) !== s) return;
      this.summaries.delete(channel);
      this.connector.summariesChanged();
    });
    this.summaries.set(channel, summary);
    this.connector.summariesChanged();
    return summary;
  }

  /** The active summary subscription to `channel`, if any. */
  getSummary(channel: string): SummarySubscription | undefined {
    return this.summaries.get(channel);
  }

  /** The active subscription to `channel`, if any. */
  getSubscription<T = unknown>(channel: string): Subscription<T> | undefined {
    return this.subscriptions.get(channel) as Subscription<T> | undefined;
  }

  /**
   * Appends `data` (any JSON value) to a channel; resolves once it is committed. Goes over the
   * WebSocket when one is open, else HTTP POST. A publish whose answer is lost (timeout, cut
   * connection, 5xx) is retried with the same idempotency key, so it is never appended twice.
   * It first waits (at most `awaitSubscriptionsMs`) for this client's subscriptions the server
   * has not confirmed yet, so a `subscribe` then `publish` receives its own publication.
   */
  async publish(channel: string, data: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    this.checkOpen();
    checkChannel(channel);
    if (data === undefined) throw new HeraldError('bad_request', "'data' is required: any JSON value, null included.");
    const key = options.idempotencyKey ?? newIdempotencyKey();
    const extra = {
      ...(options.type === undefined ? {} : { type: options.type }),
      ...(options.mentions === undefined ? {} : { mentions: options.mentions }),
    };
    const body = JSON.stringify({ data, ...extra });
    await this.untilSubscribed(options.signal);
    this.checkOpen();
    let last: HeraldError | undefined;
    for (let attempt = 0; attempt < this.publishAttempts; attempt++) {
      if (attempt > 0) await sleep(this.backoff.delay(attempt - 1), options.signal);
      try {
        const result = await publishOnce(this.http, this.connector.webSocket, this.maxWebSocketMessageBytes, { channel, data, body, extra, key }, options.signal);
        this.subscriptions.get(channel)?.sent();
        this.onPublished(result);
        return result;
      } catch (error) {
        last = asHeraldError(error);
        if (!isTransient(last)) throw last;
      }
    }
    throw last ?? new HeraldError('network', 'The publish failed.');
  }

  /**
   * Reads a window of a channel's history (over the WebSocket when one is open, else HTTP);
   * `view: 'latest'` answers its messages with their edits, deletes, reactions and threads folded in.
   */
  history<T = unknown>(channel: string, options: HistoryOptions & { readonly view: 'latest' }): Promise<LatestPage<T>>;
  history<T = unknown>(channel: string, options?: HistoryOptions): Promise<HistoryPage<T>>;
  async history<T = unknown>(channel: string, options: HistoryOptions = {}): Promise<HistoryPage<T> | LatestPage<T>> {
    this.checkOpen();
    checkChannel(channel);
    return readHistory<T>(this.http, this.connector.webSocket, channel, options);
  }

  /**
   * Sends a signal — a reaction, a cursor, a "ringing" — to the channel's current subscribers;
   * never stored, not replayed. The namespace must enable signals; the sender needs subscribe
   * access. Over the WebSocket when open, else `POST /v1/channels/{channel}/signals`.
   */
  async signal(channel: string, name: string, data?: unknown, options: { signal?: AbortSignal } = {}): Promise<void> {
    this.checkOpen();
    checkChannel(channel);
    await sendSignal(this.http, this.connector.webSocket, channel, name, data, options.signal);
  }

  /** Typing on or off, for a subscription's typist: over the WebSocket when open, else HTTP (whose answer carries the timings). */
  protected async sendTyping(channel: string, typing: boolean): Promise<TypingTimings | undefined> {
    this.checkOpen();
    return sendTyping(this.http, this.connector.webSocket, channel, typing);
  }

  /** Closes the connection and ends every subscription. The client cannot be used afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    const subscriptions = [...this.subscriptions.values(), ...this.summaries.values()];
    this.subscriptions.clear();
    this.summaries.clear();
    this.connector.close();
    for (const subscription of subscriptions) subscription.end();
  }

  /**
   * Waits, at most `awaitSubscriptionsMs`, for the subscriptions the server has not confirmed yet
   * (refused or ended ones count as settled). Without it a publish right after a subscribe
   * overtakes it — over HTTP while the WebSocket is still opening, or before the SSE request is
   * registered — and the subscriber never sees the publication. All of them, not only the same
   * channel's: a publish often asks for an answer on another channel (`me:alice`).
   */
  private async untilSubscribed(signal: AbortSignal | undefined): Promise<void> {
    if (this.awaitSubscriptionsMs === 0) return;
    const pending = [...this.subscriptions.values()].filter((s) => s.unconfirmed).map((s) => s.ready.catch(() => undefined));
    if (pending.length === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.awaitSubscriptionsMs)));
    try {
      await abortable(Promise.race([Promise.all(pending), bound]), signal);
    } finally {
      clearTimeout(timer);
    }
  }

  protected add<T>(channel: string, since: Position | undefined, presence?: PresenceMode, receipts = false): Subscription<T> {
    const subscription = new Subscription<T>(
      channel,
      since,
      {
        unsubscribe: (s) => {
          if (this.subscriptions.get(channel) === s) this.gone(channel);
        },
        typing: (ch, typing) => this.sendTyping(ch, typing),
        signal: (ch, name, data) => this.signal(ch, name, data),
        delivered: (publication) => this.onDelivered(publication, receipts),
        receipts: (message) => this.onReceipts(channel, message),
      },
      presence,
      receipts,
    );
    this.subscriptions.set(channel, subscription as unknown as Subscription<unknown>);
    return subscription;
  }

  /**
   * A channel went live on the connection. One the client did not ask for is the server's own
   * (a personal channel under `AutoSubscribe`): the first time, it becomes a subscription like any
   * other, announced with `serverSubscribed`; once the application unsubscribed it, it is left.
   */
  private confirm(channel: string, reply: SubscribeReply, transport: TransportName, byServer: boolean): void {
    this.onLive(channel, reply);
    const summary = this.summaries.get(channel);
    if (summary !== undefined && !byServer) {
      summary.confirm(reply, transport);
      return;
    }
    const subscription = this.subscriptions.get(channel);
    const known = this.serverChannels.has(channel);
    if (byServer || subscription === undefined) this.serverChannels.add(channel);
    if (subscription !== undefined) {
      subscription.confirm(reply, transport);
      this.onArrived(channel, transport);
      return;
    }
    if (known || this.closed) return;
    // The connection carries it already: no channelsChanged (SSE would reconnect for nothing).
    const created = this.add<unknown>(channel, undefined);
    this.emit('serverSubscribed', created);
    created.confirm(reply, transport);
  }

  /** A subscription is over: its channel leaves the connection. */
  private gone(channel: string): void {
    this.subscriptions.delete(channel);
    this.connector.channelsChanged();
    this.onGone(channel);
  }

  // What the chat layer (`Herald`, client.ts) adds to the connection: each a no-op here.

  /** Publications of `channel` arrived (or its subscription went live) over `transport`. */
  protected onArrived(_channel: string, _transport: TransportName): void {}

  /** A publication is about to reach the application; `receipts`: its subscription asked for them. */
  protected onDelivered(_publication: Publication, _receipts: boolean): void {}

  /** A `receipts` message of a subscription: the change, or null. */
  protected onReceipts(_channel: string, _message: JsonObject): ReceiptsEvent | null {
    return null;
  }

  /** A channel (full or summary) went live on the connection. */
  protected onLive(_channel: string, _reply: SubscribeReply): void {}

  protected onSummary(_summary: ChannelSummary): void {}

  protected onPublished(_result: PublishResult): void {}

  /** A subscription is over. */
  protected onGone(_channel: string): void {}

  /** The client is closing. */
  protected onClose(): void {}

  /** The server took the client off a channel (its server API): the subscription ends, and is not renewed. */
  private unsubscribedByServer(channel: string, reason: string, transport: TransportName): void {
    const summary = this.summaries.get(channel);
    if (summary !== undefined) {
      this.summaries.delete(channel);
      summary.unsubscribedByServer({ transport, reason });
    }
    const subscription = this.subscriptions.get(channel);
    if (subscription === undefined) return;
    this.gone(channel);
    subscription.unsubscribedByServer({ transport, reason });
  }

  /** The server refused a channel: its subscription ends with the error. */
  private refuse(channel: string, error: HeraldError): void {
    const summary = this.summaries.get(channel);
    if (summary !== undefined) {
      this.summaries.delete(channel);
      summary.fail(error);
    }
    const subscription = this.subscriptions.get(channel);
    if (subscription === undefined) return;
    this.gone(channel);
    subscription.fail(error);
  }

  /** After a refused connection: reads one publication of each channel to find the refused ones. */
  private async removeRefused(channels: readonly string[]): Promise<number> {
    const refused = await Promise.all(
      channels.map(async (channel) => {
        try {
          await readHistory(this.http, null, channel, { limit: 1 });
          return false;
        } catch (error) {
          const failure = asHeraldError(error);
          if (failure.status === undefined || failure.status < 400 || failure.status >= 500) return false;
          this.refuse(channel, failure);
          return true;
        }
      }),
    );
    return refused.filter(Boolean).length;
  }

  private usable(transports: readonly TransportName[]): readonly TransportName[] {
    for (const name of transports) {
      if (!ALL_TRANSPORTS.includes(name)) throw new RangeError(`Unknown transport '${String(name)}': use ${ALL_TRANSPORTS.join(', ')}.`);
    }
    const usable = transports.filter((t) => t !== 'ws' || this.hasWebSocket);
    if (usable.length === 0) {
      throw new HeraldError('unsupported', 'No usable transport: this runtime has no WebSocket (pass options.WebSocket, e.g. from the ws package) and no other transport was allowed.');
    }
    return Object.freeze([...new Set(usable)]);
  }

  /** One subscription per channel, full or summary. */
  private checkNew(channel: string): void {
    if (this.subscriptions.has(channel) || this.summaries.has(channel)) {
      throw new HeraldError('already_subscribed', `Already subscribed to '${channel}': use that subscription, or unsubscribe first.`);
    }
  }

  protected checkOpen(): void {
    if (this.closed) throw new HeraldError('closed', 'The client is closed.');
  }
}
