// The SharedWorker's side: one hub for every tab that connects a port to the worker.

import { Hub, type LockManagerLike } from './hub.js';
import { holdLock, type MessagePortLike } from './links.js';
import { PROTOCOL, type PlainOptions, type TabMessage } from './protocol.js';
import type { HeraldOptions } from '../types.js';

/** What the worker's global scope offers (SharedWorkerGlobalScope, or a test's stand-in). */
export interface WorkerScope {
  /** The name the tabs gave the worker: their share's. */
  readonly name: string;
  onconnect: ((event: { readonly ports: readonly MessagePortLike[] }) => void) | null;
  readonly navigator?: { readonly locks?: LockManagerLike };
}

/** The first tab's options, less what cannot cross to a worker (its globals stand in for them). */
function options(plain: PlainOptions): HeraldOptions {
  const { eventSource, ...rest } = plain;
  return eventSource === false ? { ...rest, EventSource: null } : rest;
}

/**
 * Serves the tabs that connect to this worker. The hub starts with the first tab's hello (its
 * server URL and options) and asks the tabs for the token; each tab is forgotten when it says bye
 * or its Web Lock is granted to the worker (the tab is gone). The worker holds a lock of its own
 * while it lives, and answers nobody before it does: a tab that queues for it after its welcome
 * is granted it only when this worker is gone.
 */
export function serveTabs(scope: WorkerScope): void {
  const locks = scope.navigator?.locks;
  const alive = locks === undefined ? Promise.resolve() : holdLock(locks, `${scope.name}/worker`).granted;
  const ports = new Map<string, MessagePortLike>();
  let hub: Hub | null = null;
  scope.onconnect = (event) => {
    const port = event.ports[0];
    if (port === undefined) return;
    let tab: string | null = null;
    // In order: reactions to one promise run in the order they were added.
    port.onmessage = ({ data }) => void alive.then(() => handle(data as TabMessage));
    const handle = (message: TabMessage) => {
      if (message.t === 'hello') {
        if (message.v !== PROTOCOL) {
          port.postMessage({ t: 'refuse', v: PROTOCOL });
          return;
        }
        tab = message.tab;
        ports.set(tab, port);
        hub ??= new Hub(message.url, options(message.options), { send: (to, m) => to.forEach((t) => ports.get(t)?.postMessage(m)) }, {
          locks,
          tokenFromTabs: true,
          detached: (gone) => ports.delete(gone),
        });
      }
      if (tab !== null && hub !== null) hub.receive(tab, message);
    };
    port.start?.();
  };
}
