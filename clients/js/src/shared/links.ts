// How a tab reaches the hub: a SharedWorker's port, a BroadcastChannel to the leader tab (elected
// with Web Locks), or a hub of its own in the same page.

import { Hub, type HubOutbox, type LockManagerLike } from './hub.js';
import { randomId, type HubMessage, type TabMessage } from './protocol.js';

/** What the tab's side of the sharing is: where its connection lives. */
export type ShareRole = 'worker' | 'leader' | 'follower' | 'alone';

/** What a link reports to its tab. Always asynchronously, never from inside a call to the link. */
export interface LinkEvents {
  /**
   * A hub is there — the first, or a new one: say hello (again). `reason` says why the previous
   * one is gone (null for the first).
   */
  attach(reason: string | null): void;
  message(message: HubMessage): void;
  /** This way of sharing does not work here (the worker script failed): use the next. */
  failed(reason: string): void;
}

export interface Link {
  readonly role: ShareRole;
  /** The Web Lock this tab holds while it lives (null when the runtime has none). */
  readonly lock: string | null;
  post(message: TabMessage): void;
  close(): void;
}

export interface MessagePortLike {
  onmessage: ((event: { readonly data: unknown }) => void) | null;
  postMessage(message: unknown): void;
  start?(): void;
  close(): void;
}

export interface BroadcastChannelLike {
  onmessage: ((event: { readonly data: unknown }) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
}

export interface SharedWorkerLike {
  readonly port: MessagePortLike;
  onerror: ((event: unknown) => void) | null;
}

/** The browser APIs the sharing uses, each absent where the runtime lacks it. */
export interface ShareEnvironment {
  readonly locks: LockManagerLike | undefined;
  readonly BroadcastChannel: (new (name: string) => BroadcastChannelLike) | undefined;
  readonly SharedWorker: (new (url: string | URL, options: { name: string }) => SharedWorkerLike) | undefined;
  /** Calls `listener` when the page is left for good (not when it goes into the back/forward cache); returns the remover. */
  onPageHide(listener: () => void): () => void;
}

export function browserEnvironment(): ShareEnvironment {
  const g = globalThis as {
    navigator?: { locks?: LockManagerLike };
    BroadcastChannel?: new (name: string) => BroadcastChannelLike;
    SharedWorker?: new (url: string | URL, options: { name: string }) => SharedWorkerLike;
    addEventListener?: (type: string, listener: (event: { persisted?: boolean }) => void) => void;
    removeEventListener?: (type: string, listener: (event: { persisted?: boolean }) => void) => void;
  };
  return {
    locks: g.navigator?.locks,
    BroadcastChannel: g.BroadcastChannel,
    SharedWorker: g.SharedWorker,
    onPageHide(listener) {
      const onHide = (event: { persisted?: boolean }) => {
        if (event.persisted !== true) listener();
      };
      g.addEventListener?.('pagehide', onHide);
      return () => g.removeEventListener?.('pagehide', onHide);
    },
  };
}

/** Holds a lock until `release()`; `granted` resolves once it is held. */
export function holdLock(locks: LockManagerLike, name: string, signal?: AbortSignal): { granted: Promise<void>; release: () => void } {
  let release = () => undefined as void;
  let grant = () => undefined as void;
  const granted = new Promise<void>((resolve) => (grant = resolve));
  const held = new Promise<void>((resolve) => (release = resolve));
  locks
    .request(name, signal === undefined ? {} : { signal }, () => {
      grant();
      return held;
    })
    .catch(() => undefined);
  return { granted, release };
}

/**
 * The tab's side of a SharedWorker: one port, one hub for every tab of the origin. The worker
 * holds a Web Lock while it lives; each tab queues for it, so when the browser ends the worker
 * (a crash, or Android reclaiming memory) the lock comes to a tab, which starts a new worker and
 * says hello to it with its positions, as to a new leader.
 */
export class WorkerLink implements Link {
  readonly role = 'worker';
  readonly lock: string | null;
  private port: MessagePortLike | undefined;
  private watching: AbortController | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private releaseLock = () => undefined as void;
  private closed = false;

  constructor(
    private readonly env: ShareEnvironment,
    private readonly script: string | URL,
    private readonly name: string,
    tab: string,
    private readonly timeoutMs: number,
    private readonly events: LinkEvents,
  ) {
    this.lock = env.locks === undefined ? null : `${name}/tab/${tab}`;
    if (env.locks === undefined || this.lock === null) {
      queueMicrotask(() => this.start(null));
      return;
    }
    const own = holdLock(env.locks, this.lock);
    this.releaseLock = own.release;
    void own.granted.then(() => this.start(null));
  }

  post(message: TabMessage): void {
    this.port?.postMessage(message);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.watching?.abort();
    this.port?.close();
    this.port = undefined;
    this.releaseLock();
  }

  private start(reason: string | null): void {
    if (this.closed) return;
    // A worker that never answers (blocked, or a script of another protocol) is not waited for forever.
    this.timer = setTimeout(() => this.events.failed(`the SharedWorker did not answer within ${this.timeoutMs} ms`), this.timeoutMs);
    try {
      if (this.env.SharedWorker === undefined) throw new Error('no SharedWorker in this runtime');
      const worker = new this.env.SharedWorker(this.script, { name: this.name });
      worker.onerror = () => this.events.failed(`the SharedWorker ${String(this.script)} failed to load`);
      this.port = worker.port;
    } catch (error) {
      this.events.failed(`no SharedWorker (${error instanceof Error ? error.message : String(error)})`);
      return;
    }
    this.port.onmessage = (event) => {
      const message = event.data as HubMessage;
      if (message.t === 'refuse') {
        this.events.failed(`the SharedWorker speaks protocol ${message.v}`);
        return;
      }
      if (message.t === 'welcome') {
        clearTimeout(this.timer);
        this.watch();
      }
      this.events.message(message);
    };
    this.port.start?.();
    this.events.attach(reason);
  }

  /** Queues for the worker's lock: granted once the worker is gone. */
  private watch(): void {
    const locks = this.env.locks;
    if (locks === undefined || this.watching !== undefined) return;
    const watching = (this.watching = new AbortController());
    locks
      .request(`${this.name}/worker`, { signal: watching.signal }, async () => {
        if (this.closed || this.watching !== watching) return;
        this.watching = undefined;
        this.port?.close();
        this.start('the SharedWorker ended');
      })
      .catch(() => undefined);
  }
}

type Envelope =
  | { readonly k: 'leader'; readonly hub: string }
  | { readonly k: 'h2t'; readonly hub: string; readonly to: readonly string[]; readonly m: HubMessage }
  | { readonly k: 't2h'; readonly hub: string | null; readonly from: string; readonly m: TabMessage };

/**
 * The tab's side of a leader tab: every tab queues for one Web Lock; the tab that holds it runs
 * the hub, and when it closes or crashes the browser grants the lock to the next tab, whose new
 * hub announces itself. Messages go over one BroadcastChannel, addressed by tab id; a tab listens
 * only to the hub it said hello to, so a late word of an old hub cannot move its state.
 */
export class LeaderLink implements Link {
  readonly lock: string;
  private readonly channel: BroadcastChannelLike;
  private readonly candidacy = new AbortController();
  private readonly releaseLock: () => void;
  private hub: string | null = null;
  private ready = false;
  private closed = false;
  private leading: { readonly hub: Hub; readonly channel: BroadcastChannelLike; readonly resign: () => void } | null = null;

  constructor(
    private readonly env: ShareEnvironment & { readonly locks: LockManagerLike; readonly BroadcastChannel: new (name: string) => BroadcastChannelLike },
    private readonly name: string,
    private readonly tab: string,
    private readonly startHub: (out: HubOutbox, locks: LockManagerLike) => Hub,
    private readonly events: LinkEvents,
  ) {
    this.lock = `${name}/tab/${tab}`;
    this.channel = new env.BroadcastChannel(name);
    this.channel.onmessage = (event) => this.receive(event.data as Envelope);
    const own = holdLock(env.locks, this.lock);
    this.releaseLock = own.release;
    void own.granted.then(() => {
      if (this.closed) return;
      this.ready = true;
      this.events.attach(null);
    });
    env.locks.request(`${name}/leader`, { signal: this.candidacy.signal }, () => this.lead()).catch(() => undefined);
  }

  get role(): ShareRole {
    return this.leading === null ? 'follower' : 'leader';
  }

  post(message: TabMessage): void {
    if (!this.closed) tryPost(this.channel, { k: 't2h', hub: this.hub, from: this.tab, m: message } satisfies Envelope);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.candidacy.abort();
    const leading = this.leading;
    this.leading = null;
    if (leading !== null) {
      // The hub's connection closes first: the next leader must not overlap with it.
      leading.hub.close();
      leading.channel.close();
      leading.resign();
    }
    this.channel.close();
    this.releaseLock();
  }

  private receive(envelope: Envelope): void {
    if (this.closed) return;
    if (envelope.k === 'leader') {
      if (!this.ready || envelope.hub === this.hub) return;
      this.hub = envelope.hub;
      this.events.attach('the tab holding the connection left');
      return;
    }
    if (envelope.k !== 'h2t' || !envelope.to.includes(this.tab)) return;
    if (envelope.m.t === 'welcome') this.hub = envelope.hub;
    else if (envelope.hub !== this.hub) return;
    this.events.message(envelope.m);
  }

  /** This tab holds the leader lock: run the hub until the tab closes (the lock goes with it). */
  private lead(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const id = randomId();
    const channel = new this.env.BroadcastChannel(this.name);
    const hub = this.startHub({ send: (to, m) => tryPost(channel, { k: 'h2t', hub: id, to, m } satisfies Envelope) }, this.env.locks);
    channel.onmessage = (event) => {
      const envelope = event.data as Envelope;
      if (envelope.k === 't2h' && (envelope.hub === null || envelope.hub === id)) hub.receive(envelope.from, envelope.m);
    };
    return new Promise<void>((resign) => {
      this.leading = { hub, channel, resign };
      // Every tab, this one included (its own channel object hears it), says hello to the new hub.
      channel.postMessage({ k: 'leader', hub: id } satisfies Envelope);
    });
  }
}

/** Posts unless the channel is closed already (a tab on its way out): nobody is left to hear it. */
function tryPost(channel: BroadcastChannelLike, envelope: Envelope): void {
  try {
    channel.postMessage(envelope);
  } catch {
    // InvalidStateError: closed.
  }
}

/** No sharing here (no Web Locks, no BroadcastChannel, or `mode: 'none'`): a hub of the tab's own, in the page. */
export class LocalLink implements Link {
  readonly role = 'alone';
  readonly lock = null;
  private readonly hub: Hub;
  private closed = false;

  constructor(
    private readonly tab: string,
    startHub: (out: HubOutbox) => Hub,
    events: LinkEvents,
  ) {
    this.hub = startHub({ send: (_to, m) => queueMicrotask(() => this.closed || events.message(m)) });
    queueMicrotask(() => this.closed || events.attach(null));
  }

  post(message: TabMessage): void {
    queueMicrotask(() => this.closed || this.hub.receive(this.tab, message));
  }

  close(): void {
    this.closed = true;
    this.hub.close();
  }
}
