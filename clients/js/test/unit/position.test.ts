import { describe, expect, it } from 'vitest';
import { ChannelPosition } from '../../src/position.js';

describe('ChannelPosition', () => {
  it('starts live at the reply position when it had none', () => {
    const p = new ChannelPosition();
    expect(p.confirm({ recovered: true, epoch: 'E', offset: 57 })).toEqual({ outcome: 'live', previous: null });
    expect(p.position).toEqual({ epoch: 'E', offset: 57 });
  });

  it('keeps its own position on a recovered resume, so the replay after it is delivered', () => {
    const p = new ChannelPosition({ epoch: 'E', offset: 41 });
    // On WebSocket the reply names the channel's top, not the resume position.
    expect(p.confirm({ recovered: true, epoch: 'E', offset: 57 }).outcome).toBe('recovered');
    expect(p.accept(42, 'E')).toBe('deliver');
    expect(p.position).toEqual({ epoch: 'E', offset: 42 });
  });

  it('jumps to the reply position on a reset and remembers the previous one', () => {
    const p = new ChannelPosition({ epoch: 'old', offset: 9 });
    expect(p.confirm({ recovered: false, epoch: 'new', offset: 3 })).toEqual({ outcome: 'reset', previous: { epoch: 'old', offset: 9 } });
    expect(p.accept(4, 'new')).toBe('deliver');
  });

  it('drops what it has delivered already', () => {
    const p = new ChannelPosition({ epoch: 'E', offset: 5 });
    expect(p.accept(5, 'E')).toBe('duplicate');
    expect(p.accept(3, 'E')).toBe('duplicate');
    expect(p.accept(6, 'E')).toBe('deliver');
    expect(p.accept(6, 'E')).toBe('duplicate');
    expect(p.position).toEqual({ epoch: 'E', offset: 6 });
  });

  it('refuses a skipped offset without moving', () => {
    const p = new ChannelPosition({ epoch: 'E', offset: 5 });
    expect(p.accept(7, 'E')).toBe('gap');
    expect(p.position).toEqual({ epoch: 'E', offset: 5 });
  });

  it('refuses a change of epoch that no reset announced', () => {
    const p = new ChannelPosition({ epoch: 'E', offset: 5 });
    expect(p.accept(6, 'F')).toBe('gap');
    expect(p.accept(1, 'F')).toBe('gap');
  });

  it('takes the first epoch of a channel that was empty (offset 0 of any epoch)', () => {
    const p = new ChannelPosition();
    p.confirm({ recovered: true, epoch: '', offset: 0 });
    expect(p.accept(2, 'E')).toBe('gap');
    expect(p.accept(1, 'E')).toBe('deliver');
    expect(p.position).toEqual({ epoch: 'E', offset: 1 });
  });
});
