import { parseJson } from '../wire.js';
import { dispatchPush, FetchLineSession } from './push.js';
import type { ChannelSource, TransportSettings, TransportSink } from './transport.js';

/**
 * `GET /v1/stream`: HTTP streaming of NDJSON, one JSON object per line — `subscribed` per
 * channel, then publications (each with the connection's cursor), `heartbeat`s and a final
 * `disconnect` (docs/protocol.md).
 */
export class StreamSession extends FetchLineSession {
  readonly name = 'stream';

  constructor(sink: TransportSink, settings: TransportSettings, source: ChannelSource) {
    super(sink, settings, source, '/v1/stream', 'application/x-ndjson');
  }

  protected line(line: string): void {
    if (line === '') return;
    const message = parseJson(line);
    const type = typeof message['type'] === 'string' ? message['type'] : '';
    const close = dispatchPush(this.sink, type, message);
    if (close !== undefined) this.fail(close);
  }
}
