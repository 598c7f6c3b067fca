import { HeraldError } from '../errors.js';
import { encodeCursor } from '../cursor.js';
import { CHANNEL_EVENTS, isObject, str, toPublication, toSubscribeReply, toTimings, type JsonObject } from '../wire.js';
import type { Position } from '../types.js';
import type { WebSocketLike } from '../types.js';
import { SessionBase, Watchdog, type ChannelSource, type TransportSettings, type TransportSink } from './transport.js';

type Pending = {
  readonly resolve: (reply: JsonObject) => void;
  readonly reject: (error: HeraldError) => void;
  readonly timer: ReturnType<typeof setTimeout>;
};

/** `carried`'s mark of a channel the server subscribed on its own (request ids start at 1). */
const BY_SERVER = 0;

/** A request of the WebSocket protocol, without its `id`. */
export type WebSocketRequest = { readonly op: string } & JsonObject;

/**
 * `GET /v1/ws`: one socket for every channel, publish and history (docs/protocol.md#websocket).
 * Subscribes and unsubscribes follow the client's channel set as ops on the open socket; requests
 * queued in the same tick go out in one frame, '\n'-joined.
 */
export class WebSocketSession extends SessionBase {
  readonly name = 'ws';
  readonly incremental = true;
  private readonly socket: WebSocketLike | undefined;
  private readonly watchdog: Watchdog;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Channels subscribed or being subscribed on this socket, and the subscribe request's id. */
  private readonly carried = new Map<string, number>();
  private readonly subscribeIds = new Map<number, string>();
  private outbox: string[] = [];
  private flushQueued = false;

  constructor(
    sink: TransportSink,
    settings: TransportSettings,
    private readonly source: ChannelSource,
    token: string | undefined,
  ) {
    super(sink, settings);
    this.watchdog = new Watchdog(settings.livenessTimeoutMs, () => this.fail({ reason: 'no heartbeat from the server' }));
    // Browsers cannot set headers on a WebSocket: the token goes in the query (docs/protocol.md).
    // The cursor: where the channels the server subscribes at connect (a personal channel) resume.
    const params: string[] = [];
    if (token !== undefined) params.push(`token=${encodeURIComponent(token)}`);
    const known: (readonly [string, Position])[] = [];
    for (const channel of source.channels()) {
      const position = source.byServer?.(channel) === true ? source.position(channel) : null;
      if (position !== null) known.push([channel, position]);
    }
    if (known.length > 0) params.push(`cursor=${encodeCursor(known)}`);
    const query = params.length === 0 ? '' : `?${params.join('&')}`;
    try {
      if (settings.WebSocket === undefined) throw new Error('no WebSocket implementation (options.WebSocket)');
      this.socket = new settings.WebSocket(`${settings.wsBaseUrl}/v1/ws${query}`);
    } catch (error) {
      // Reported after the constructor returns, like every other outcome.
      queueMicrotask(() => this.fail({ reason: `failed to open (${error instanceof Error ? error.message : String(error)})` }));
      return;
    }
    const socket = this.socket;
    socket.onopen = () => {
      this.watchdog.kick();
      this.opened();
      this.update();
    };
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = (event) => {
      const reason = event.reason ? `${event.code} ${event.reason}` : `${event.code}`;
      this.fail({ reason: this.isOpen ? `server closed (${reason})` : `failed to open (${reason})`, code: event.code });
    };
    // 'error' carries no detail in browsers; the 'close' that follows reports it.
    socket.onerror = () => undefined;
  }

  /** Brings the socket's subscriptions in line with the client's channel set. */
  update(): void {
    if (this.ended || !this.isOpen) return;
    const summaries = new Set(this.source.summaries?.() ?? []);
    const wanted = new Set([...this.source.channels(), ...summaries]);
    for (const channel of [...this.carried.keys()]) {
      if (wanted.has(channel)) continue;
      this.carried.delete(channel);
      this.request({ op: 'unsubscribe', channel }).catch(() => undefined);
    }
    for (const channel of wanted) {
      if (this.carried.has(channel)) continue;
      if (summaries.has(channel)) {
        // The newest state only: no position to resume (the reply has the current one), no presence.
        this.track(channel, this.enqueue({ op: 'subscribe', channel, mode: 'summary' }));
        continue;
      }
      const since = this.source.position(channel);
      const presence = this.source.presence(channel);
      const id = this.enqueue({
        op: 'subscribe',
        channel,
        ...(since === null ? {} : { since: { epoch: since.epoch, offset: since.offset } }),
        ...(presence === null ? {} : { presence: presence.mode }),
        ...(presence?.mode === 'list' && presence.since !== null ? { presenceSince: presence.since } : {}),
        ...(this.source.receipts?.(channel) === true ? { receipts: true } : {}),
      });
      this.track(channel, id);
    }
  }

  private track(channel: string, id: number): void {
    this.carried.set(channel, id);
    this.subscribeIds.set(id, channel);
  }

  /** Sends a request and resolves with its reply (rejects with the server's error, a timeout or `disconnected`). */
  request(message: WebSocketRequest, timeoutMs = this.settings.http.requestTimeoutMs): Promise<JsonObject> {
    if (this.ended || !this.isOpen) return Promise.reject(new HeraldError('disconnected', 'The WebSocket is not open.'));
    return new Promise<JsonObject>((resolve, reject) => {
      const id = this.enqueue(message);
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new HeraldError('timeout', `No reply to '${message.op}' within ${timeoutMs} ms.`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
  }

  get canSend(): boolean {
    return this.isOpen && !this.ended;
  }

  protected release(): void {
    this.watchdog.stop();
    for (const [, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new HeraldError('disconnected', 'The WebSocket closed before the reply.'));
    }
    this.pending.clear();
    const socket = this.socket;
    if (socket === undefined) return;
    socket.onopen = socket.onmessage = socket.onclose = null;
    // A socket closed before it opened still reports an error; keep a handler so nothing is unhandled.
    socket.onerror = () => undefined;
    try {
      socket.close(1000);
    } catch {
      // Closing a socket that never connected may throw in some implementations: it is gone either way.
    }
  }

  private enqueue(message: WebSocketRequest): number {
    const id = this.nextId++;
    this.outbox.push(JSON.stringify({ id, ...message }));
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
    return id;
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.ended || this.outbox.length === 0) return;
    const frame = this.outbox.join('\n');
    this.outbox = [];
    try {
      this.socket?.send(frame);
    } catch (error) {
      this.fail({ reason: `send failed: ${error instanceof Error ? error.message : String(error)}` });
    }
  }

  private receive(data: unknown): void {
    this.watchdog.kick();
    const text = typeof data === 'string' ? data : String(data);
    for (const line of text.split('\n')) {
      if (this.ended) return;
      if (line.trim() === '') continue;
      let message: JsonObject;
      try {
        const value: unknown = JSON.parse(line);
        if (!isObject(value)) throw new Error('not an object');
        message = value;
        this.dispatch(message);
      } catch (error) {
        this.fail({ reason: `unreadable message: ${error instanceof Error ? error.message : String(error)}` });
        return;
      }
    }
  }

  /**
   * What the server sends without being asked: `subscribed` for a channel it subscribed at connect
   * (a personal channel) — answers to our own subscribe of it are stale from then on — and
   * `unsubscribed` when its server API took the connection off a channel.
   */
  private serverSide(type: unknown, message: JsonObject): void {
    if (type === 'subscribed') {
      const channel = str(message, 'channel');
      this.carried.set(channel, BY_SERVER);
      this.sink.subscribed(channel, toSubscribeReply(message), true);
      // A channel the client does not want (it unsubscribed it earlier) is left again.
      this.update();
    } else if (type === 'unsubscribed') {
      const channel = str(message, 'channel');
      this.carried.delete(channel);
      this.sink.unsubscribed(channel, typeof message['reason'] === 'string' ? message['reason'] : 'server unsubscribe');
    }
  }

  private dispatch(message: JsonObject): void {
    const type = message['type'];
    if (type === 'publication') {
      const publication = toPublication(message);
      if (this.carried.has(publication.channel)) this.sink.publication(publication);
      return;
    }
    if (CHANNEL_EVENTS.includes(type as string)) {
      if (this.carried.has(str(message, 'channel'))) this.sink.event(message);
      return;
    }
    if (type === 'ping') {
      this.socket?.send('{"op":"pong"}');
      return;
    }
    const id = typeof message['id'] === 'number' ? message['id'] : undefined;
    if (id === undefined) {
      this.serverSide(type, message);
      return;
    }
    const channel = this.subscribeIds.get(id);
    if (channel !== undefined) {
      this.subscribeIds.delete(id);
      // An answer to a subscribe the client has dropped since (or sent again) is stale.
      if (this.carried.get(channel) !== id) return;
      if (type === 'subscribed') {
        const typing = message['typing'];
        this.sink.subscribed(channel, { ...toSubscribeReply(message), ...(isObject(typing) ? { typing: toTimings(typing) } : {}) });
      } else if (type === 'error') {
        this.carried.delete(channel);
        this.sink.channelError(channel, replyError(message));
      }
      return;
    }
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    if (type === 'error') pending.reject(replyError(message));
    else pending.resolve(message);
  }
}

function replyError(message: JsonObject): HeraldError {
  return new HeraldError(str(message, 'code'), typeof message['message'] === 'string' ? message['message'] : 'The server refused the request.');
}
