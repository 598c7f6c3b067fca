import { HeraldConnection } from './client-core.js';
import type { SubscribeReply } from './position.js';
import type { ChannelReceipts, ChannelSummary, MarkDeliveredOptions, MarkDeliveredResult, MarkReadOptions, MarkReadResult, ReceiptsEvent, UnreadReport, UnreadTrackerOptions } from './read-types.js';
import { fetchUnread, markRead, putMarker } from './reading.js';
import { DeliveredSender, readReceipts, ReceiptTracker } from './receipts.js';
import { requestDirect } from './requests.js';
import { UnreadTracker } from './tracker.js';
import type { ActionOptions, DirectChannel, Publication, PublishResult, TransportName } from './types.js';
import { checkChannel, isObject, toMarker, type JsonObject } from './wire.js';

/**
 * A connection to one Herald server, shared by all of a page's subscriptions, with the chat API
 * on top of it (client-core.ts holds the connection, subscriptions, publish and history).
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
export class Herald extends HeraldConnection {
  private tracker: UnreadTracker | null = null;
  /**
   * The receipts of the channels subscribed with `receipts: true`: `seenBy`, `deliveredTo`, and a
   * `change` event (each subscription has its own `receipts` event too).
   */
  readonly receipts = new ReceiptTracker();
  private readonly delivered = new DeliveredSender((channel, at) => putMarker(this.http, this.connector.webSocket, 'delivered', channel, at));
  /** Polled channels whose receipts are being read: true when another read is due after it. */
  private readonly receiptReads = new Map<string, boolean>();

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
   * The direct channel of a set of users (`POST /v1/direct`): `dm:alice~bob`, or a hashed name
   * for ids that cannot be listed in one. `directChannel()` computes a listed name without asking.
   */
  async direct(members: readonly string[], options: { namespace?: string; signal?: AbortSignal } = {}): Promise<DirectChannel> {
    this.checkOpen();
    return requestDirect(this.http, members, options);
  }

  protected override onArrived(channel: string, transport: TransportName): void {
    // Polls carry no receipts: they are read after an answer that brought the channel's publications.
    if (transport.endsWith('poll')) this.pollReceipts(channel);
  }

  protected override onDelivered(publication: Publication, receipts: boolean): void {
    this.tracker?.publication(publication);
    // What the user's devices received, for the others' "delivered": never for the user's own messages.
    if (receipts && (publication.from === undefined || publication.from !== this.http.token.subject)) {
      this.delivered.handed(publication.channel, { epoch: publication.epoch, offset: publication.offset });
    }
  }

  protected override onReceipts(channel: string, message: JsonObject): ReceiptsEvent | null {
    const event = this.receipts.apply(message);
    if (event?.off !== undefined) this.delivered.stop(channel);
    return event;
  }

  protected override onLive(channel: string, reply: SubscribeReply): void {
    this.tracker?.subscribed(channel, reply);
  }

  protected override onSummary(summary: ChannelSummary): void {
    this.tracker?.summary(summary);
  }

  protected override onPublished(result: PublishResult): void {
    this.tracker?.published(result);
  }

  /** Its receipts and its pending delivered marker go. */
  protected override onGone(channel: string): void {
    this.receipts.forget(channel);
    this.delivered.forget(channel);
  }

  protected override onClose(): void {
    this.tracker?.close();
    this.delivered.close();
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
}
