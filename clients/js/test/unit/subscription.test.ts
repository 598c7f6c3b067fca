import { describe, expect, it } from 'vitest';
import { HeraldError } from '../../src/errors.js';
import { Subscription } from '../../src/subscription.js';
import type { Publication } from '../../src/index.js';

function publication(offset: number, epoch = 'E'): Publication<{ n: number }> {
  return { channel: 'chat:a', offset, epoch, id: `id${offset}`, time: '2026-01-01T00:00:00Z', data: { n: offset } };
}

function subscription(since?: { epoch: string; offset: number }) {
  const dropped: object[] = [];
  const sub = new Subscription<{ n: number }>('chat:a', since, { unsubscribe: (s) => dropped.push(s) });
  const events: string[] = [];
  sub.on('publication', (p) => events.push(`publication:${p.offset}`));
  sub.on('subscribed', (e) => events.push(`subscribed:${e.recovered}:${e.offset}`));
  sub.on('recovered', (e) => events.push(`recovered:${e.offset}`));
  sub.on('reset', (e) => events.push(`reset:${e.previous?.offset ?? '-'}->${e.offset}`));
  sub.on('error', (e) => events.push(`error:${e.code}`));
  return { sub, events, dropped };
}

describe('Subscription', () => {
  it('delivers each offset once across a reconnect whose replay overlaps', () => {
    const { sub, events } = subscription();
    sub.confirm({ recovered: true, epoch: 'E', offset: 0 }, 'ws');
    for (const offset of [1, 2, 3]) expect(sub.deliver(publication(offset))).toBe(true);
    sub.confirm({ recovered: true, epoch: 'E', offset: 5 }, 'sse');
    for (const offset of [2, 3, 4, 5]) expect(sub.deliver(publication(offset))).toBe(true);
    expect(events).toEqual([
      'subscribed:true:0',
      'publication:1',
      'publication:2',
      'publication:3',
      'subscribed:true:3',
      'recovered:3',
      'publication:4',
      'publication:5',
    ]);
  });

  it('reports a reset with the position it had', () => {
    const { sub, events } = subscription({ epoch: 'old', offset: 8 });
    sub.confirm({ recovered: false, epoch: 'new', offset: 2 }, 'longpoll');
    sub.deliver(publication(3, 'new'));
    expect(events).toEqual(['subscribed:false:2', 'reset:8->2', 'publication:3']);
    expect(sub.position).toEqual({ epoch: 'new', offset: 3 });
  });

  it('says when a publication breaks the order, without delivering it', () => {
    const { sub, events } = subscription({ epoch: 'E', offset: 1 });
    expect(sub.deliver(publication(3))).toBe(false);
    expect(events).toEqual([]);
  });

  it('feeds every async iterator from the moment it starts, and ends them on unsubscribe', async () => {
    const { sub, dropped } = subscription({ epoch: 'E', offset: 0 });
    sub.deliver(publication(1));
    const first = sub[Symbol.asyncIterator]();
    const second = sub[Symbol.asyncIterator]();
    const waiting = first.next();
    sub.deliver(publication(2));
    sub.deliver(publication(3));
    expect((await waiting).value?.offset).toBe(2);
    expect((await first.next()).value?.offset).toBe(3);
    expect((await second.next()).value?.offset).toBe(2);
    sub.unsubscribe();
    expect(await first.next()).toEqual({ value: undefined, done: true });
    expect((await second.next()).value?.offset).toBe(3);
    expect((await second.next()).done).toBe(true);
    expect(dropped).toEqual([sub]);
    expect(sub.active).toBe(false);
  });

  it('throws a refusal once into the iteration, then ends it', async () => {
    const { sub, events } = subscription();
    const iterator = sub[Symbol.asyncIterator]();
    const waiting = iterator.next();
    sub.fail(new HeraldError('forbidden', 'no'));
    await expect(waiting).rejects.toMatchObject({ code: 'forbidden' });
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
    expect(events).toEqual(['error:forbidden']);
    await expect(sub[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('leaves the subscription running when a loop is left early', async () => {
    const { sub } = subscription({ epoch: 'E', offset: 0 });
    const iterator = sub[Symbol.asyncIterator]();
    await iterator.return?.();
    sub.deliver(publication(1));
    expect(sub.active).toBe(true);
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it('keeps delivering to other listeners when one throws', () => {
    const { sub, events } = subscription({ epoch: 'E', offset: 0 });
    const errors: unknown[] = [];
    const original = globalThis.setTimeout;
    // The emitter rethrows a listener's error on a timer, out of the SDK's way: capture it.
    globalThis.setTimeout = ((fn: () => void) => {
      try {
        fn();
      } catch (e) {
        errors.push(e);
      }
      return 0;
    }) as unknown as typeof setTimeout;
    try {
      const off = sub.on('publication', () => {
        throw new Error('app bug');
      });
      sub.deliver(publication(1));
      off();
      sub.deliver(publication(2));
    } finally {
      globalThis.setTimeout = original;
    }
    expect(events).toEqual(['publication:1', 'publication:2']);
    expect(errors).toHaveLength(1);
  });
});
