// Read markers and unread counts on the wire: the WebSocket `read` op or `PUT …/read` (and the
// `delivered` marker of receipts, the same way), and `GET /v1/me/unread` (docs/protocol.md,
// "Read markers and unread counts").

import { asHeraldError } from './errors.js';
import { sendBody, sendJson, type HttpContext } from './http.js';
import type { MarkReadOptions, MarkReadResult, UnreadReport } from './read-types.js';
import type { WebSocketSession } from './transports/websocket.js';
import { abortable, wholeNumber } from './util.js';
import { invalid, num, toChannelUnread, type JsonObject } from './wire.js';

/** Sets the user's marker: over the open WebSocket, else (or when it closes meanwhile) HTTP. */
export async function markRead(http: HttpContext, socket: WebSocketSession | null, channel: string, options: MarkReadOptions): Promise<MarkReadResult> {
  const { unread, private: hidden } = options;
  return toMarkRead(await putMarker(http, socket, 'read', channel, options, { ...(unread === undefined ? {} : { unread }), ...(hidden === undefined ? {} : { private: hidden }) }));
}

/**
 * Moves a marker of the user's (`read` or `delivered`): the WebSocket op when one is open, else
 * `PUT /v1/channels/{channel}/{op}`. Resolves with the answer's object.
 */
export async function putMarker(
  http: HttpContext,
  socket: WebSocketSession | null,
  op: 'read' | 'delivered',
  channel: string,
  options: { readonly offset?: number; readonly epoch?: string; readonly signal?: AbortSignal },
  extra: object = {},
): Promise<JsonObject> {
  if (options.offset !== undefined) wholeNumber(options.offset, 0, 0, `${op} offset`);
  const body = {
    ...(options.offset === undefined ? {} : { offset: options.offset }),
    ...(options.epoch === undefined ? {} : { epoch: options.epoch }),
    ...extra,
  };
  if (socket !== null) {
    try {
      return await abortable(socket.request({ op, channel, ...body }), options.signal);
    } catch (error) {
      const failure = asHeraldError(error);
      // A marker is idempotent: one that may or may not have landed is simply sent again.
      if (failure.code !== 'disconnected' && failure.code !== 'timeout') throw failure;
    }
  }
  const answer = await sendBody(http, `/v1/channels/${channel}/${op}`, body, { method: 'PUT', signal: options.signal });
  if (answer.body === null) throw invalid(`${op} answered 304`);
  return answer.body;
}

/** `GET /v1/me/unread`: the listed channels, or (absent) every channel of the user's. */
export async function fetchUnread(http: HttpContext, channels: readonly string[] | undefined, signal?: AbortSignal): Promise<UnreadReport> {
  const answer = await sendJson(http, '/v1/me/unread', { query: channels === undefined ? [] : [['channels', channels.join(',')]], signal });
  const body = answer.body;
  if (body === null) throw invalid('unread answered 304');
  const list = body['channels'];
  if (!Array.isArray(list)) throw invalid(`'channels' is not an array`);
  return { channels: list.map(toChannelUnread), total: num(body, 'total'), mentions: num(body, 'mentions') };
}

function toMarkRead(o: JsonObject): MarkReadResult {
  return { changed: o['changed'] === true, state: toChannelUnread(o['state']) };
}
