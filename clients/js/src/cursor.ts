import type { Position } from './types.js';

/**
 * Encodes positions as a Herald cursor token, so that any transport can resume from the positions
 * the SDK tracks, whichever transport delivered them. The format is the server's
 * (src/Herald.Core/Channels/Cursor.cs, version 1): base64url without padding of a version byte 1,
 * then per channel the 32-bit FNV-1a hash of its name (little-endian), the epoch as a length byte
 * plus ASCII, and the offset as unsigned LEB128. The server decodes entries in any order.
 */
export function encodeCursor(positions: Iterable<readonly [string, Position]>): string {
  const bytes: number[] = [1];
  for (const [channel, position] of positions) {
    const hash = fnv1a(channel);
    bytes.push(hash & 0xff, (hash >>> 8) & 0xff, (hash >>> 16) & 0xff, (hash >>> 24) & 0xff);
    bytes.push(position.epoch.length);
    for (let i = 0; i < position.epoch.length; i++) bytes.push(position.epoch.charCodeAt(i) & 0x7f);
    // Division, not shifts: JavaScript shifts are 32-bit and offsets go up to 2^53.
    let offset = position.offset;
    while (offset >= 0x80) {
      bytes.push((offset % 0x80) | 0x80);
      offset = Math.floor(offset / 0x80);
    }
    bytes.push(offset);
  }
  return base64Url(bytes);
}

/** FNV-1a over the UTF-16 code units of the name, as the server hashes a .NET string. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

function base64Url(bytes: readonly number[]): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
