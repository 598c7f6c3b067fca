// In-memory stand-ins for a socket and for fetch, for the client logic that needs no real server:
// frame handling, request ids, gaps, liveness, token refresh. The real server is exercised by
// test/integration.

import type { WebSocketLike } from '../../src/index.js';

type Handlers = Pick<WebSocketLike, 'onopen' | 'onmessage' | 'onclose' | 'onerror'>;

export class FakeWebSocket implements WebSocketLike {
  static instances: FakeWebSocket[] = [];
  readyState = 0;
  onopen: Handlers['onopen'] = null;
  onmessage: Handlers['onmessage'] = null;
  onclose: Handlers['onclose'] = null;
  onerror: Handlers['onerror'] = null;
  /** Every frame the client sent, as sent. */
  readonly frames: string[] = [];
  closedByClient = false;

  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this);
  }

  static reset(): void {
    FakeWebSocket.instances = [];
  }

  static get last(): FakeWebSocket {
    const socket = FakeWebSocket.instances.at(-1);
    if (socket === undefined) throw new Error('no socket was opened');
    return socket;
  }

  /** Every request the client sent, parsed, in order. */
  get requests(): Record<string, unknown>[] {
    return this.frames.flatMap((f) => f.split('\n')).map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  send(data: string): void {
    this.frames.push(data);
  }

  close(): void {
    this.closedByClient = true;
    this.readyState = 3;
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  /** Delivers one frame of '\n'-joined messages. */
  receive(...messages: object[]): void {
    this.onmessage?.({ data: messages.map((m) => JSON.stringify(m)).join('\n') });
  }

  serverClose(code: number, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /** Answers the latest subscribe to `channel` as the server would. */
  subscribed(channel: string, epoch: string, offset: number, recovered = true): void {
    const request = [...this.requests].reverse().find((r) => r['op'] === 'subscribe' && r['channel'] === channel);
    if (request === undefined) throw new Error(`no subscribe to ${channel}`);
    this.receive({ id: request['id'], type: 'subscribed', channel, recovered, epoch, offset });
  }
}

export function publication(channel: string, offset: number, epoch = 'E', data: unknown = { n: offset }): object {
  return { type: 'publication', channel, offset, epoch, id: `id-${offset}`, time: '2026-01-01T00:00:00.000Z', data };
}

export interface FetchCall {
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

/** A fetch whose answers the test scripts, one function call per request. */
export function scriptedFetch(answer: (call: FetchCall) => Response | Promise<Response>) {
  const calls: FetchCall[] = [];
  const fetchImpl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const call: FetchCall = {
      url: String(input),
      method: init?.method ?? 'GET',
      headers: { ...(init?.headers as Record<string, string> | undefined) },
      body: typeof init?.body === 'string' ? init.body : undefined,
    };
    calls.push(call);
    if (init?.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    return answer(call);
  };
  return { calls, fetch: fetchImpl as typeof fetch };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const type = status >= 400 ? 'application/problem+json' : 'application/json';
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type, ...headers } });
}

/** A response whose body is written by the test, chunk by chunk. */
export function streamed(contentType: string) {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  const encoder = new TextEncoder();
  return {
    response: new Response(body, { status: 200, headers: { 'Content-Type': contentType } }),
    write: (text: string) => controller.enqueue(encoder.encode(text)),
    end: () => controller.close(),
  };
}

export async function settle(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise((r) => setTimeout(r, 0));
}
