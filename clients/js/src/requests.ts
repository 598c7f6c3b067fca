// One-shot requests of the client that go over the open WebSocket when there is one, else HTTP:
// a publish attempt, a signal, typing, and the direct channel's name (HTTP only).

import { sendBody, type HttpContext } from './http.js';
import type { WebSocketSession } from './transports/websocket.js';
import type { DirectChannel, PublishResult, TypingTimings } from './types.js';
import { abortable, utf8Length } from './util.js';
import { invalid, str, toPublishResult, toTimings } from './wire.js';

/**
 * One attempt of a publish whose `body` (`{data, type?, mentions?}` as JSON) is already encoded.
 * The server closes a socket (1009) on a message over its cap: a big one goes over HTTP.
 */
export async function publishOnce(
  http: HttpContext,
  socket: WebSocketSession | null,
  maxWebSocketMessageBytes: number,
  message: { channel: string; data: unknown; body: string; extra: object; key: string },
  signal: AbortSignal | undefined,
): Promise<PublishResult> {
  const { channel, data, body, extra, key } = message;
  if (socket !== null && utf8Length(body) + channel.length + key.length + 96 <= maxWebSocketMessageBytes) {
    const reply = await abortable(socket.request({ op: 'publish', channel, data, idempotencyKey: key, ...extra }), signal);
    return toPublishResult(reply, false);
  }
  const answer = await sendBody(http, `/v1/channels/${channel}/messages`, undefined, { rawBody: body, headers: { 'Idempotency-Key': key }, signal });
  if (answer.body === null) throw invalid('publish answered 304');
  return toPublishResult(answer.body, answer.headers.get('Idempotent-Replayed') === 'true');
}

/** A signal to the channel's current subscribers (`signal` op, else `POST …/signals`). */
export async function sendSignal(http: HttpContext, socket: WebSocketSession | null, channel: string, name: string, data: unknown, signal: AbortSignal | undefined): Promise<void> {
  const body = { name, ...(data === undefined ? {} : { data }) };
  if (socket !== null) {
    await abortable(socket.request({ op: 'signal', channel, ...body }), signal);
    return;
  }
  await sendBody(http, `/v1/channels/${channel}/signals`, body, { signal });
}

/** Typing on or off (`typing` / `typing_stop` ops, else `POST …/typing`, whose answer carries the timings). */
export async function sendTyping(http: HttpContext, socket: WebSocketSession | null, channel: string, typing: boolean): Promise<TypingTimings | undefined> {
  if (socket !== null) {
    await socket.request({ op: typing ? 'typing' : 'typing_stop', channel });
    return undefined;
  }
  const answer = await sendBody(http, `/v1/channels/${channel}/typing`, { typing });
  return answer.body === null ? undefined : toTimings(answer.body);
}

/** `POST /v1/direct`: the direct channel of a set of users. */
export async function requestDirect(http: HttpContext, members: readonly string[], options: { namespace?: string; signal?: AbortSignal }): Promise<DirectChannel> {
  const answer = await sendBody(http, '/v1/direct', { members, ...(options.namespace === undefined ? {} : { namespace: options.namespace }) }, { signal: options.signal });
  const body = answer.body ?? {};
  return { channel: str(body, 'channel'), members: (body['members'] as string[] | undefined) ?? [], hashed: body['hashed'] === true };
}
