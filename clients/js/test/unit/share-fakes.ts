// Stand-ins for the browser APIs the sharing uses, so the leader protocol runs in Node with
// several "tabs" in one process: Web Locks (exclusive, queued, abortable, released when a tab
// dies), and a SharedWorker made of a MessageChannel and the worker's own code. BroadcastChannel
// is Node's own, which delivers between instances in one thread as browsers do between tabs.

import { serveTabs, type WorkerScope } from '../../src/shared/serve.js';
import type { LockManagerLike } from '../../src/shared/hub.js';
import type { BroadcastChannelLike, MessagePortLike, ShareEnvironment, SharedWorkerLike } from '../../src/shared/links.js';

interface Waiter {
  readonly owner: string;
  readonly name: string;
  readonly callback: () => Promise<void>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** One browser's lock manager; `manager(owner)` is what one tab (or the worker) sees. */
export class FakeLocks {
  private readonly holders = new Map<string, string>();
  private readonly queue: Waiter[] = [];
  private readonly dead = new Set<string>();

  manager(owner: string): LockManagerLike {
    return {
      request: (name, options, callback) =>
        new Promise((resolve, reject) => {
          if (options.signal?.aborted === true) return reject(new DOMException('aborted', 'AbortError'));
          const waiter: Waiter = { owner, name, callback, resolve, reject };
          options.signal?.addEventListener('abort', () => {
            const at = this.queue.indexOf(waiter);
            if (at < 0) return;
            this.queue.splice(at, 1);
            reject(new DOMException('aborted', 'AbortError'));
          });
          this.queue.push(waiter);
          this.grant();
        }),
    };
  }

  /** The tab is gone: its locks are released and its queued requests vanish, as when a page closes. */
  kill(owner: string): void {
    this.dead.add(owner);
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]?.owner === owner) this.queue.splice(i, 1);
    for (const [name, holder] of [...this.holders]) if (holder === owner) this.holders.delete(name);
    this.grant();
  }

  held(name: string): string | undefined {
    return this.holders.get(name);
  }

  private grant(): void {
    for (const waiter of [...this.queue]) {
      if (this.holders.has(waiter.name)) continue;
      this.queue.splice(this.queue.indexOf(waiter), 1);
      this.holders.set(waiter.name, waiter.owner);
      void waiter.callback().then(
        (value) => this.release(waiter, () => waiter.resolve(value)),
        (error: unknown) => this.release(waiter, () => waiter.reject(error)),
      );
    }
  }

  private release(waiter: Waiter, settle: () => void): void {
    if (this.dead.has(waiter.owner)) return;
    if (this.holders.get(waiter.name) === waiter.owner) this.holders.delete(waiter.name);
    settle();
    this.grant();
  }
}

/** The channels a tab opened, so a test can cut them all as a crashing tab would. */
export class TabChannels {
  private readonly open: BroadcastChannelLike[] = [];

  readonly BroadcastChannel = ((channels: TabChannels) =>
    class {
      constructor(name: string) {
        const channel = new globalThis.BroadcastChannel(name) as unknown as BroadcastChannelLike;
        channels.open.push(channel);
        return channel;
      }
    } as unknown as new (name: string) => BroadcastChannelLike)(this);

  closeAll(): void {
    for (const channel of this.open.splice(0)) channel.close();
  }
}

/** A SharedWorker per script URL and name, run in this process: the real serving code behind a MessageChannel. */
export class FakeWorkers {
  private readonly scopes = new Map<string, { readonly scope: WorkerScope; readonly owner: string; readonly ports: MessagePortLike[] }>();
  private started = 0;

  constructor(private readonly locks: FakeLocks) {}

  readonly SharedWorker = ((workers: FakeWorkers) =>
    class implements SharedWorkerLike {
      readonly port: MessagePortLike;
      onerror: ((event: unknown) => void) | null = null;
      constructor(url: string | URL, options: { name: string }) {
        const key = `${String(url)} ${options.name}`;
        let worker = workers.scopes.get(key);
        if (worker === undefined) {
          const owner = `worker-${++workers.started}`;
          worker = { scope: { name: options.name, onconnect: null, navigator: { locks: workers.locks.manager(owner) } }, owner, ports: [] };
          serveTabs(worker.scope);
          workers.scopes.set(key, worker);
        }
        const { port1, port2 } = new MessageChannel();
        worker.ports.push(port1 as unknown as MessagePortLike, port2 as unknown as MessagePortLike);
        this.port = port1 as unknown as MessagePortLike;
        worker.scope.onconnect?.({ ports: [port2 as unknown as MessagePortLike] });
      }
    })(this);

  /** How many workers were started. */
  get count(): number {
    return this.started;
  }

  /** The browser ends every worker (a crash): its ports close, its locks go, the next `new SharedWorker` starts another. */
  killAll(): void {
    const dead = [...this.scopes.values()];
    this.scopes.clear();
    for (const { owner, ports } of dead) {
      for (const port of ports) port.close();
      this.locks.kill(owner);
    }
  }

  closeAll(): void {
    for (const { ports } of this.scopes.values()) for (const port of ports.splice(0)) port.close();
  }
}

/** What one tab sees: its own lock manager and channels, the browser's workers. */
export function tabEnvironment(owner: string, locks: FakeLocks, channels: TabChannels, workers?: FakeWorkers): ShareEnvironment {
  return {
    locks: locks.manager(owner),
    BroadcastChannel: channels.BroadcastChannel,
    SharedWorker: workers?.SharedWorker,
    onPageHide: () => () => undefined,
  };
}
