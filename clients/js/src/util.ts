// Small helpers of the client: option checks, the server's base URLs, idempotency keys, waits.

import { HeraldError } from './errors.js';
import type { Position } from './types.js';

/** The HTTP and WebSocket base URLs of the server (a page's relative URL resolves against it). */
export function resolveBase(url: string): { http: string; ws: string } {
  const location = (globalThis as { location?: { href: string } }).location;
  let parsed: URL;
  try {
    parsed = new URL(url, location?.href);
  } catch {
    throw new HeraldError('bad_request', `'${url}' is not a URL.`);
  }
  const scheme = parsed.protocol.replace(':', '');
  const secure = scheme === 'https' || scheme === 'wss';
  if (!['http', 'https', 'ws', 'wss'].includes(scheme)) throw new HeraldError('bad_request', `'${url}' is not an http(s) or ws(s) URL.`);
  const rest = parsed.host + parsed.pathname.replace(/\/+$/, '');
  return { http: `${secure ? 'https' : 'http'}://${rest}`, ws: `${secure ? 'wss' : 'ws'}://${rest}` };
}

export function checkPosition(position: Position): Position {
  if (typeof position !== 'object' || position === null || typeof position.epoch !== 'string') {
    throw new HeraldError('bad_request', "'since' must be { epoch: string, offset: number }.");
  }
  wholeNumber(position.offset, 0, 0, 'since.offset');
  return { epoch: position.epoch, offset: position.offset };
}

export function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number.`);
  return value;
}

export function wholeNumber(value: number | undefined, fallback: number, min: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be a whole number of at least ${min}.`);
  return value;
}

/** 128 random bits as 32 hex digits: what the SDK sends when the caller gives no idempotency key. */
export function newIdempotencyKey(): string {
  const bytes = new Uint8Array(16);
  const crypto = (globalThis as { crypto?: { getRandomValues(array: Uint8Array): Uint8Array } }).crypto;
  if (crypto !== undefined) crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return 'hc-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function utf8Length(text: string): number {
  // Exact only when needed: ASCII text (the usual chat line) is its own length.
  return /^[\x00-\x7f]*$/.test(text) ? text.length : new TextEncoder().encode(text).length;
}

export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return abortable(new Promise<void>((resolve) => setTimeout(resolve, ms)), signal);
}

export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(new HeraldError('aborted', 'The request was aborted.'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new HeraldError('aborted', 'The request was aborted.'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
