import { Emitter } from '../emitter.js';
import { Herald, HeraldError, Subscription } from '../index.js';
import type {
  ClientEvents,
  ConnectionState,
  HeraldOptions,
  HistoryOptions,
  HistoryPage,
  Position,
  Publication,
  PublishOptions,
  PublishResult,
  SubscribeOptions,
  TransportName,
} from '../types.js';
import { Hub, type HubOutbox, type LockManagerLike } from './hub.js';
import { browserEnvironment, LeaderLink, LocalLink, WorkerLink, type Link, type LinkEvents, type ShareEnvironment, type ShareRole } from './links.js';
import { fromWire, PROTOCOL, randomId, toWire, type HubMessage, type PlainOptions, type RequestMessage, type Status, type TabMessage } from './protocol.js';

export type { ShareRole } from './links.js';

/** How the tabs of one origin share a connection. */
export interface ShareOptions {
  /**
   * The URL of `herald-worker.js` (same origin as the page; `herald serve` hosts it at
   * `/js/herald-worker.js`). With it, the connection lives in a SharedWorker where the browser has
   * one; without it, or where that fails, in a leader tab.
   */
  readonly worker?: string | URL;
  /** `auto` (default): SharedWorker, else leader tab, else alone. `leader`: never the SharedWorker. `none`: a connection of this tab's own. */
  readonly mode?: 'auto' | 'leader' | 'none';
  /** Tabs share when origin, server URL and this name match (default `default`): give each user, or each token, its own name. */
  readonly name?: string;
}

export interface SharedHeraldOptions extends HeraldOptions {
  readonly share?: ShareOptions;
}

/** One channel this tab follows: its subscription, and what waits for its `joined` answer. */
interface Held {
  readonly sub: Subscription<unknown>;
  seq: number;
  joined: boolean;
  buffer: Publication[];
}

interface Pending {
  readonly request: RequestMessage;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: HeraldError) => void;
}

/**
 * A `Herald` whose connection all tabs of an origin share: the same API, events and positions,
 * one WebSocket (or SSE stream, or poll loop) per browser instead of one per tab. The connection
 * lives in a SharedWorker where there is one (`share.worker`), else in a leader tab elected with
 * Web Locks; when the leader closes, the next tab takes over and resumes every channel from the
 * positions the tabs hold. Publish and history go through the shared connection too.
 *
 * ```ts
 * const herald = new SharedHerald('/', { token: getJwt, share: { worker: '/js/herald-worker.js' } });
 * herald.subscribe('chat:lobby').on('publication', show);
 * ```
 */
export class SharedHerald extends Emitter<ClientEvents> {
  private readonly url: string;
  private readonly options: HeraldOptions;
  private readonly plain: PlainOptions;
  private readonly share: ShareOptions;
  private readonly env: ShareEnvironment;
  private readonly tab = randomId();
  private readonly name: string;
  private readonly kinds: ('worker' | 'leader' | 'alone')[];
  private readonly held = new Map<string, Held>();
  private readonly pending = new Map<number, Pending>();
  private readonly requestBudgetMs: number;
  private readonly offPageHide: () => void;
  private link: Link;
  private status: Status;
  private attached = false;
  private unsentTransports: readonly TransportName[] | null = null;
  private nextId = 1;
  private nextSeq = 1;
  private closed = false;

  constructor(url: string, options: SharedHeraldOptions = {}, /** The browser APIs the sharing uses (tests pass stand-ins). */ env: ShareEnvironment = browserEnvironment()) {
    super();
    const { share = {}, ...rest } = options;
    this.options = rest;
    this.share = share;
    this.env = env;
    // The plain client checks the options as it always does, and says which transports this runtime has.
    this.status = { state: 'disconnected', transport: null, transports: usableTransports(url, rest, rest.transports) };
    const location = (globalThis as { location?: { href: string } }).location;
    this.url = new URL(url, location?.href).href.replace(/\/+$/, '');
    this.name = `herald-realtime/${PROTOCOL}/${this.url}/${share.name ?? 'default'}`;
    this.plain = plainOptions(rest);
    const mode = share.mode ?? 'auto';
    this.kinds = mode === 'none' ? ['alone'] : mode === 'leader' || share.worker === undefined ? ['leader', 'alone'] : ['worker', 'leader', 'alone'];
    const budget = (rest.requestTimeoutMs ?? 15_000) + (rest.backoff?.maxMs ?? 30_000);
    this.requestBudgetMs = (rest.awaitSubscriptionsMs ?? 10_000) + (rest.publishAttempts ?? 3) * budget;
    this.link = this.openLink();
    this.offPageHide = env.onPageHide(() => this.send({ t: 'bye' }));
  }

  /** Where this tab's connection lives: `worker`, `leader` (this tab), `follower` (another tab) or `alone`. */
  get role(): ShareRole {
    return this.link.role;
  }

  /** The shared connection's state, as every tab sees it. */
  get state(): ConnectionState {
    return this.status.state;
  }

  get transport(): TransportName | null {
    return this.status.transport;
  }

  get transports(): readonly TransportName[] {
    return this.status.transports;
  }

  /** Another transport order for the shared connection (for every tab), reconnecting at once. */
  setTransports(transports: readonly TransportName[]): void {
    this.checkOpen();
    const order = usableTransports(this.url, this.options, transports);
    this.status = { ...this.status, transports: order };
    this.unsentTransports = order;
    if (this.attached) this.sendTransports();
  }

  /** Reconnects the shared connection now (for every tab). */
  reconnect(): void {
    this.checkOpen();
    this.send({ t: 'reconnect' });
  }

  /** As `Herald.subscribe`: a channel this tab follows, over the shared connection. */
  subscribe<T = unknown>(channel: string, options: SubscribeOptions = {}): Subscription<T> {
    this.checkOpen();
    checkChannel(channel);
    if (this.held.has(channel)) {
      throw new HeraldError('already_subscribed', `Already subscribed to '${channel}': use that subscription, or unsubscribe first.`);
    }
    // The tabs' protocol carries publications only: presence, receipts, typing and signals need a Herald of their own.
    if (options.presence !== undefined || options.receipts !== undefined) throw new HeraldError('unsupported', 'Presence and receipts are not offered through SharedHerald: use Herald for that channel.');
    const since = options.since === undefined ? undefined : checkPosition(options.since);
    const sub = new Subscription<T>(channel, since, {
      unsubscribe: (s) => {
        if (this.held.get(channel)?.sub !== s) return;
        this.held.delete(channel);
        this.send({ t: 'release', channel });
      },
    });
    const held: Held = { sub: sub as unknown as Subscription<unknown>, seq: this.nextSeq++, joined: false, buffer: [] };
    this.held.set(channel, held);
    this.send({ t: 'hold', channel, seq: held.seq, position: since ?? null });
    return sub;
  }

  getSubscription<T = unknown>(channel: string): Subscription<T> | undefined {
    return this.held.get(channel)?.sub as Subscription<T> | undefined;
  }

  /** As `Herald.publish`, through the shared connection (its WebSocket when open, else HTTP). */
  async publish(channel: string, data: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    this.checkOpen();
    checkChannel(channel);
    if (data === undefined) throw new HeraldError('bad_request', "'data' is required: any JSON value, null included.");
    // The JSON the server would get, now: a value that crosses to another tab by structured clone
    // loses its toJSON and prototype.
    const json = JSON.stringify(data) as string | undefined;
    if (json === undefined) throw new HeraldError('bad_request', "'data' is not a JSON value.");
    const key = options.idempotencyKey ?? `hc-${randomId()}${randomId()}`;
    const request: RequestMessage = { op: 'publish', channel, data: JSON.parse(json), idempotencyKey: key, ...(options.type === undefined ? {} : { type: options.type }) };
    return (await this.request(request, options.signal)) as PublishResult;
  }

  /** As `Herald.history`, through the shared connection. */
  async history<T = unknown>(channel: string, options: HistoryOptions = {}): Promise<HistoryPage<T>> {
    this.checkOpen();
    checkChannel(channel);
    if (options.after !== undefined) wholeNumber(options.after, 0, 'history after');
    if (options.limit !== undefined) wholeNumber(options.limit, 1, 'history limit');
    const { signal, ...query } = options;
    return (await this.request({ op: 'history', channel, ...query }, signal)) as HistoryPage<T>;
  }

  /** Ends this tab's subscriptions and its part in the sharing; the other tabs keep the connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const subscriptions = [...this.held.values()];
    this.held.clear();
    for (const pending of this.pending.values()) pending.reject(new HeraldError('closed', 'The client is closed.'));
    this.send({ t: 'bye' });
    this.link.close();
    this.offPageHide();
    if (this.status.state !== 'disconnected') this.emit('disconnected', { transport: this.status.transport, reason: 'closed by the client' });
    this.status = { ...this.status, state: 'closed', transport: null };
    this.emit('state', 'closed');
    for (const { sub } of subscriptions) sub.end();
  }

  private openLink(): Link {
    const kind = this.kinds.shift() ?? 'alone';
    const env = this.env;
    const events: LinkEvents = {
      attach: (reason) => {
        if (this.link === link && !this.closed) this.attach(reason);
      },
      message: (message) => {
        if (this.link === link && !this.closed) this.receive(message);
      },
      failed: () => {
        if (this.link !== link || this.closed) return;
        link.close();
        this.attached = false;
        this.link = this.openLink();
      },
    };
    const startHub = (out: HubOutbox, locks?: LockManagerLike) => new Hub(this.url, this.options, out, { locks });
    let link: Link;
    if (kind === 'worker' && this.share.worker !== undefined) {
      link = new WorkerLink(env, this.share.worker, this.name, this.tab, this.options.openTimeoutMs ?? 10_000, events);
    } else if (kind !== 'alone' && env.locks !== undefined && env.BroadcastChannel !== undefined) {
      link = new LeaderLink({ ...env, locks: env.locks, BroadcastChannel: env.BroadcastChannel }, this.name, this.tab, startHub, events);
    } else {
      link = new LocalLink(this.tab, startHub, events);
    }
    return link;
  }

  /** A hub is there: it learns everything this tab holds and waits for, from the tab's own positions. */
  private attach(reason: string | null): void {
    if (this.attached && this.status.state !== 'disconnected') {
      // The old hub is gone (its tab closed): say so, as a client whose connection dropped would.
      this.status = { ...this.status, state: 'disconnected' };
      this.emit('disconnected', { transport: this.status.transport, reason: reason ?? 'the shared connection moved', retryInMs: 0 });
      this.emit('state', 'disconnected');
    }
    this.attached = true;
    const holds = [...this.held].map(([channel, held]) => {
      held.seq = this.nextSeq++;
      held.joined = false;
      held.buffer = [];
      return { channel, seq: held.seq, position: held.sub.position };
    });
    this.link.post({ t: 'hello', v: PROTOCOL, tab: this.tab, url: this.url, options: this.plain, lock: this.link.lock, holds });
    if (this.unsentTransports !== null) this.sendTransports();
    // Requests the old hub may not have answered: a publish goes again with its idempotency key.
    for (const [id, pending] of this.pending) this.link.post({ t: 'request', id, request: pending.request });
  }

  private send(message: TabMessage): void {
    if (this.attached) this.link.post(message);
  }

  private sendTransports(): void {
    const transports = this.unsentTransports;
    this.unsentTransports = null;
    if (transports !== null) this.link.post({ t: 'transports', transports });
  }

  private receive(message: HubMessage): void {
    switch (message.t) {
      case 'welcome':
      case 'event':
        this.mirror(message);
        break;
      case 'joined': {
        const held = this.held.get(message.channel);
        if (held === undefined || held.seq !== message.seq) return;
        held.sub.confirm(message.reply, message.transport);
        held.joined = true;
        const queued = [...message.publications, ...held.buffer];
        held.buffer = [];
        this.deliver(message.channel, held, queued);
        break;
      }
      case 'subscribed': {
        const held = this.held.get(message.channel);
        if (held?.joined === true) held.sub.confirm(message.reply, message.transport);
        break;
      }
      case 'publication': {
        const held = this.held.get(message.publication.channel);
        if (held === undefined) return;
        if (held.joined) this.deliver(message.publication.channel, held, [message.publication]);
        else held.buffer.push(message.publication);
        break;
      }
      case 'refused': {
        const held = this.held.get(message.channel);
        if (held === undefined || held.seq !== message.seq) return;
        this.held.delete(message.channel);
        held.sub.fail(fromWire(message.error));
        break;
      }
      case 'reply': {
        const pending = this.pending.get(message.id);
        if (message.error !== undefined) pending?.reject(fromWire(message.error));
        else pending?.resolve(message.result);
        break;
      }
      case 'token':
        void this.giveToken(message.id);
        break;
      case 'refuse':
        break;
    }
  }

  /**
   * Hands publications to the subscription, which drops what it has seen. One that skips an offset
   * (a message lost between hubs) holds the channel again from the tab's position: the hub fills
   * the gap from history, and what arrives meanwhile waits in order.
   */
  private deliver(channel: string, held: Held, publications: readonly Publication[]): void {
    for (let i = 0; i < publications.length; i++) {
      if (held.sub.deliver(publications[i] as Publication)) continue;
      if (this.held.get(channel) !== held) return;
      held.joined = false;
      held.buffer = publications.slice(i);
      held.seq = this.nextSeq++;
      this.send({ t: 'hold', channel, seq: held.seq, position: held.sub.position });
      return;
    }
  }

  /** Mirrors the shared connection's state, and its events, as this tab's own. */
  private mirror(message: HubMessage & { t: 'welcome' | 'event' }): void {
    const before = this.status.state;
    this.status = { state: message.state, transport: message.transport, transports: this.unsentTransports ?? message.transports };
    if (message.t === 'event') {
      const event = message.name === 'error' ? fromWire(message.event as Parameters<typeof fromWire>[0]) : message.event;
      this.emit(message.name, event as ClientEvents[typeof message.name]);
    } else if (message.state !== before) {
      this.emit('state', message.state);
      if (message.state === 'connected' && message.transport !== null) this.emit('connected', { transport: message.transport });
    }
  }

  /** The hub (a SharedWorker) asks for the token: this tab's, as `options.token` gives it. */
  private async giveToken(id: number): Promise<void> {
    const source = this.options.token;
    try {
      const token = typeof source === 'function' ? await source() : source;
      this.send({ t: 'token', id, ...(token ? { token } : {}) });
    } catch (error) {
      const message = `The token function failed: ${error instanceof Error ? error.message : String(error)}`;
      this.send({ t: 'token', id, error: toWire(new HeraldError('token', message)) });
    }
  }

  /** Sends a request to the hub, again to each new hub, until it is answered, aborted or out of time. */
  private request(request: RequestMessage, signal: AbortSignal | undefined): Promise<unknown> {
    if (signal?.aborted === true) return Promise.reject(new HeraldError('aborted', 'The request was aborted.'));
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
      };
      const onAbort = () => {
        done();
        reject(new HeraldError('aborted', 'The request was aborted.'));
      };
      const timer = setTimeout(() => {
        done();
        reject(new HeraldError('timeout', `No answer from the shared connection within ${this.requestBudgetMs} ms.`));
      }, this.requestBudgetMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        request,
        resolve: (value) => {
          done();
          resolve(value);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
      this.send({ t: 'request', id, request });
    });
  }

  private checkOpen(): void {
    if (this.closed) throw new HeraldError('closed', 'The client is closed.');
  }
}

/** The transports `new Herald` would use here, with its checks and errors. */
function usableTransports(url: string, options: HeraldOptions, transports: readonly TransportName[] | undefined): readonly TransportName[] {
  const probe = new Herald(url, { ...options, ...(transports === undefined ? {} : { transports }) });
  probe.close();
  return probe.transports;
}

/** What a SharedWorker's client can take from a tab: no functions, no classes. */
function plainOptions(options: HeraldOptions): PlainOptions {
  const { token: _token, WebSocket: _ws, EventSource, fetch: _fetch, ...plain } = options;
  return { ...plain, ...(EventSource === null ? { eventSource: false as const } : {}) };
}

const CHANNEL = /^[a-z0-9_-]{1,32}:[A-Za-z0-9_\-.=@~]+$/;

/** The naming rule of docs/protocol.md, as `Herald` checks it (its own copy, for the shared bundle). */
function checkChannel(channel: string): void {
  if (typeof channel !== 'string' || channel.length > 128 || !CHANNEL.test(channel)) {
    throw new HeraldError(
      'invalid_channel',
      `'${String(channel)}' is not a channel name: 'namespace:name', namespace of a-z 0-9 _ - (1-32), name of A-Z a-z 0-9 _ - . = @ ~, at most 128 in all.`,
    );
  }
}

function checkPosition(position: Position): Position {
  if (typeof position !== 'object' || position === null || typeof position.epoch !== 'string') {
    throw new HeraldError('bad_request', "'since' must be { epoch: string, offset: number }.");
  }
  wholeNumber(position.offset, 0, 'since.offset');
  return { epoch: position.epoch, offset: position.offset };
}

function wholeNumber(value: number, min: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be a whole number of at least ${min}.`);
}
