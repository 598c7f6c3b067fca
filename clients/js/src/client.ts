import { Backoff } from './backoff.js';
import { Connector } from './connector.js';
import { Emitter } from './emitter.js';
import { asHeraldError, HeraldError, isTransient } from './errors.js';
import { sendJson, TokenProvider, type HttpContext } from './http.js';
import { Planner } from './planner.js';
import type { SubscribeReply } from './position.js';
import type { ChannelReceipts, MarkDeliveredOptions, MarkDeliveredResult, MarkReadOptions, MarkReadResult, UnreadReport, UnreadTrackerOptions } from './read-types.js';
import { fetchUnread, markRead, putMarker } from './reading.js';
import { DeliveredSender, readReceipts, ReceiptTracker } from './receipts.js';
import { publishOnce, requestDirect, sendSignal, sendTyping } from './requests.js';
import { Subscription } from './subscription.js';
import { SummarySubscription } from './summary.js';
import { UnreadTracker } from './tracker.js';
import type { TransportSettings } from './transports/transport.js';
import {
  ALL_TRANSPORTS,
  DEFAULT_TRANSPORTS,
  type ActionOptions,
  type ClientEvents,
  type ConnectionState,
  type DirectChannel,
  type EventSourceConstructor,
  type HeraldOptions,
  type HistoryOptions,
  type HistoryPage,
  type LatestPage,
  type Position,
  type PublishOptions,
  type PresenceMode,
  type PublishResult,
  type SubscribeOptions,
  type TransportName,
  type TypingTimings,
  type WebSocketConstructor,
} from './types.js';
import { abortable, checkPosition, newIdempotencyKey, positive, resolveBase, sleep, utf8Length, wholeNumber } from './util.js';
import { readHistory } from './history.js';
import { checkChannel, isObject, toMarker, toSummary, type JsonObject } from './wire.js';

/**
 * A connection to one Herald server, shared by all of a page's subscriptions.
 *
 * ```ts
 * const herald = new Herald('https://chat.example.com', { token: () => getJwt() });
 * const lobby = herald.subscribe<{ text: string }>('chat:lobby');
 * lobby.on('publication', (m) => show(m.data.text));
 * await lobby.ready;
 * await herald.publish('chat:lobby', { text: 'hi' });
 * herald.on('connected', ({ transport }) => badge(transport));
 * ```
 */
export class Herald extends Emitter<ClientEvents> {
  private readonly http: HttpContext;
  private readonly connector: Connector;
  private readonly subscriptions = new Map<string, Subscription<unknown>>();
  private readonly summaries = new Map<string, SummarySubscription>();
  private tracker: UnreadTracker | null = null;
  /**
   * The receipts of the channels subscribed with `receipts: true`: `seenBy`, `deliveredTo`, and a
   * `change` event (each subscription has its own `receipts` event too).
   */
  readonly receipts = new ReceiptTracker();
  private readonly delivered = new DeliveredSender((channel, at) => putMarker(this.http, this.connector.webSocket, 'delivered', channel, at));
  /** Polled channels whose receipts are being read: true when another read is due after it. */
  private readonly receiptReads = new Map<string, boolean>();
  /** Channels the server subscribed on its own at least once (a personal channel, `AutoSubscribe`). */
  private readonly serverChannels = new Set<string>();
  private readonly hasWebSocket: boolean;
  private readonly backoff: Backoff;
  private readonly publishAttempts: number;
  private readonly maxWebSocketMessageBytes: number;
  private readonly awaitSubscriptionsMs: number;
  private order: readonly TransportName[];
  private closed = false;

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
        // Polls carry no receipts: they are read after an answer that brought the channel's publications.
        if (transport.endsWith('poll')) this.pollReceipts(publication.channel);
        return this.subscriptions.get(publication.channel)?.deliver(publication) ?? true;
      },
      event: (message) => {
        if (message['type'] !== 'summary') return this.subscriptions.get(String(message['channel']))?.handle(message) ?? true;
        const summary = toSummary(message);
        this.summaries.get(summary.channel)?.push(summary);
        this.tracker?.summary(summary);
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

  /**
   * Sets the user's read marker on `channel` at `offset` (absent: the channel's top, "all read");
   * it only moves forward unless `unread: true`. Resolves with the channel's count after it.
   * `private: true` moves the count without showing the others (receipts' `seen` stays).
   * Over the open WebSocket (`read` op), else `PUT /v1/channels/{channel}/read`; needs a user token.
   */
  async markRead(channel: string, options: MarkReadOptions = {}): Promise<MarkReadResult> {
    this.checkOpen();
    checkChannel(channel);
    const tracker = this.tracker;
    tracker?.marking(channel, options);
    try {
      const result = await markRead(this.http, this.connector.webSocket, channel, options);
      this.tracker?.applyState(result.state, options.unread === true);
      return result;
    } catch (error) {
      // The count may have dropped before the answer: the server's word puts it back.
      void tracker?.refresh([channel]).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Sets the user's delivered marker on a channel with receipts at `offset` (absent: its top); it
   * only moves forward. A subscription with `receipts: true` does it by itself for what it
   * delivers; this is for what reached the application otherwise (a history page). Over the open
   * WebSocket (`delivered` op), else `PUT /v1/channels/{channel}/delivered`; needs a user token.
   */
  async markDelivered(channel: string, options: MarkDeliveredOptions = {}): Promise<MarkDeliveredResult> {
    this.checkOpen();
    checkChannel(channel);
    const answer = await putMarker(this.http, this.connector.webSocket, 'delivered', channel, options);
    const marker = answer['delivered'];
    return { changed: answer['changed'] === true, ...(isObject(marker) ? { delivered: toMarker(marker) } : {}) };
  }

  /**
   * Reads a channel's receipts (`GET /v1/channels/{channel}/receipts`) and merges them into
   * `herald.receipts` (and the subscription's `receipts` event): what a client on polling calls to
   * see a read that came with no new publication.
   */
  async readReceipts(channel: string, options: { signal?: AbortSignal } = {}): Promise<ChannelReceipts> {
    this.checkOpen();
    checkChannel(channel);
    const message = await readReceipts(this.http, channel, options.signal);
    // Not followed with receipts: answered, not kept.
    return this.takeReceipts(message) ?? (new ReceiptTracker().apply(message) as ChannelReceipts);
  }

  /**
   * The user's unread counts (`GET /v1/me/unread`): of `channels`, or (absent) of every channel
   * the user read, wrote or was mentioned in (the 500 most recently changed). Needs a user token.
   */
  async unread(channels?: readonly string[], options: { signal?: AbortSignal } = {}): Promise<UnreadReport> {
    this.checkOpen();
    channels?.forEach(checkChannel);
    const report = await fetchUnread(this.http, channels, options.signal);
    for (const state of report.channels) this.tracker?.applyState(state, false);
    return report;
  }

  /**
   * The client's unread tracker: exact counts per channel, kept live from the connection (one per
   * client; a later call returns it). `user` is the user the token names.
   */
  unreadTracker(options: UnreadTrackerOptions): UnreadTracker {
    this.checkOpen();
    if (this.tracker !== null) return this.tracker;
    this.tracker = new UnreadTracker(
      {
        fetchUnread: (channels) => fetchUnread(this.http, channels),
        markRead: (channel, o) => this.markRead(channel, o),
        follow: (channel) => {
          if (this.subscriptions.has(channel) || this.serverChannels.has(channel)) return () => undefined;
          const subscription = this.subscribe(channel);
          return () => subscription.unsubscribe();
        },
        onConnected: (listener) => this.on('connected', listener),
      },
      options,
      () => (this.tracker = null),
    );
    return this.tracker;
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
        this.tracker?.published(result);
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

  /** Replaces the data of the message at offset `ref` (`herald.edit`; by default its author only): a publish. */
  edit(channel: string, ref: number, data: unknown, options: ActionOptions = {}): Promise<PublishResult> {
    return this.publish(channel, { ref, data }, { ...options, type: 'herald.edit' });
  }

  /** Tombstones the message at offset `ref` (`herald.delete`; by default its author only): a publish. */
  deleteMessage(channel: string, ref: number, options: ActionOptions = {}): Promise<PublishResult> {
    return this.publish(channel, { ref }, { ...options, type: 'herald.delete' });
  }

  /** Reacts to the message at offset `ref` with `key` (`herald.react`, needs a user token): a publish. */
  react(channel: string, ref: number, key: string, options: ActionOptions = {}): Promise<PublishResult> {
    return this.publish(channel, { ref, key }, { ...options, type: 'herald.react' });
  }

  /** Takes the reaction `key` to the message at offset `ref` back (`herald.unreact`): a publish. */
  unreact(channel: string, ref: number, key: string, options: ActionOptions = {}): Promise<PublishResult> {
    return this.publish(channel, { ref, key }, { ...options, type: 'herald.unreact' });
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

  /**
   * The direct channel of a set of users (`POST /v1/direct`): `dm:alice~bob`, or a hashed name
   * for ids that cannot be listed in one. `directChannel()` computes a listed name without asking.
   */
  async direct(members: readonly string[], options: { namespace?: string; signal?: AbortSignal } = {}): Promise<DirectChannel> {
    this.checkOpen();
    return requestDirect(this.http, members, options);
  }

  /** Typing on or off, for a subscription's typist: over the WebSocket when open, else HTTP (whose answer carries the timings). */
  private async sendTyping(channel: string, typing: boolean): Promise<TypingTimings | undefined> {
    this.checkOpen();
    return sendTyping(this.http, this.connector.webSocket, channel, typing);
  }

  /** Closes the connection and ends every subscription. The client cannot be used afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.tracker?.close();
    this.delivered.close();
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

  private add<T>(channel: string, since: Position | undefined, presence?: PresenceMode, receipts = false): Subscription<T> {
    const subscription = new Subscription<T>(
      channel,
      since,
      {
        unsubscribe: (s) => {
          if (this.subscriptions.get(channel) === s) this.gone(channel);
        },
        typing: (ch, typing) => this.sendTyping(ch, typing),
        signal: (ch, name, data) => this.signal(ch, name, data),
        delivered: (publication) => {
          this.tracker?.publication(publication);
          // What the user's devices received, for the others' "delivered": never for the user's own messages.
          if (receipts && (publication.from === undefined || publication.from !== this.http.token.subject)) this.delivered.handed(channel, { epoch: publication.epoch, offset: publication.offset });
        },
        receipts: (message) => {
          const event = this.receipts.apply(message);
          if (event?.off !== undefined) this.delivered.stop(channel);
          return event;
        },
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
    this.tracker?.subscribed(channel, reply);
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
      if (transport.endsWith('poll')) this.pollReceipts(channel);
      return;
    }
    if (known || this.closed) return;
    // The connection carries it already: no channelsChanged (SSE would reconnect for nothing).
    const created = this.add<unknown>(channel, undefined);
    this.emit('serverSubscribed', created);
    created.confirm(reply, transport);
  }

  /** A subscription is over: its channel leaves the connection, its receipts and its pending delivered marker go. */
  private gone(channel: string): void {
    this.subscriptions.delete(channel);
    this.connector.channelsChanged();
    this.receipts.forget(channel);
    this.delivered.forget(channel);
  }

  /** A `receipts` message for the channel's subscription (which merges it into `receipts` if it asked for them); the channel's receipts after it. */
  private takeReceipts(message: JsonObject): ChannelReceipts | undefined {
    const channel = String(message['channel']);
    this.subscriptions.get(channel)?.handle(message);
    return this.receipts.get(channel);
  }

  /**
   * Reads a polled channel's receipts (polls carry none), if it asked for them: one read at a
   * time per channel, and at most one more after it however many were asked meanwhile (the
   * publications of one answer cost one read).
   */
  private pollReceipts(channel: string): void {
    if (this.subscriptions.get(channel)?.withReceipts !== true) return;
    if (this.receiptReads.has(channel)) {
      this.receiptReads.set(channel, true);
      return;
    }
    this.receiptReads.set(channel, false);
    void (async () => {
      await null;
      do {
        this.receiptReads.set(channel, false);
        // A failed read is retried with the next answer that brings a publication.
        await readReceipts(this.http, channel).then((m) => this.takeReceipts(m), () => undefined);
      } while (this.receiptReads.get(channel) === true && !this.closed);
      this.receiptReads.delete(channel);
    })();
  }

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

  private checkOpen(): void {
    if (this.closed) throw new HeraldError('closed', 'The client is closed.');
  }
}
