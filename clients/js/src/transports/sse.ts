import { url } from '../http.js';
import { CHANNEL_EVENTS, parseJson } from '../wire.js';
import type { EventSourceLike } from '../types.js';
import { channelQuery, dispatchPush, FetchLineSession } from './push.js';
import { SessionBase, type ChannelSource, type TransportSettings, type TransportSink } from './transport.js';

/**
 * `GET /v1/sse` read with the platform's EventSource. The browser's own reconnect is not used:
 * the first error closes the EventSource, and the client reconnects with its backoff, its
 * fallback order and the cursor of what the application has actually seen.
 *
 * EventSource hides comment lines, so the server's heartbeat is invisible here and there is no
 * liveness timeout; the browser notices a dead connection on its own.
 */
export class EventSourceSession extends SessionBase {
  readonly name = 'sse';
  readonly incremental = false;
  private readonly source: EventSourceLike | undefined;

  constructor(sink: TransportSink, settings: TransportSettings, channels: ChannelSource, token: string | undefined) {
    super(sink, settings);
    const query = [...channelQuery(channels)];
    // EventSource cannot send headers: the token goes in the query (docs/protocol.md).
    if (token !== undefined) query.push(['token', token]);
    try {
      if (settings.EventSource === undefined) throw new Error('no EventSource implementation');
      this.source = new settings.EventSource(url(settings.http.baseUrl, '/v1/sse', query));
    } catch (error) {
      queueMicrotask(() => this.fail({ reason: `failed to open (${error instanceof Error ? error.message : String(error)})` }));
      return;
    }
    const source = this.source;
    source.onopen = () => this.opened();
    source.onerror = () => this.fail({ reason: this.isOpen ? 'connection lost' : 'failed to open' });
    for (const type of ['subscribed', 'publication', 'unsubscribed', 'disconnect', ...CHANNEL_EVENTS]) {
      source.addEventListener(type, (event) => this.event(type, event.data));
    }
  }

  update(): void {
    // Not incremental: the client reconnects with the new channel set.
  }

  protected release(): void {
    if (this.source === undefined) return;
    this.source.onopen = this.source.onerror = null;
    this.source.close();
  }

  private event(type: string, data: string): void {
    if (this.ended) return;
    try {
      const close = dispatchPush(this.sink, type, parseJson(data));
      if (close !== undefined) this.fail(close);
    } catch (error) {
      this.fail({ reason: `unreadable event: ${error instanceof Error ? error.message : String(error)}` });
    }
  }
}

/**
 * `GET /v1/sse` read with fetch, for runtimes without EventSource (Node 20): the
 * text/event-stream format parsed line by line — `event:`, `data:` and `id:` fields, an event
 * dispatched at each blank line, comments (the heartbeat) kept only as signs of life.
 */
export class FetchSseSession extends FetchLineSession {
  readonly name = 'sse';
  private eventType = '';
  private data: string[] = [];

  constructor(sink: TransportSink, settings: TransportSettings, source: ChannelSource) {
    super(sink, settings, source, '/v1/sse', 'text/event-stream');
  }

  protected line(line: string): void {
    if (line === '') {
      const type = this.eventType || 'message';
      const data = this.data.join('\n');
      this.eventType = '';
      this.data = [];
      if (data === '' && type === 'message') return;
      const close = dispatchPush(this.sink, type, parseJson(data));
      if (close !== undefined) this.fail(close);
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.eventType = value;
    else if (field === 'data') this.data.push(value);
    // 'id' (the cursor) and 'retry' are not needed: the client tracks positions itself.
  }
}
