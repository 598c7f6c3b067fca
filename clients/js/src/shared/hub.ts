import { Herald, HeraldError, type Subscription } from '../index.js';
import type { HeraldOptions, Position, Publication, SubscribedEvent, TransportName } from '../types.js';
import { PROTOCOL, toWire, type Hold, type HubMessage, type RequestMessage, type Status, type TabMessage } from './protocol.js';
import { ChannelShares, joinPlan, joinReply, recoverable, samePosition } from './shares.js';

/** Where the hub's messages go: to some tabs, by id (a SharedWorker's ports, or a BroadcastChannel). */
export interface HubOutbox {
  send(tabs: readonly string[], message: HubMessage): void;
}

/** The part of the Web Locks API the sharing uses (`navigator.locks`). */
export interface LockManagerLike {
  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void>): Promise<unknown>;
}

export interface HubSettings {
  /** Watches each tab's lock (`hello.lock`): granted to the hub when the tab is gone, however it went. */
  readonly locks?: LockManagerLike | undefined;
  /** Asks the tabs for the token (a SharedWorker: the token function lives in the pages). */
  readonly tokenFromTabs?: boolean;
  /** A tab is gone (it said bye, or its lock was granted): forget its port. */
  readonly detached?: (tab: string) => void;
}

/** One channel on the shared connection. */
interface Shared {
  readonly sub: Subscription<unknown>;
  /** The position it was subscribed from. */
  readonly since: Position | null;
  confirmed: boolean;
  transport: TransportName;
  /** Set while no tab holds it: it leaves the connection when this fires. */
  linger: ReturnType<typeof setTimeout> | undefined;
}

// A channel stays on the connection this long after its last tab let go: a reload (bye, then hello
// a moment later), or an unsubscribe and subscribe in one tick, keeps it instead of leaving and
// subscribing again.
const LINGER_MS = 1_000;
// The server's default history page: a lower Herald:MaxHistoryLimit than 1000 still accepts it.
const PAGE = 100;
const EVENTS = ['state', 'connecting', 'connected', 'disconnected', 'error'] as const;

/**
 * The one connection of a browser's tabs: a plain `Herald` client whose subscriptions are the
 * union of the tabs' (reference-counted), and which hands each tab what a client of its own
 * would have given it. Every tab keeps its own position and drops what it has seen, so a tab
 * that joins late, or a new hub that resumes from another tab's position, costs at most a
 * history read — never a gap or a duplicate.
 */
export class Hub {
  readonly herald: Herald;
  private readonly shares = new ChannelShares();
  private readonly channels = new Map<string, Shared>();
  /** Attached tabs, oldest first, each with the function that stops watching it. */
  private readonly tabs = new Map<string, () => void>();
  private readonly tokens = new Map<number, { tab: string; resolve: (token: string | undefined) => void; reject: (error: HeraldError) => void }>();
  private readonly requestTimeoutMs: number;
  private nextToken = 1;
  private stopped = false;

  constructor(
    url: string,
    options: HeraldOptions,
    private readonly out: HubOutbox,
    private readonly settings: HubSettings = {},
  ) {
    this.herald = new Herald(url, settings.tokenFromTabs === true ? { ...options, token: () => this.askToken() } : options);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    for (const name of EVENTS) {
      this.herald.on(name, (event: unknown) => {
        if (this.stopped) return;
        this.post([...this.tabs.keys()], { t: 'event', name, event: name === 'error' ? toWire(event) : event, ...this.status() });
      });
    }
  }

  /** Handles one message of a tab. */
  receive(tab: string, message: TabMessage): void {
    if (this.stopped) return;
    if (message.t === 'hello') {
      if (message.v === PROTOCOL) this.attach(tab, message.lock, message.holds);
      else this.post([tab], { t: 'refuse', v: PROTOCOL });
      return;
    }
    // A tab the hub does not know (any more) says hello first; until then it is ignored.
    if (!this.tabs.has(tab)) return;
    switch (message.t) {
      case 'hold':
        this.hold(tab, message);
        break;
      case 'release':
        if (this.shares.release(tab, message.channel)) this.drop(message.channel);
        break;
      case 'request':
        void this.request(tab, message.id, message.request);
        break;
      case 'reconnect':
        this.herald.reconnect();
        break;
      case 'transports':
        try {
          this.herald.setTransports(message.transports);
        } catch {
          // The tab checked the names; a transport this runtime lacks leaves the order as it was.
        }
        break;
      case 'token': {
        const wait = this.tokens.get(message.id);
        this.tokens.delete(message.id);
        if (message.error !== undefined) wait?.reject(new HeraldError(message.error.code, message.error.message));
        else wait?.resolve(message.token);
        break;
      }
      case 'bye':
        this.detach(tab);
        break;
    }
  }

  /** Forgets a tab: the channels only it held are unsubscribed. */
  detach(tab: string): void {
    const stop = this.tabs.get(tab);
    if (stop === undefined) return;
    this.tabs.delete(tab);
    stop();
    this.settings.detached?.(tab);
    for (const channel of this.shares.releaseTab(tab)) this.drop(channel);
    for (const [id, wait] of this.tokens) {
      if (wait.tab !== tab) continue;
      this.tokens.delete(id);
      wait.reject(new HeraldError('disconnected', 'The tab left before it gave a token.'));
    }
  }

  /** Ends the hub and its connection, without a word to the tabs: another hub takes over. */
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const stop of this.tabs.values()) stop();
    this.tabs.clear();
    for (const shared of this.channels.values()) clearTimeout(shared.linger);
    for (const wait of this.tokens.values()) wait.reject(new HeraldError('closed', 'The shared connection closed.'));
    this.tokens.clear();
    this.herald.close();
  }

  /** The last tab let go of a channel: it leaves the connection, unless a tab holds it again soon. */
  private drop(channel: string): void {
    const shared = this.channels.get(channel);
    if (shared === undefined || shared.linger !== undefined) return;
    shared.linger = setTimeout(() => {
      if (this.channels.get(channel) !== shared) return;
      shared.sub.unsubscribe();
      this.channels.delete(channel);
    }, LINGER_MS);
  }

  /** Sends to some tabs; to none is nothing (a lingering channel's publications go nowhere). */
  private post(tabs: readonly string[], message: HubMessage): void {
    if (tabs.length > 0) this.out.send(tabs, message);
  }

  private status(): Status {
    return { state: this.herald.state, transport: this.herald.transport, transports: [...this.herald.transports] };
  }

  /** A tab says hello: the hub takes its holds as the whole truth about it. */
  private attach(tab: string, lock: string | null, holds: readonly Hold[]): void {
    if (!this.tabs.has(tab)) this.tabs.set(tab, this.watch(tab, lock));
    this.post([tab], { t: 'welcome', ...this.status() });
    const wanted = new Set(holds.map((h) => h.channel));
    for (const channel of this.shares.channelsOf(tab)) {
      if (!wanted.has(channel) && this.shares.release(tab, channel)) this.drop(channel);
    }
    for (const hold of holds) this.hold(tab, hold);
  }

  /** The lock a live tab holds is granted to the hub when the tab goes: closed, crashed, navigated away. */
  private watch(tab: string, lock: string | null): () => void {
    const locks = this.settings.locks;
    if (locks === undefined || lock === null) return () => undefined;
    const stop = new AbortController();
    locks.request(lock, { signal: stop.signal }, async () => this.detach(tab)).catch(() => undefined);
    return () => stop.abort();
  }

  private hold(tab: string, hold: Hold): void {
    this.shares.hold(tab, hold);
    const shared = this.channels.get(hold.channel);
    if (shared === undefined) return this.open(hold.channel, hold.position);
    clearTimeout(shared.linger);
    shared.linger = undefined;
    if (shared.confirmed) this.join(hold.channel, shared, tab);
    // Otherwise the tab joins when the server confirms the subscription.
  }

  private open(channel: string, since: Position | null): void {
    const sub = this.herald.subscribe(channel, since === null ? {} : { since });
    const shared: Shared = { sub, since, confirmed: false, transport: this.herald.transport ?? 'ws', linger: undefined };
    this.channels.set(channel, shared);
    const current = () => !this.stopped && this.channels.get(channel) === shared;
    sub.on('subscribed', (event) => {
      if (current()) this.confirmed(channel, shared, event);
    });
    sub.on('publication', (publication) => {
      if (current()) this.post([...this.shares.holders(channel).keys()], { t: 'publication', publication });
    });
    sub.on('error', (error) => {
      if (!current()) return;
      clearTimeout(shared.linger);
      this.channels.delete(channel);
      for (const [tab, holder] of this.shares.drop(channel)) this.post([tab], { t: 'refused', channel, seq: holder.seq, error: toWire(error) });
    });
  }

  private confirmed(channel: string, shared: Shared, event: SubscribedEvent): void {
    shared.transport = event.transport;
    const reply = { recovered: event.recovered, epoch: event.epoch, offset: event.offset };
    if (shared.confirmed) {
      const joined = [...this.shares.holders(channel)].filter(([, h]) => h.joined).map(([tab]) => tab);
      this.post(joined, { t: 'subscribed', channel, reply, transport: event.transport });
      return;
    }
    shared.confirmed = true;
    for (const [tab, holder] of this.shares.holders(channel)) {
      // A tab that asked for the position the channel was subscribed from gets the server's answer as it is.
      if (!samePosition(holder.position, shared.since)) {
        this.join(channel, shared, tab);
        continue;
      }
      holder.joined = true;
      this.post([tab], { t: 'joined', channel, seq: holder.seq, reply, transport: event.transport, publications: [] });
    }
  }

  /** A tab joins a channel the hub has confirmed; it receives every publication from now on meanwhile, and keeps them until this answer. */
  private join(channel: string, shared: Shared, tab: string): void {
    const holder = this.shares.holder(tab, channel);
    const hub = shared.sub.position;
    if (holder === undefined || hub === null) return;
    if (joinPlan(hub, holder.position) !== 'history' || holder.position === null) {
      holder.joined = true;
      this.post([tab], { t: 'joined', channel, seq: holder.seq, reply: joinReply(hub, holder.position, true), transport: shared.transport, publications: [] });
      return;
    }
    void this.catchUp(channel, shared, tab, holder.seq, holder.position, hub);
  }

  /** Reads what a tab behind the hub missed; retried while the server cannot be reached, like a subscription. */
  private async catchUp(channel: string, shared: Shared, tab: string, seq: number, from: Position, until: Position): Promise<void> {
    let missed: Publication[] | null = null;
    for (let attempt = 0; ; attempt++) {
      try {
        missed = await this.read(channel, from, until);
        break;
      } catch (error) {
        if (this.stopped) return;
        // A refusal will not change: the tab continues after the hub's position, told it is a reset.
        if (!transient(error)) break;
        await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 500 * 2 ** attempt)));
        if (this.shares.holder(tab, channel)?.seq !== seq || this.channels.get(channel) !== shared) return;
      }
    }
    const holder = this.shares.holder(tab, channel);
    const hub = shared.sub.position;
    if (this.stopped || holder?.seq !== seq || this.channels.get(channel) !== shared || hub === null) return;
    holder.joined = true;
    const reply = joinReply(hub, from, missed !== null);
    this.post([tab], { t: 'joined', channel, seq, reply, transport: shared.transport, publications: missed ?? [] });
  }

  /** The publications after `from`, up to at least `until`; null when history no longer has them all. */
  private async read(channel: string, from: Position, until: Position): Promise<Publication[] | null> {
    const missed: Publication[] = [];
    let after = from.offset;
    for (let first = true; ; first = false) {
      const page = await this.herald.history(channel, { after, limit: PAGE });
      if (first && !recoverable(page, from)) return null;
      missed.push(...page.publications);
      const last = page.publications.at(-1);
      if (last === undefined || page.publications.length < PAGE || (last.epoch === until.epoch && last.offset >= until.offset)) return missed;
      after = last.offset;
    }
  }

  private async request(tab: string, id: number, request: RequestMessage): Promise<void> {
    try {
      const result =
        request.op === 'publish'
          ? await this.herald.publish(request.channel, request.data, { idempotencyKey: request.idempotencyKey, ...(request.type === undefined ? {} : { type: request.type }) })
          : await this.herald.history(request.channel, {
              ...(request.after === undefined ? {} : { after: request.after }),
              ...(request.limit === undefined ? {} : { limit: request.limit }),
              ...(request.reverse === undefined ? {} : { reverse: request.reverse }),
            });
      if (!this.stopped) this.post([tab], { t: 'reply', id, result });
    } catch (error) {
      // A hub that stopped says nothing: the tab asks the next hub.
      if (!this.stopped) this.post([tab], { t: 'reply', id, error: toWire(error) });
    }
  }

  /** The token, from the newest tab that answers (a SharedWorker has no token function of its own). */
  private async askToken(): Promise<string | undefined> {
    let failure: HeraldError = new HeraldError('token', 'No tab is attached to give a token.');
    for (const tab of [...this.tabs.keys()].reverse()) {
      try {
        return await this.tokenOf(tab);
      } catch (error) {
        failure = error instanceof HeraldError ? error : new HeraldError('token', String(error));
      }
    }
    throw failure;
  }

  private tokenOf(tab: string): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      const id = this.nextToken++;
      const timer = setTimeout(() => {
        this.tokens.delete(id);
        reject(new HeraldError('timeout', `The tab gave no token within ${this.requestTimeoutMs} ms.`));
      }, this.requestTimeoutMs);
      const settle = <T>(f: (value: T) => void) => (value: T) => {
        clearTimeout(timer);
        f(value);
      };
      this.tokens.set(id, { tab, resolve: settle(resolve), reject: settle(reject) });
      this.post([tab], { t: 'token', id });
    });
  }
}

/** A failure that may pass (the server unreachable, restarting, overloaded), as `Herald` retries publishes. */
function transient(error: unknown): boolean {
  if (!(error instanceof HeraldError)) return false;
  if (error.status !== undefined) return error.status >= 500 || error.status === 429;
  return ['network', 'timeout', 'disconnected', 'internal_error', 'engine_unavailable', 'unavailable'].includes(error.code);
}
