import { Backoff } from './backoff.js';
import type { FallbackOptions, TransportName } from './types.js';

/** The next attempt: which transport, and after how long. */
export interface Attempt {
  readonly transport: TransportName;
  readonly delayMs: number;
}

/**
 * Decides which transport to try next and when, from what happened to the last attempt. Pure
 * (no timers, no I/O; time and randomness come in), so every rule is unit-tested.
 *
 * - While the server itself cannot be reached (its `/healthz` does not answer either), the same
 *   transport is retried with backoff: another transport would fail the same way, and a page
 *   should come back on WebSocket after a server restart, not on long polling.
 * - A transport that fails to open while the server answers is skipped at once if it never
 *   opened: a proxy that refuses WebSockets refuses them every time, and the page should be on
 *   SSE within one round trip. One that opened before gets `retriesPerTransport` tries.
 * - A connection cut sooner than `stableAfterMs`, `cutsBeforeFallback` times in a row, counts as
 *   not working (a proxy that buffers or kills long responses); one that lived longer resets the
 *   count and is retried on the same transport.
 * - After the last transport, the round starts again from the first with a backoff delay, so a
 *   server that is down for minutes is retried at most every `backoff.maxMs`, and the preferred
 *   transport gets its chance again.
 */
export class Planner {
  private order: readonly TransportName[];
  private index = 0;
  private readonly proven = new Set<TransportName>();
  private failures = 0;
  private quickCuts = 0;
  /** Backoff attempt number: grows with every retry that is not a first try of a transport. */
  private attempt = 0;
  private openedAt: number | null = null;
  private readonly retriesPerTransport: number;
  private readonly cutsBeforeFallback: number;
  private readonly stableAfterMs: number;

  constructor(
    order: readonly TransportName[],
    private readonly backoff: Backoff,
    options: FallbackOptions = {},
  ) {
    this.order = checkOrder(order);
    this.retriesPerTransport = atLeastOne(options.retriesPerTransport, 3, 'fallback.retriesPerTransport');
    this.cutsBeforeFallback = atLeastOne(options.cutsBeforeFallback, 3, 'fallback.cutsBeforeFallback');
    this.stableAfterMs = options.stableAfterMs ?? 10_000;
  }

  get transport(): TransportName {
    return this.order[this.index] as TransportName;
  }

  get transports(): readonly TransportName[] {
    return this.order;
  }

  /** Starts over with a new order (the first one is tried next, at once). */
  reorder(order: readonly TransportName[]): void {
    this.order = checkOrder(order);
    this.index = 0;
    this.failures = 0;
    this.quickCuts = 0;
    this.attempt = 0;
    this.openedAt = null;
  }

  opened(now: number): void {
    this.proven.add(this.transport);
    this.failures = 0;
    this.openedAt = now;
  }

  /**
   * The attempt failed before the transport opened; `serverReachable` says whether the server
   * answered otherwise (an HTTP status, or its health check).
   */
  openFailed(serverReachable: boolean): Attempt {
    if (!serverReachable) return this.retrySame();
    this.failures++;
    const tries = this.proven.has(this.transport) ? this.retriesPerTransport : 1;
    if (this.failures < tries) return this.retrySame();
    return this.advance();
  }

  /** An open connection ended. */
  closed(now: number): Attempt {
    const lived = this.openedAt === null ? 0 : now - this.openedAt;
    this.openedAt = null;
    if (lived >= this.stableAfterMs) {
      this.quickCuts = 0;
      this.attempt = 0;
      return this.retrySame();
    }
    this.quickCuts++;
    if (this.quickCuts < this.cutsBeforeFallback) return this.retrySame();
    return this.advance();
  }

  private retrySame(): Attempt {
    return { transport: this.transport, delayMs: this.backoff.delay(this.attempt++) };
  }

  private advance(): Attempt {
    this.failures = 0;
    this.quickCuts = 0;
    this.index = (this.index + 1) % this.order.length;
    // A transport not tried yet in this round is tried at once; a new round waits.
    if (this.index !== 0) return { transport: this.transport, delayMs: 0 };
    return { transport: this.transport, delayMs: this.backoff.delay(this.attempt++) };
  }
}

function checkOrder(order: readonly TransportName[]): readonly TransportName[] {
  if (order.length === 0) throw new RangeError('transports must name at least one transport.');
  const unique = [...new Set(order)];
  return Object.freeze(unique);
}

function atLeastOne(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a whole number of at least 1.`);
  return value;
}
