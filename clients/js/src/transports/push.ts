import { HeraldError } from '../errors.js';
import { send, type Query } from '../http.js';
import { encodeCursor } from '../cursor.js';
import type { Position, TransportName } from '../types.js';
import { CHANNEL_EVENTS, str, toChannelReplies, toPublication, type JsonObject } from '../wire.js';
import { SessionBase, Watchdog, type ChannelSource, type CloseInfo, type TransportSettings, type TransportSink } from './transport.js';

const MODES = ['off', 'enter', 'count', 'list'] as const;

/**
 * The query of an SSE, streaming or poll request: every channel, a cursor holding the positions
 * the client knows (a channel without one starts live), and presence. The server takes one
 * presence mode for all the channels of a request: the highest any of them asks for. `receipts`
 * too is for every channel of a push request, asked when one of them wants it (a poll takes none:
 * the client reads them).
 */
export function channelQuery(source: ChannelSource, push = true): Query {
  const channels = source.channels();
  const query: (readonly [string, string])[] = channels.map((c) => ['channel', c] as const);
  const known: (readonly [string, Position])[] = [];
  const resume: (readonly [string, string])[] = [];
  let mode = -1;
  let receipts = false;
  for (const channel of channels) {
    receipts ||= push && source.receipts?.(channel) === true;
    const position = source.position(channel);
    if (position !== null) known.push([channel, position]);
    const presence = source.presence(channel);
    if (presence === null) continue;
    mode = Math.max(mode, MODES.indexOf(presence.mode));
    if (presence.since !== null) resume.push(['presenceSince', `${presence.since.epoch}.${presence.since.seq}.${channel}`]);
  }
  if (known.length > 0) query.push(['cursor', encodeCursor(known)]);
  if (mode >= 0) query.push(['presence', MODES[mode] as string], ...(mode === 3 ? resume : []));
  if (receipts) query.push(['receipts', 'true']);
  return query;
}

/**
 * Hands a `subscribed`, `publication`, `unsubscribed`, presence, typing, signal, receipts or `disconnect` message to the
 * sink, the same for SSE and NDJSON. Returns the close to report for a `disconnect`, else undefined.
 */
export function dispatchPush(sink: TransportSink, type: string, message: JsonObject): CloseInfo | undefined {
  if (type === 'publication') {
    sink.publication(toPublication(message));
  } else if (type === 'subscribed') {
    for (const [channel, reply] of toChannelReplies(message)) sink.subscribed(channel, reply);
  } else if (type === 'unsubscribed') {
    sink.unsubscribed(str(message, 'channel'), typeof message['reason'] === 'string' ? message['reason'] : 'server unsubscribe');
  } else if (CHANNEL_EVENTS.includes(type)) {
    sink.event(message);
  } else if (type === 'disconnect') {
    const code = typeof message['code'] === 'number' ? message['code'] : undefined;
    const reason = typeof message['reason'] === 'string' ? message['reason'] : 'disconnect';
    return {
      reason: `server closed (${code ?? ''} ${reason})`.replace('( ', '('),
      ...(code === undefined ? {} : { code }),
      ...(message['reconnect'] === false ? { final: true } : {}),
    };
  }
  return undefined;
}

/**
 * A push session over one fetch response read line by line (NDJSON streaming, and SSE where no
 * EventSource exists): opens when the headers say 200, stays alive while lines arrive, ends when
 * the response does.
 */
export abstract class FetchLineSession extends SessionBase {
  abstract override readonly name: TransportName;
  readonly incremental = false;
  private readonly controller = new AbortController();
  protected readonly watchdog: Watchdog;

  constructor(
    sink: TransportSink,
    settings: TransportSettings,
    source: ChannelSource,
    path: string,
    accept: string,
  ) {
    super(sink, settings);
    this.watchdog = new Watchdog(settings.livenessTimeoutMs, () => this.fail({ reason: 'no heartbeat from the server' }));
    void this.run(path, channelQuery(source), accept);
  }

  update(): void {
    // Not incremental: the client reconnects with the new channel set.
  }

  /** Handles one line (without its line break). */
  protected abstract line(line: string): void;

  protected release(): void {
    this.watchdog.stop();
    this.controller.abort();
  }

  private async run(path: string, query: Query, accept: string): Promise<void> {
    let response: Response;
    try {
      response = await send(this.settings.http, path, {
        query,
        headers: { Accept: accept },
        signal: this.controller.signal,
        timeoutMs: this.settings.openTimeoutMs,
      });
    } catch (error) {
      const failure = error instanceof HeraldError ? error : new HeraldError('network', String(error));
      this.fail({ reason: `failed to open (${failure.message})`, error: failure });
      return;
    }
    if (response.body === null) {
      this.fail({ reason: 'failed to open (no body)' });
      return;
    }
    this.watchdog.kick();
    this.opened();
    try {
      await readLines(response.body, (line) => {
        this.watchdog.kick();
        if (!this.ended) this.line(line);
        return !this.ended;
      });
      this.fail({ reason: 'the server ended the response' });
    } catch (error) {
      this.fail({ reason: `connection lost (${error instanceof Error ? error.message : String(error)})` });
    }
  }
}

/**
 * Reads a byte stream as UTF-8 lines ('\n', '\r\n' or '\r' end a line, as text/event-stream
 * allows), calling `onLine` for each until it returns false or the stream ends.
 */
export async function readLines(body: ReadableStream<Uint8Array>, onLine: (line: string) => boolean): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  // A '\r' at the end of a chunk may be the first half of '\r\n': the '\n' must not end another line.
  let skipLf = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer.charCodeAt(i);
        if (c === 10 && skipLf && i === start) {
          skipLf = false;
          start = i + 1;
          continue;
        }
        skipLf = false;
        if (c !== 10 && c !== 13) continue;
        if (!onLine(buffer.slice(start, i))) return;
        if (c === 13) {
          if (i + 1 < buffer.length) {
            if (buffer.charCodeAt(i + 1) === 10) i++;
          } else {
            skipLf = true;
          }
        }
        start = i + 1;
      }
      buffer = buffer.slice(start);
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}
