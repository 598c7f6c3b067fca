// Records what a client and its subscriptions report, for assertions.

import WebSocket from 'ws';
import { Herald, type HeraldOptions, type Publication, type Subscription, type TransportName } from '../../src/index.js';
import { until } from './herald-server.js';

/** Short delays, so a test that cuts connections does not wait out production backoff. */
export const FAST: HeraldOptions = {
  WebSocket,
  backoff: { initialMs: 100, maxMs: 1_000 },
  fallback: { stableAfterMs: 2_000 },
  openTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  pollIntervalMs: 100,
  longPollWaitSeconds: 10,
};

export function client(url: string, transports: readonly TransportName[], options: HeraldOptions = {}): Herald {
  return new Herald(url, { ...FAST, transports, ...options });
}

/** Every client event, as short strings: `connected:sse`, `disconnected:ws`, … */
export function clientLog(herald: Herald): string[] {
  const log: string[] = [];
  herald.on('connecting', (e) => log.push(`connecting:${e.transport}`));
  herald.on('connected', (e) => log.push(`connected:${e.transport}`));
  herald.on('disconnected', (e) => log.push(`disconnected:${e.transport ?? '-'}:${e.reason}`));
  return log;
}

export class Received<T = unknown> {
  readonly publications: Publication<T>[] = [];
  readonly events: string[] = [];

  constructor(readonly subscription: Subscription<T>) {
    subscription.on('publication', (p) => this.publications.push(p));
    subscription.on('subscribed', (e) => this.events.push(`subscribed:${e.transport}:${e.recovered}`));
    subscription.on('recovered', (e) => this.events.push(`recovered:${e.transport}:${e.offset}`));
    subscription.on('reset', (e) => this.events.push(`reset:${e.transport}:${e.previous?.offset ?? '-'}->${e.offset}`));
    subscription.on('error', (e) => this.events.push(`error:${e.code}`));
  }

  get offsets(): number[] {
    return this.publications.map((p) => p.offset);
  }

  async count(n: number, ms = 30_000): Promise<void> {
    await until(() => this.publications.length >= n, ms, () => `expected ${n} publications on ${this.subscription.channel}, got offsets [${this.offsets.join(',')}]; events ${this.events.join(' ')}`);
  }

  async event(prefix: string, ms = 30_000): Promise<void> {
    await until(() => this.events.some((e) => e.startsWith(prefix)), ms, () => `no '${prefix}' event on ${this.subscription.channel}; events ${this.events.join(' ')}`);
  }
}

/** 1, 2, …, n. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

let counter = 0;
/** A channel name no other test uses. */
export function freshChannel(namespace = 'chat'): string {
  return `${namespace}:t${process.pid}-${Date.now().toString(36)}-${++counter}`;
}
