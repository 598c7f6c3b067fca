// The messages between the tabs of a browser and the hub that holds their one connection (in a
// SharedWorker, or in the leader tab). Plain data only: they cross postMessage and BroadcastChannel
// by structured clone. Shared code imports the core only through '../index.js' (the build checks
// it), so the shared bundle uses the very classes of the main one.

import { HeraldError } from '../index.js';
import type { ClientEvents, ConnectionState, HeraldOptions, Position, Publication, TransportName } from '../types.js';

/** Bumped on any incompatible change of these messages: tabs and hubs of two versions never talk. */
export const PROTOCOL = 1;

/** What the server said when a subscription went live, as the hub hands it to a tab. */
export interface Reply {
  readonly recovered: boolean;
  readonly epoch: string;
  readonly offset: number;
}

export interface WireError {
  readonly code: string;
  readonly message: string;
  readonly status?: number;
}

/** A channel a tab holds: `seq` names this hold, so a late answer to an older one is ignored. */
export interface Hold {
  readonly channel: string;
  readonly seq: number;
  /** Where the tab stands in the channel; null: live from now. */
  readonly position: Position | null;
}

/** The options a SharedWorker's client can take from a tab: everything but functions and classes. */
export type PlainOptions = Omit<HeraldOptions, 'token' | 'WebSocket' | 'EventSource' | 'fetch'> & { readonly eventSource?: false };

export type RequestMessage =
  | { readonly op: 'publish'; readonly channel: string; readonly data: unknown; readonly type?: string; readonly idempotencyKey: string }
  | { readonly op: 'history'; readonly channel: string; readonly after?: number; readonly limit?: number; readonly reverse?: boolean };

/** Tab → hub. */
export type TabMessage =
  /** Attach (again): the tab's whole state; the hub replaces whatever it knew of the tab. */
  | { readonly t: 'hello'; readonly v: number; readonly tab: string; readonly url: string; readonly options: PlainOptions; readonly lock: string | null; readonly holds: readonly Hold[] }
  /** Hold a channel, or hold it again from a position (after a gap the tab could not close). */
  | ({ readonly t: 'hold' } & Hold)
  | { readonly t: 'release'; readonly channel: string }
  | { readonly t: 'request'; readonly id: number; readonly request: RequestMessage }
  | { readonly t: 'reconnect' }
  | { readonly t: 'transports'; readonly transports: readonly TransportName[] }
  | { readonly t: 'token'; readonly id: number; readonly token?: string; readonly error?: WireError }
  | { readonly t: 'bye' };

/** The connection's state as every tab mirrors it. */
export interface Status {
  readonly state: ConnectionState;
  readonly transport: TransportName | null;
  readonly transports: readonly TransportName[];
}

/** Hub → tab. */
export type HubMessage =
  | ({ readonly t: 'welcome' } & Status)
  | ({ readonly t: 'event'; readonly name: keyof ClientEvents; readonly event: unknown } & Status)
  /** The tab's hold is live: `reply` as a subscribe reply, then `publications` it missed. */
  | { readonly t: 'joined'; readonly channel: string; readonly seq: number; readonly reply: Reply; readonly transport: TransportName; readonly publications: readonly Publication[] }
  /** The shared subscription was confirmed again (a reconnect). */
  | { readonly t: 'subscribed'; readonly channel: string; readonly reply: Reply; readonly transport: TransportName }
  | { readonly t: 'publication'; readonly publication: Publication }
  | { readonly t: 'refused'; readonly channel: string; readonly seq: number; readonly error: WireError }
  | { readonly t: 'reply'; readonly id: number; readonly result?: unknown; readonly error?: WireError }
  /** The hub needs a token (SharedWorker: the token function lives in the tabs). */
  | { readonly t: 'token'; readonly id: number }
  /** The hub speaks another protocol version: the tab must not use it. */
  | { readonly t: 'refuse'; readonly v: number };

export function toWire(error: unknown): WireError {
  if (error instanceof HeraldError) return { code: error.code, message: error.message, ...(error.status === undefined ? {} : { status: error.status }) };
  return { code: 'internal_error', message: error instanceof Error ? error.message : String(error) };
}

export function fromWire(error: WireError): HeraldError {
  return new HeraldError(error.code, error.message, error.status);
}

/** A random id of 16 hex digits (tabs and hubs). */
export function randomId(): string {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
