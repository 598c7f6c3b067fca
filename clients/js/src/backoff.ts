import type { BackoffOptions } from './types.js';

/**
 * Exponential backoff with full jitter: the delay of attempt n (0-based) is uniform in
 * [0, min(maxMs, initialMs × multiplier^n)]. Full jitter spreads the reconnects of thousands of
 * clients cut at the same moment (a server restart) over the whole window instead of bunching
 * them at its edges (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015).
 */
export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}, random: () => number = Math.random) {
    this.initialMs = positive(options.initialMs, 500, 'backoff.initialMs');
    this.maxMs = positive(options.maxMs, 30_000, 'backoff.maxMs');
    this.multiplier = positive(options.multiplier, 2, 'backoff.multiplier');
    if (this.multiplier < 1) throw new RangeError('backoff.multiplier must be at least 1.');
    if (this.maxMs < this.initialMs) throw new RangeError('backoff.maxMs must be at least backoff.initialMs.');
    this.random = random;
  }

  /** The upper bound of attempt `attempt`'s delay. */
  ceiling(attempt: number): number {
    // Capped before the power overflows: 2^64 × 500 ms is Infinity, and Infinity × 0 is NaN.
    const exponent = Math.min(Math.max(attempt, 0), 64);
    return Math.min(this.maxMs, this.initialMs * this.multiplier ** exponent);
  }

  delay(attempt: number): number {
    return Math.floor(this.random() * this.ceiling(attempt));
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number.`);
  return value;
}
