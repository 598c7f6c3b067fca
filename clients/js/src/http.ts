import { HeraldError } from './errors.js';
import { isObject, parseJson, type JsonObject } from './wire.js';
import type { TokenSource } from './types.js';

/**
 * The client's credential. A string is used as is; a function is called for the first request,
 * on every new connection, and again after a 401 or 403 (an expired token), so it can refresh.
 */
export class TokenProvider {
  private cached: Promise<string | undefined> | undefined;
  private last: string | undefined;

  constructor(private readonly source: TokenSource | undefined) {}

  current(): Promise<string | undefined> {
    this.cached ??= this.load();
    return this.cached;
  }

  refresh(): Promise<string | undefined> {
    this.cached = this.load();
    return this.cached;
  }

  get refreshable(): boolean {
    return typeof this.source === 'function';
  }

  /** The `sub` of the token last loaded when it is a JWT — read, not verified: only to tell the user's own publications. */
  get subject(): string | undefined {
    try {
      const payload = atob((this.last ?? '').split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'));
      const sub: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(payload, (c) => c.charCodeAt(0))))['sub'];
      return typeof sub === 'string' ? sub : undefined;
    } catch {
      return undefined;
    }
  }

  private async load(): Promise<string | undefined> {
    const source = this.source;
    if (source === undefined || typeof source === 'string') return (this.last = source || undefined);
    try {
      return (this.last = (await source()) || undefined);
    } catch (error) {
      this.cached = undefined;
      throw new HeraldError('token', `The token function failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

export interface HttpContext {
  /** Absolute base URL without a trailing slash, e.g. `http://localhost:8080`. */
  readonly baseUrl: string;
  readonly fetch: typeof fetch;
  readonly token: TokenProvider;
  readonly requestTimeoutMs: number;
}

export type Query = readonly (readonly [string, string])[];

export function url(base: string, path: string, query: Query = []): string {
  if (query.length === 0) return base + path;
  return base + path + '?' + query.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
}

export interface RequestOptions {
  readonly method?: string;
  readonly query?: Query;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal | undefined;
  /** 0: no timeout of our own (the caller's signal ends it). */
  readonly timeoutMs?: number;
}

/**
 * One HTTP request with the token, a timeout and problem documents turned into HeraldErrors.
 * A 401/403 with a token function refreshes the token and tries once more. Resolves with the
 * response (status 2xx or 304) once its headers arrive; the timeout then stops, and reading the
 * body is bounded by the caller's signal (a push stream is meant to stay open).
 */
export async function send(ctx: HttpContext, path: string, options: RequestOptions = {}): Promise<Response> {
  const { response, deadline } = await sendWithDeadline(ctx, path, options);
  // Only the timer: the caller's signal must still cancel the body.
  deadline.stopTimer();
  return response;
}

/** A request whose JSON object answer is read within the same timeout. */
export async function sendJson(ctx: HttpContext, path: string, options: RequestOptions = {}): Promise<{ status: number; headers: Headers; body: JsonObject | null }> {
  const { response, deadline } = await sendWithDeadline(ctx, path, options);
  try {
    if (response.status === 304) return { status: 304, headers: response.headers, body: null };
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw deadline.failure(error);
    }
    return { status: response.status, headers: response.headers, body: parseJson(text) };
  } finally {
    deadline.dispose();
  }
}

/** A JSON body sent with `method` (POST by default), its JSON object answer read as by {@link sendJson}. */
export function sendBody(
  ctx: HttpContext,
  path: string,
  body: unknown,
  options: { method?: string; headers?: Readonly<Record<string, string>>; signal?: AbortSignal | undefined; rawBody?: string } = {},
): ReturnType<typeof sendJson> {
  return sendJson(ctx, path, {
    method: options.method ?? 'POST',
    body: options.rawBody ?? JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', ...options.headers },
    signal: options.signal,
  });
}

async function sendWithDeadline(ctx: HttpContext, path: string, options: RequestOptions) {
  let refreshed = false;
  for (;;) {
    const token = await ctx.token.current();
    const headers: Record<string, string> = { ...options.headers };
    if (token !== undefined) headers['Authorization'] = `Bearer ${token}`;
    const deadline = linkSignal(options.signal, options.timeoutMs ?? ctx.requestTimeoutMs);
    let response: Response;
    try {
      response = await ctx.fetch(url(ctx.baseUrl, path, options.query), {
        method: options.method ?? 'GET',
        headers,
        ...(options.body === undefined ? {} : { body: options.body }),
        signal: deadline.signal,
        cache: 'no-store',
      });
    } catch (error) {
      deadline.dispose();
      throw deadline.failure(error);
    }
    if (response.ok || response.status === 304) return { response, deadline };
    try {
      if ((response.status === 401 || response.status === 403) && ctx.token.refreshable && !refreshed) {
        refreshed = true;
        await response.body?.cancel();
        await ctx.token.refresh();
        continue;
      }
      throw await problem(response);
    } finally {
      deadline.dispose();
    }
  }
}

/** The problem document of an error answer (docs/protocol.md#errors) as a HeraldError. */
export async function problem(response: Response): Promise<HeraldError> {
  let text = '';
  try {
    text = await response.text();
  } catch {
    // The status alone still says what happened.
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const code = isObject(body) && typeof body['code'] === 'string' ? body['code'] : `http_${response.status}`;
  const detail = isObject(body) && typeof body['detail'] === 'string' ? body['detail'] : text.slice(0, 200) || response.statusText;
  return new HeraldError(code, `${response.status}: ${detail}`, response.status);
}

/** An AbortSignal that fires on the caller's signal or after `timeoutMs`, and says which. */
export function linkSignal(outer: AbortSignal | undefined, timeoutMs: number) {
  const controller = new AbortController();
  let timedOut = false;
  const onAbort = () => controller.abort();
  if (outer?.aborted) controller.abort();
  else outer?.addEventListener('abort', onAbort);
  const timer =
    timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, timeoutMs)
      : undefined;
  const stopTimer = () => {
    if (timer !== undefined) clearTimeout(timer);
  };
  return {
    signal: controller.signal,
    stopTimer,
    /** Stops the timer and forgets the caller's signal: the request is over. */
    dispose() {
      stopTimer();
      outer?.removeEventListener('abort', onAbort);
    },
    /** The HeraldError for a fetch that threw. */
    failure(error: unknown): HeraldError {
      if (error instanceof HeraldError) return error;
      if (timedOut) return new HeraldError('timeout', `No answer within ${timeoutMs} ms.`);
      if (outer?.aborted) return new HeraldError('aborted', 'The request was aborted.');
      return new HeraldError('network', `Network error: ${error instanceof Error ? error.message : String(error)}`);
    },
  };
}
