import { describe, expect, it } from 'vitest';
import { encodeCursor, fnv1a } from '../../src/cursor.js';

function decode(token: string): number[] {
  const binary = atob(token.replace(/-/g, '+').replace(/_/g, '/'));
  return Array.from(binary, (c) => c.charCodeAt(0));
}

describe('encodeCursor', () => {
  it('hashes names with 32-bit FNV-1a (the published test vectors)', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
  });

  it('writes version 1, then hash, epoch and LEB128 offset per channel, as base64url without padding', () => {
    const token = encodeCursor([['a', { epoch: 'ab', offset: 300 }]]);
    expect(token).not.toMatch(/[+/=]/);
    expect(decode(token)).toEqual([1, 0x2c, 0x29, 0x0c, 0xe4, 2, 0x61, 0x62, 0xac, 0x02]);
  });

  it('keeps offsets beyond 32 bits exact', () => {
    const bytes = decode(encodeCursor([['a', { epoch: '', offset: 2 ** 40 + 5 }]]));
    let offset = 0;
    let scale = 1;
    for (const b of bytes.slice(6)) {
      offset += (b & 0x7f) * scale;
      scale *= 128;
    }
    expect(offset).toBe(2 ** 40 + 5);
  });

  it('puts each channel in order, and nothing but the version for none', () => {
    expect(decode(encodeCursor([]))).toEqual([1]);
    const two = decode(encodeCursor([['chat:a', { epoch: 'x', offset: 1 }], ['chat:b', { epoch: 'y', offset: 2 }]]));
    expect(two).toHaveLength(1 + 2 * (4 + 1 + 1 + 1));
  });
});
