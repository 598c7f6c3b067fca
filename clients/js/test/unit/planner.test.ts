import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/backoff.js';
import { Planner } from '../../src/planner.js';
import type { TransportName } from '../../src/index.js';

const ORDER: readonly TransportName[] = ['ws', 'sse', 'stream', 'longpoll'];

/** Backoff that always draws its ceiling, so delays are predictable. */
function planner(options = {}): Planner {
  return new Planner(ORDER, new Backoff({ initialMs: 100, maxMs: 1_000 }, () => 0.999999), options);
}

describe('Planner', () => {
  it('starts with the first transport', () => {
    expect(planner().transport).toBe('ws');
  });

  it('moves at once to the next transport when one that never opened is refused by a reachable server', () => {
    const p = planner();
    expect(p.openFailed(true)).toEqual({ transport: 'sse', delayMs: 0 });
    expect(p.openFailed(true)).toEqual({ transport: 'stream', delayMs: 0 });
  });

  it('stays on the transport with growing delays while the server does not answer at all', () => {
    const p = planner();
    const attempts = [p.openFailed(false), p.openFailed(false), p.openFailed(false), p.openFailed(false), p.openFailed(false)];
    expect(attempts.map((a) => a.transport)).toEqual(['ws', 'ws', 'ws', 'ws', 'ws']);
    expect(attempts.map((a) => a.delayMs)).toEqual([99, 199, 399, 799, 999]);
  });

  it('gives a transport that worked before three tries before moving on', () => {
    const p = planner();
    p.opened(0);
    expect(p.closed(60_000)).toEqual({ transport: 'ws', delayMs: 99 });
    expect(p.openFailed(true).transport).toBe('ws');
    expect(p.openFailed(true).transport).toBe('ws');
    expect(p.openFailed(true)).toEqual({ transport: 'sse', delayMs: 0 });
  });

  it('moves on after three connections in a row that were cut before they were stable', () => {
    const p = planner({ stableAfterMs: 10_000 });
    const next: string[] = [];
    for (let i = 0; i < 3; i++) {
      p.opened(i * 1_000);
      next.push(p.closed(i * 1_000 + 500).transport);
    }
    expect(next).toEqual(['ws', 'ws', 'sse']);
  });

  it('treats a connection that lived long enough as healthy: the cut count and the delay start over', () => {
    const p = planner({ stableAfterMs: 10_000 });
    p.opened(0);
    p.closed(100);
    p.opened(200);
    p.closed(300);
    p.opened(1_000);
    expect(p.closed(20_000)).toEqual({ transport: 'ws', delayMs: 99 });
    p.opened(21_000);
    expect(p.closed(21_100).transport).toBe('ws');
  });

  it('starts a new round from the first transport after the last, with a backoff delay', () => {
    const p = planner();
    for (let i = 0; i < 3; i++) p.openFailed(true);
    expect(p.transport).toBe('longpoll');
    const next = p.openFailed(true);
    expect(next.transport).toBe('ws');
    expect(next.delayMs).toBeGreaterThan(0);
  });

  it('uses a new order at once, from its first transport', () => {
    const p = planner();
    p.openFailed(true);
    p.reorder(['poll', 'poll', 'sse']);
    expect(p.transport).toBe('poll');
    expect(p.transports).toEqual(['poll', 'sse']);
    expect(() => p.reorder([])).toThrow(RangeError);
  });

  it('with one transport only, retries it for ever with backoff', () => {
    const p = new Planner(['sse'], new Backoff({ initialMs: 100, maxMs: 1_000 }, () => 0.999999));
    const attempts = [p.openFailed(true), p.openFailed(true), p.openFailed(true)];
    expect(attempts).toEqual([
      { transport: 'sse', delayMs: 99 },
      { transport: 'sse', delayMs: 199 },
      { transport: 'sse', delayMs: 399 },
    ]);
  });
});
