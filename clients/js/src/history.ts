import { asHeraldError } from './errors.js';
import { sendJson, type HttpContext } from './http.js';
import type { WebSocketSession } from './transports/websocket.js';
import type { HistoryOptions, HistoryPage, LatestPage } from './types.js';
import { abortable, wholeNumber } from './util.js';
import { invalid, toHistoryPage } from './wire.js';

/** A window of a channel's history (raw or latest view): over the open WebSocket, else (or when it closes meanwhile) HTTP. */
export async function readHistory<T>(http: HttpContext, socket: WebSocketSession | null, channel: string, options: HistoryOptions): Promise<HistoryPage<T> | LatestPage<T>> {
  const latest = options.view === 'latest';
  if (options.after !== undefined) wholeNumber(options.after, 0, 0, 'history after');
  if (options.limit !== undefined) wholeNumber(options.limit, 100, 1, 'history limit');
  if (socket !== null) {
    try {
      const reply = await abortable(
        socket.request({
          op: 'history',
          channel,
          ...(options.after === undefined ? {} : { after: options.after }),
          ...(options.limit === undefined ? {} : { limit: options.limit }),
          ...(options.reverse === undefined ? {} : { reverse: options.reverse }),
          ...(options.view === undefined ? {} : { view: options.view }),
        }),
        options.signal,
      );
      return toHistoryPage<T>(reply, latest);
    } catch (error) {
      const failure = asHeraldError(error);
      if (failure.code !== 'disconnected' && failure.code !== 'timeout') throw failure;
    }
  }
  const query: [string, string][] = [];
  if (options.after !== undefined) query.push(['after', String(options.after)]);
  if (options.limit !== undefined) query.push(['limit', String(options.limit)]);
  if (options.reverse !== undefined) query.push(['reverse', String(options.reverse)]);
  if (options.view !== undefined) query.push(['view', options.view]);
  const answer = await sendJson(http, `/v1/channels/${channel}/messages`, { query, signal: options.signal });
  if (answer.body === null) throw invalid('history answered 304');
  return toHistoryPage<T>(answer.body, latest);
}
