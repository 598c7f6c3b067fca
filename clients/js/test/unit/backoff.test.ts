import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/backoff.js';

describe('Backoff', () => {
  it('doubles the ceiling per attempt from initialMs up to maxMs', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1_000 });
    expect([0, 1, 2, 3, 4, 5, 100].map((n) => backoff.ceiling(n))).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
  });

  it('draws each delay uniformly between 0 and the ceiling (full jitter)', () => {
    let next = 0;
    const draws = [0, 0.5, 0.999999];
    const backoff = new Backoff({ initialMs: 100, maxMs: 1_000 }, () => draws[next++] ?? 0);
    expect([backoff.delay(3), backoff.delay(3), backoff.delay(3)]).toEqual([0, 400, 799]);
  });

  it('stays finite and within maxMs for any attempt number', () => {
    const backoff = new Backoff({ initialMs: 500, maxMs: 30_000, multiplier: 3 }, () => 0.999);
    for (const attempt of [10, 1_000, Number.MAX_SAFE_INTEGER]) {
      const delay = backoff.delay(attempt);
      expect(Number.isFinite(delay)).toBe(true);
      expect(delay).toBeLessThan(30_000);
    }
  });

  it('has production defaults of 500 ms growing to 30 s', () => {
    const backoff = new Backoff();
    expect([backoff.initialMs, backoff.maxMs, backoff.multiplier]).toEqual([500, 30_000, 2]);
  });

  it('refuses settings that make no sense', () => {
    expect(() => new Backoff({ initialMs: 0 })).toThrow(RangeError);
    expect(() => new Backoff({ maxMs: -1 })).toThrow(RangeError);
    expect(() => new Backoff({ multiplier: 0.5 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 2_000, maxMs: 1_000 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: Number.NaN })).toThrow(RangeError);
  });
});
