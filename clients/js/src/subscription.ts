import { Emitter } from './emitter.js';
import { HeraldError } from './errors.js';
import { ChannelPosition, type SubscribeReply } from './position.js';
import { PresenceList } from './presence.js';
import { Typist } from './typing.js';
import type { ReceiptsEvent } from './read-types.js';
import type { Position, PresenceMode, Publication, SubscribedEvent, SubscriptionEvents, TransportName, TypingTimings, UnsubscribedEvent } from './types.js';
import { str, type JsonObject } from './wire.js';

/** What a subscription needs from its client. */
interface Owner {
  /** Forgets the subscription (the object itself, so a newer one on the same channel stays). */
  unsubscribe(subscription: object): void;
  /** Says typing or stopped; resolves with the server's timings when its answer carries them. */
  typing?(channel: string, typing: boolean): Promise<TypingTimings | undefined>;
  signal?(channel: string, name: string, data: unknown): Promise<void>;
  /** A publication is about to reach the application (the unread tracker counts it, the delivered marker follows it). */
  delivered?(publication: Publication): void;
  /** A `receipts` message of the channel: merged into the client's receipts; the change, or null. */
  receipts?(message: JsonObject): ReceiptsEvent | null;
}

/**
 * One channel followed by the client. Every publication reaches the application once, in offset
 * order — as a `publication` event and through async iteration — across reconnects and
 * transport changes; a lost position is announced with `reset`, never skipped silently.
 *
 * ```ts
 * const sub = herald.subscribe<{ text: string }>('chat:lobby');
 * sub.on('reset', () => reloadFromHistory());
 * await sub.ready; // the server confirmed it: every later publication of the channel arrives
 * for await (const message of sub) console.log(message.data.text);
 * ```
 */
export class Subscription<T = unknown> extends Emitter<SubscriptionEvents<T>> implements AsyncIterable<Publication<T>> {
  readonly channel: string;
  private readonly tracker: ChannelPosition;
  private status: 'active' | 'ended' | 'failed' = 'active';
  private failure: HeraldError | undefined;
  private readonly iterators = new Set<PublicationQueue<T>>();
  private settle: { resolve: (event: SubscribedEvent) => void; reject: (error: HeraldError) => void } | undefined;
  private readonly list: PresenceList | null;
  private readonly typist: Typist;

  /**
   * Resolves with the first `subscribed` event: from then on every publication of the channel
   * reaches this subscription. Rejects with the `HeraldError` of a refusal, or with `closed` when
   * the subscription ends before the server confirmed it. It does not time out: while the server
   * cannot be reached the client keeps trying (race it with your own timeout if you need one).
   */
  readonly ready: Promise<SubscribedEvent>;

  /** @internal */
  constructor(
    channel: string,
    since: Position | undefined,
    private readonly owner: Owner,
    presence?: PresenceMode,
    /** @internal The subscription asked for the channel's receipts. */
    readonly withReceipts = false,
  ) {
    super();
    this.channel = channel;
    this.tracker = new ChannelPosition(since);
    this.list = presence === undefined ? null : new PresenceList(presence);
    this.typist = new Typist((typing) => this.need().typing(channel, typing));
    this.ready = new Promise<SubscribedEvent>((resolve, reject) => (this.settle = { resolve, reject }));
    // Awaiting it is optional: a refusal is also the 'error' event, so an unawaited rejection is
    // not an unhandled one.
    this.ready.catch(() => undefined);
  }

  /** The position of the last publication delivered (or the one resumed from); null before the first reply. */
  get position(): Position | null {
    return this.tracker.position;
  }

  /**
   * The channel's presence, with `presence` in the subscribe options (else null): `members` (with
   * `list`), `count` (`{ users, connections }`), the `mode` the server granted and the `position`
   * the list resumes from.
   */
  get presence(): PresenceList | null {
    return this.list;
  }

  /**
   * Call on every keystroke of the message field: says "typing" at once and again while
   * keystrokes continue, and "stopped" after the server's `idle` time without one — on the
   * server's timings. Sending a message to the channel ends it too. Needs a user token; over the
   * WebSocket when open, else `POST /v1/channels/{channel}/typing`. Refusals are quiet: after one
   * (no token, typing off) it stops trying.
   */
  typing(): void {
    if (this.status === 'active') this.typist.keystroke();
  }

  /** Says "stopped" now (the field was cleared, the user left it), if typing. */
  stopTyping(): void {
    this.typist.stop();
  }

  /** Sends a signal to the channel's current subscribers (the namespace must enable signals). */
  signal(name: string, data?: unknown): Promise<void> {
    return this.need().signal(this.channel, name, data);
  }

  /** False once unsubscribed, refused by the server, or the client is closed. */
  get active(): boolean {
    return this.status === 'active';
  }

  /**
   * @internal True while a publication could still be missed: active and without a position —
   * never confirmed, and not subscribed with `since` (which receives everything after it anyway).
   */
  get unconfirmed(): boolean {
    return this.status === 'active' && this.tracker.position === null;
  }

  /** Stops the subscription; iterations end. Calling it again does nothing. */
  unsubscribe(): void {
    if (this.status !== 'active') return;
    this.typist.stop();
    this.owner.unsubscribe(this);
    this.end();
  }

  /**
   * Yields each publication from the moment it is called until the subscription ends (a refusal
   * ends it with the error). Leaving the loop early leaves the subscription running.
   */
  [Symbol.asyncIterator](): AsyncIterator<Publication<T>> {
    const queue = new PublicationQueue<T>(() => this.iterators.delete(queue));
    if (this.status === 'active') this.iterators.add(queue);
    else queue.finish(this.failure);
    return queue;
  }

  /** @internal The server confirmed the subscription on a connection. */
  confirm(reply: SubscribeReply, transport: TransportName): void {
    if (this.status !== 'active') return;
    this.typist.set(reply.typing);
    const { outcome, previous } = this.tracker.confirm(reply);
    const at = this.tracker.position ?? { epoch: reply.epoch, offset: reply.offset };
    const event: SubscribedEvent = { transport, epoch: at.epoch, offset: at.offset, recovered: reply.recovered };
    this.settle?.resolve(event);
    this.settle = undefined;
    this.emit('subscribed', event);
    if (outcome === 'recovered') this.emit('recovered', { transport, epoch: at.epoch, offset: at.offset });
    else if (outcome === 'reset') this.emit('reset', { transport, epoch: at.epoch, offset: at.offset, previous });
  }

  /** @internal Delivers a publication unless it is a duplicate; false when it breaks the order. */
  deliver(publication: Publication<T>): boolean {
    if (this.status !== 'active') return true;
    const outcome = this.tracker.accept(publication.offset, publication.epoch);
    if (outcome === 'gap') return false;
    if (outcome === 'duplicate') return true;
    this.owner.delivered?.(publication);
    this.emit('publication', publication);
    for (const queue of this.iterators) queue.push(publication);
    return true;
  }

  /** @internal The server unsubscribed the client (its server API): over, without error and without a resubscribe. */
  unsubscribedByServer(event: UnsubscribedEvent): void {
    if (this.status !== 'active') return;
    this.emit('unsubscribed', event);
    this.end();
  }

  /** @internal A presence, typing, signal or receipts message; false when the presence list has a gap (the caller resumes it). */
  handle(message: JsonObject): boolean {
    if (this.status !== 'active') return true;
    const type = message['type'];
    if (type === 'typing') {
      const users = message['users'];
      this.emit('typing', { users: Array.isArray(users) ? users.map(String) : [], total: Number(message['total']) || 0 });
    } else if (type === 'signal') {
      const { from, data } = message;
      this.emit('signal', { channel: this.channel, name: str(message, 'name'), ...(typeof from === 'string' ? { from } : {}), ...(data === undefined ? {} : { data }) });
    } else if (type === 'receipts') {
      const event = this.withReceipts ? this.owner.receipts?.(message) : null;
      if (event != null) this.emit('receipts', event);
    } else if (this.list !== null) {
      const event = this.list.apply(message);
      if (event === 'gap') return false;
      if (event !== null) this.emit('presence', event);
    }
    return true;
  }

  /** @internal The user's message went out: the server stopped their typing. */
  sent(): void {
    this.typist.clear();
  }

  /** @internal The server refused the subscription: it is over. */
  fail(error: HeraldError): void {
    if (this.status !== 'active') return;
    this.typist.clear();
    this.status = 'failed';
    this.failure = error;
    this.settle?.reject(error);
    this.settle = undefined;
    this.emit('error', error);
    for (const queue of [...this.iterators]) queue.finish(error);
    this.iterators.clear();
  }

  /** @internal Ends without error (unsubscribed, or the client closed). */
  end(): void {
    if (this.status !== 'active') return;
    this.typist.clear();
    this.status = 'ended';
    this.settle?.reject(new HeraldError('closed', `The subscription to '${this.channel}' ended before the server confirmed it.`));
    this.settle = undefined;
    for (const queue of [...this.iterators]) queue.finish(undefined);
    this.iterators.clear();
  }

  private need(): Required<Owner> {
    const owner = this.owner;
    if (owner.typing === undefined || owner.signal === undefined) throw new HeraldError('unsupported', 'Typing and signals are not offered through SharedHerald: use Herald.');
    return owner as Required<Owner>;
  }
}

/** The publications waiting for one async iterator, and its waiting `next()` calls. */
class PublicationQueue<T> implements AsyncIterator<Publication<T>> {
  private readonly items: Publication<T>[] = [];
  private readonly waiting: { resolve: (r: IteratorResult<Publication<T>>) => void; reject: (e: HeraldError) => void }[] = [];
  private done = false;
  private error: HeraldError | undefined;

  constructor(private readonly detach: () => void) {}

  push(item: Publication<T>): void {
    const waiter = this.waiting.shift();
    if (waiter !== undefined) waiter.resolve({ value: item, done: false });
    else this.items.push(item);
  }

  finish(error: HeraldError | undefined): void {
    if (this.done) return;
    this.done = true;
    const waiters = this.waiting.splice(0);
    // The error is thrown once: to the waiting next() calls, or else to the next one.
    this.error = waiters.length === 0 ? error : undefined;
    for (const waiter of waiters) {
      if (error !== undefined) waiter.reject(error);
      else waiter.resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<Publication<T>>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.done) {
      const error = this.error;
      this.error = undefined;
      return error === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(error);
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<Publication<T>>> {
    this.done = true;
    this.items.length = 0;
    this.detach();
    return Promise.resolve({ value: undefined, done: true });
  }
}
