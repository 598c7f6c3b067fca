import { Emitter } from './emitter.js';
import { HeraldError } from './errors.js';
import type { SubscribeReply } from './position.js';
import type { ChannelSummary, SummaryEvents } from './read-types.js';
import type { TransportName } from './types.js';

/**
 * A channel followed for its newest state only — offset, countable ordinal, time and author of
 * the newest publication, pushed at most once a second — never its publications: what a sidebar
 * of hundreds of rooms needs for its badges and previews. Over the WebSocket (the server's
 * `"mode": "summary"`); each reconnect starts again from the channel's current state.
 *
 * ```ts
 * const side = herald.subscribeSummary('chat:help');
 * side.on('summary', ({ n, from, time }) => drawRoom('help', n, from, time));
 * ```
 */
export class SummarySubscription extends Emitter<SummaryEvents> {
  readonly channel: string;
  /** Resolves with the first state the server confirmed; rejects with a refusal, or `closed` when it ends first. */
  readonly ready: Promise<ChannelSummary>;
  private current: ChannelSummary | null = null;
  private status: 'active' | 'ended' = 'active';
  private settle: { resolve: (summary: ChannelSummary) => void; reject: (error: HeraldError) => void } | undefined;

  /** @internal */
  constructor(
    channel: string,
    private readonly leave: (subscription: SummarySubscription) => void,
  ) {
    super();
    this.channel = channel;
    this.ready = new Promise<ChannelSummary>((resolve, reject) => (this.settle = { resolve, reject }));
    this.ready.catch(() => undefined);
  }

  /** The newest state known; null before the server confirmed the subscription. */
  get summary(): ChannelSummary | null {
    return this.current;
  }

  /** False once unsubscribed, refused or closed. */
  get active(): boolean {
    return this.status === 'active';
  }

  /** Stops following the channel. Calling it again does nothing. */
  unsubscribe(): void {
    if (this.status !== 'active') return;
    this.leave(this);
    this.end();
  }

  /**
   * @internal The server confirmed the subscription: its reply holds the channel's top and the
   * ordinal there. A push may overtake the reply (the server registers the subscriber before it
   * reads the state): a held state of the same epoch at a higher offset is the newer and is kept.
   */
  confirm(reply: SubscribeReply, transport: TransportName): void {
    if (this.status !== 'active') return;
    const previous = this.current;
    // The reply has no time or author: keep those of the same newest publication.
    const same = previous !== null && previous.epoch === reply.epoch && previous.offset >= reply.offset;
    const next: ChannelSummary = same
      ? previous.offset === reply.offset
        ? { ...previous, n: Math.max(previous.n, reply.n ?? previous.n) }
        : previous
      : { channel: this.channel, epoch: reply.epoch, offset: reply.offset, n: reply.n ?? 0 };
    this.current = next;
    this.settle?.resolve(next);
    this.settle = undefined;
    this.emit('subscribed', { ...next, transport });
    if (!same || previous.n !== next.n) this.emit('summary', next);
  }

  /** @internal A summary push. An older state than the one held (same epoch, lower offset) is stale and dropped. */
  push(summary: ChannelSummary): void {
    const previous = this.current;
    if (this.status !== 'active') return;
    if (previous !== null && previous.epoch === summary.epoch && (summary.offset < previous.offset || (summary.offset === previous.offset && summary.n <= previous.n && summary.time === previous.time))) return;
    this.current = summary;
    this.emit('summary', summary);
  }

  /** @internal The server refused it: over. */
  fail(error: HeraldError): void {
    if (this.status !== 'active') return;
    this.settle?.reject(error);
    this.settle = undefined;
    this.emit('error', error);
    this.end();
  }

  /** @internal The server's API unsubscribed it: over, not renewed. */
  unsubscribedByServer(event: { transport: TransportName; reason: string }): void {
    if (this.status !== 'active') return;
    this.emit('unsubscribed', event);
    this.end();
  }

  /** @internal Ends without error (unsubscribed, or the client closed). */
  end(): void {
    if (this.status !== 'active') return;
    this.status = 'ended';
    this.settle?.reject(new HeraldError('closed', `The summary subscription to '${this.channel}' ended before the server confirmed it.`));
    this.settle = undefined;
  }
}
