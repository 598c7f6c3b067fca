import { Emitter } from './emitter.js';
import { asHeraldError, HeraldError } from './errors.js';
import type { SubscribeReply } from './position.js';
import type { ChannelSummary, ChannelUnread, MarkReadOptions, MarkReadResult, UnreadCount, UnreadReport, UnreadTrackerEvents, UnreadTrackerOptions } from './read-types.js';
import type { Publication, PublishResult } from './types.js';
import { UnreadBook } from './unread.js';
import { isObject } from './wire.js';

/** What the tracker needs from its client. */
export interface TrackerHost {
  /** `GET /v1/me/unread` (every channel of the user's when `channels` is absent), without feeding the tracker. */
  fetchUnread(channels: readonly string[] | undefined): Promise<UnreadReport>;
  markRead(channel: string, options: MarkReadOptions): Promise<MarkReadResult>;
  /** Follows the personal channel the markers are synced to (unless the client follows it already); returns how to stop. */
  follow(channel: string): () => void;
  /** Calls `listener` on every connection the client opens; returns how to stop. */
  onConnected(listener: () => void): () => void;
}

// A URL stays well under the 8 KiB request line Kestrel (and most proxies) accept.
const MAX_QUERY_CHARS = 4_000;
// The server answers at most Herald:Unread:MaxChannels (500) per request.
const MAX_CHANNELS_PER_LOAD = 500;

/**
 * Exact unread counts for badges, kept live by the client: loaded once from the server
 * (`GET /v1/me/unread`), then moved by what the connection delivers — each message's ordinal `n`
 * on full subscriptions and summary subscriptions, the user's own messages and markers, and the
 * `herald.read` syncs of the user's other devices on `me:<user>`. The server is asked again only
 * when the client cannot know: a channel seen for the first time, a new epoch, a lost stretch of
 * history, a marker that went back.
 *
 * ```ts
 * const counts = herald.unreadTracker({ user: 'alice' });
 * counts.on('change', ({ channel, unread, mentions }) => badge(channel, unread, mentions.length));
 * await counts.markRead('chat:lobby', { offset: newestShown.offset, epoch: newestShown.epoch });
 * ```
 */
export class UnreadTracker extends Emitter<UnreadTrackerEvents> {
  readonly user: string;
  /** The personal channel markers are synced to (`me:<user>`); null without sync. */
  readonly syncChannel: string | null;
  /** Resolves once the first counts arrived; rejects with the failure of that first load (it is retried at the next connection). */
  readonly ready: Promise<void>;
  private readonly book: UnreadBook;
  /** Channels to load, and whether the server's marker is to be taken as is. */
  private readonly wanted = new Map<string, boolean>();
  /** The user's whole list is still to be loaded (the first load, or a retry of it). */
  private wantAll = true;
  private running: Promise<void> | null = null;
  private queued = false;
  private closed = false;
  private readonly stops: (() => void)[] = [];
  private settle: { resolve: () => void; reject: (error: unknown) => void } | undefined;

  /** @internal Created by `herald.unreadTracker()`. */
  constructor(
    private readonly host: TrackerHost,
    options: UnreadTrackerOptions,
    private readonly detach: () => void,
  ) {
    super();
    if (typeof options.user !== 'string' || options.user === '') throw new RangeError('unreadTracker needs the user the token names: { user }.');
    this.user = options.user;
    this.book = new UnreadBook(this.user, (channel, exact) => this.want(channel, exact));
    this.ready = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    this.ready.catch(() => undefined);
    const namespace = options.syncNamespace === undefined ? 'me' : options.syncNamespace;
    let sync: string | null = null;
    if (namespace !== null) {
      try {
        this.stops.push(host.follow(`${namespace}:${this.user}`));
        sync = `${namespace}:${this.user}`;
      } catch {
        // A user id that cannot be a channel name has no personal channel (the server gives it none either).
      }
    }
    this.syncChannel = sync;
    this.stops.push(host.onConnected(() => this.schedule()));
    for (const channel of options.channels ?? []) this.want(channel, false);
    this.schedule();
  }

  /** A loaded channel's count; undefined until the server's state of it arrived. */
  get(channel: string): UnreadCount | undefined {
    return this.book.get(channel);
  }

  /** Every loaded channel's count. */
  get counts(): UnreadCount[] {
    return this.book.all();
  }

  /** Unread messages in all loaded channels. */
  get total(): number {
    return this.book.all().reduce((sum, c) => sum + c.unread, 0);
  }

  /** Unread mentions of the user in all loaded channels. */
  get mentions(): number {
    return this.book.all().reduce((sum, c) => sum + c.mentions.length, 0);
  }

  /** Counts these channels too (loaded from the server if not known yet). */
  track(channels: readonly string[]): void {
    for (const channel of channels) if (!this.book.channels().includes(channel)) this.want(channel, false);
  }

  /** Asks the server again for these channels (absent: every channel known) and merges its answer. */
  async refresh(channels?: readonly string[]): Promise<void> {
    for (const channel of channels ?? this.book.channels()) this.want(channel, false);
    await this.flush();
  }

  /**
   * Marks `channel` read up to `offset` (absent: its top) — `herald.markRead`, whose answer both
   * take. A mark that covers everything seen drops the count at once.
   */
  markRead(channel: string, options: MarkReadOptions = {}): Promise<MarkReadResult> {
    return this.host.markRead(channel, options);
  }

  /** Stops counting (and leaves the personal channel if the tracker followed it). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stop of this.stops.splice(0)) stop();
    this.detach();
    this.settle?.reject(new HeraldError('closed', 'The unread tracker was closed.'));
    this.settle = undefined;
  }

  /** @internal A server state (an unread answer, a `read` reply). */
  applyState(state: ChannelUnread, exact: boolean): void {
    if (this.book.state(state, exact)) this.changed(state.channel);
  }

  /** @internal The user is marking a channel read. */
  marking(channel: string, options: MarkReadOptions): void {
    if (options.unread !== true && this.book.marking(channel, options.offset, options.epoch)) this.changed(channel);
  }

  /** @internal A publication delivered to a full subscription. */
  publication(p: Publication): void {
    if (p.channel === this.syncChannel) {
      if (p.type === 'herald.read') this.synced(p.data);
      return;
    }
    if (this.book.publication(p)) this.changed(p.channel);
  }

  /** @internal A summary push. */
  summary(s: ChannelSummary): void {
    if (this.book.summary(s)) this.changed(s.channel);
  }

  /** @internal A subscription (full or summary) went live. */
  subscribed(channel: string, reply: SubscribeReply): void {
    if (channel !== this.syncChannel && this.book.subscribed(channel, reply)) this.changed(channel);
  }

  /** @internal The user published: their marker moved to their message. */
  published(result: PublishResult): void {
    if (result.n !== undefined && this.book.marker(result.channel, result.epoch, result.offset, result.n, 'ignore')) this.changed(result.channel);
  }

  /** A `herald.read` publication: `{channel, epoch, offset, n}`, a marker of the user's, set anywhere. */
  private synced(data: unknown): void {
    if (!isObject(data)) return;
    const { channel, epoch, offset, n } = data;
    if (typeof channel !== 'string' || typeof epoch !== 'string' || typeof offset !== 'number' || typeof n !== 'number') return;
    if (this.book.marker(channel, epoch, offset, n, 'reload')) this.changed(channel);
  }

  private changed(channel: string): void {
    const count = this.book.get(channel);
    if (count !== undefined && !this.closed) this.emit('change', count);
  }

  private want(channel: string, exact: boolean): void {
    this.wanted.set(channel, exact || this.wanted.get(channel) === true);
    this.schedule();
  }

  /** Loads what is wanted in the next microtask: the channels seen in one tick cost one request. */
  private schedule(): void {
    if (this.queued || this.closed) return;
    this.queued = true;
    queueMicrotask(() => {
      this.queued = false;
      void this.flush().catch(() => undefined);
    });
  }

  /** Loads what is wanted; while a load runs, the next one starts after it. */
  private flush(): Promise<void> {
    if (this.running !== null) return this.running.catch(() => undefined).then(() => this.flush());
    if (this.closed || (!this.wantAll && this.wanted.size === 0)) return Promise.resolve();
    const run = this.load().finally(() => (this.running = null));
    this.running = run;
    return run;
  }

  private async load(): Promise<void> {
    const all = this.wantAll;
    const wanted = new Map(this.wanted);
    this.wanted.clear();
    this.wantAll = false;
    try {
      if (all) this.take(await this.host.fetchUnread(undefined), wanted);
      for (const batch of batches([...wanted.keys()])) {
        if (this.closed) return;
        this.take(await this.host.fetchUnread(batch), wanted);
      }
      this.settle?.resolve();
      this.settle = undefined;
    } catch (error) {
      // Asked again at the next connection, or with the next channel wanted.
      this.wantAll ||= all;
      for (const [channel, exact] of wanted) this.wanted.set(channel, exact || this.wanted.get(channel) === true);
      const failure = asHeraldError(error);
      this.settle?.reject(failure);
      this.settle = undefined;
      if (!this.closed) this.emit('error', failure);
      throw failure;
    }
    if (this.wanted.size > 0) this.schedule();
  }

  private take(report: UnreadReport, wanted: Map<string, boolean>): void {
    if (this.closed) return;
    for (const state of report.channels) {
      this.applyState(state, wanted.get(state.channel) === true);
      wanted.delete(state.channel);
    }
  }
}

/** Channel lists for `?channels=`, each within the server's count and a URL's length. */
function batches(channels: readonly string[]): string[][] {
  const out: string[][] = [];
  let batch: string[] = [];
  let chars = 0;
  for (const channel of channels) {
    if (batch.length > 0 && (batch.length === MAX_CHANNELS_PER_LOAD || chars + channel.length + 1 > MAX_QUERY_CHARS)) {
      out.push(batch);
      batch = [];
      chars = 0;
    }
    batch.push(channel);
    chars += channel.length + 3; // the comma, and ':' encoded as %3A
  }
  if (batch.length > 0) out.push(batch);
  return out;
}
