import { HeraldError } from '../errors.js';
import { sendJson } from '../http.js';
import { pollPresence } from '../presence.js';
import { isObject, toChannelReplies, toPublication, type JsonObject } from '../wire.js';
import { channelQuery } from './push.js';
import { SessionBase, type ChannelSource, type TransportSettings, type TransportSink } from './transport.js';

/** The server's `Retry-After` for `too_many_polls` (PollLimiter.RetryAfterSeconds). */
const TOO_MANY_POLLS_PAUSE_MS = 5_000;

/**
 * `GET /v1/poll`: long polling (`wait` > 0) or short polling (`wait=0`, every `pollIntervalMs`),
 * stateless on the server — the cursor is the whole session (docs/protocol.md).
 *
 * The first poll of a channel is always `wait=0`: it answers at once with the channel's position
 * (or its replay), so the session opens without waiting out a long poll. A change of the channel
 * set cuts a held poll short and polls again with the new set. A short poll of one channel sends
 * the last ETag, so an unchanged channel costs a bodiless 304.
 *
 * Presence and typing come in each channel's entry of the answer. A poll names the typing set it
 * last saw per channel (`typing=<tag>.<channel>`), so a held poll returns when that set changes.
 */
export class PollSession extends SessionBase {
  readonly name: 'longpoll' | 'poll';
  readonly incremental = true;
  private readonly confirmed = new Set<string>();
  private controller: AbortController | null = null;
  private holding = false;
  private restart = false;
  private wake: (() => void) | null = null;
  private etag: string | undefined;
  /** Per channel, the tag of the typing set last reported. */
  private readonly typingTags = new Map<string, string>();

  constructor(
    sink: TransportSink,
    settings: TransportSettings,
    private readonly source: ChannelSource,
    private readonly long: boolean,
  ) {
    super(sink, settings);
    this.name = long ? 'longpoll' : 'poll';
    void this.loop();
  }

  update(): void {
    if (this.ended) return;
    if (this.holding && this.controller !== null) {
      this.restart = true;
      this.controller.abort();
    }
    this.wake?.();
  }

  protected release(): void {
    this.controller?.abort();
    this.wake?.();
  }

  private async loop(): Promise<void> {
    while (!this.ended) {
      const channels = this.source.channels();
      if (channels.length === 0) {
        // The client ends a session with no channel; until it does, there is nothing to ask.
        await this.pause(60_000);
        continue;
      }
      for (const channel of [...this.confirmed]) if (!channels.includes(channel)) this.confirmed.delete(channel);
      const fresh = channels.some((c) => !this.confirmed.has(c));
      const wait = this.long && !fresh ? this.settings.longPollWaitSeconds : 0;
      const query = [...channelQuery(this.source, false), ...channels.map((c) => ['typing', `${this.typingTags.get(c) ?? '0'}.${c}`] as const), ['wait', String(wait)] as const];
      const conditional = !this.long && !fresh && channels.length === 1 && this.etag !== undefined;
      const controller = (this.controller = new AbortController());
      this.holding = wait > 0;
      let answer: { status: number; headers: Headers; body: JsonObject | null };
      try {
        answer = await sendJson(this.settings.http, '/v1/poll', {
          query,
          headers: conditional ? { 'If-None-Match': this.etag as string } : {},
          signal: controller.signal,
          timeoutMs: wait * 1000 + this.settings.http.requestTimeoutMs,
        });
      } catch (error) {
        if (this.ended) return;
        if (this.restart) {
          this.restart = false;
          continue;
        }
        const failure = error instanceof HeraldError ? error : new HeraldError('network', String(error));
        if (failure.code === 'too_many_polls' && this.isOpen) {
          await this.pause(TOO_MANY_POLLS_PAUSE_MS);
          continue;
        }
        this.fail({ reason: this.isOpen ? `poll failed (${failure.message})` : `failed to open (${failure.message})`, error: failure });
        return;
      } finally {
        this.holding = false;
        this.controller = null;
      }
      if (this.ended) return;
      this.opened();
      this.restart = false;
      let more = false;
      if (answer.body !== null) {
        this.etag = channels.length === 1 ? (answer.headers.get('ETag') ?? undefined) : undefined;
        more = this.deliver(answer.body);
      }
      if (!this.long && !more) await this.pause(this.settings.pollIntervalMs);
    }
  }

  /** Reports an answer; true when the server has more right away (`more`). */
  private deliver(answer: JsonObject): boolean {
    try {
      for (const [channel, reply] of toChannelReplies(answer)) {
        // The first answer of a channel is its subscribe reply; later ones matter only as resets.
        if (this.confirmed.has(channel) && reply.recovered) continue;
        this.confirmed.add(channel);
        this.sink.subscribed(channel, reply);
        if (this.ended) return false;
      }
      for (const [channel, entry] of Object.entries(answer['channels'] as JsonObject)) {
        const { presence, typing } = entry as JsonObject;
        const messages = isObject(presence) ? pollPresence(channel, presence) : [];
        if (isObject(typing) && typing['tag'] !== (this.typingTags.get(channel) ?? '0')) {
          this.typingTags.set(channel, String(typing['tag']));
          messages.push({ ...typing, type: 'typing', channel });
        }
        for (const message of messages) if (!this.ended) this.sink.event(message);
      }
      const publications = answer['publications'];
      if (!Array.isArray(publications)) throw new Error("'publications' is not an array");
      for (const item of publications) {
        if (this.ended) return false;
        if (!isObject(item)) throw new Error('a publication is not an object');
        this.sink.publication(toPublication(item));
      }
    } catch (error) {
      this.fail({ reason: `unreadable answer: ${error instanceof Error ? error.message : String(error)}` });
      return false;
    }
    return answer['more'] === true;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }
}
