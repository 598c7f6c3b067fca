import { asHeraldError } from './errors.js';
import type { TypingTimings } from './types.js';

/** Refusals after which saying "typing" again is pointless (anonymous, no access, typing off). */
const FINAL = new Set(['unauthorized', 'forbidden', 'typing_disabled', 'invalid_channel']);

/**
 * Turns keystrokes into the server's typing protocol (docs/protocol.md#typing): "typing" at the
 * first keystroke and again every `resend` ms while keystrokes continue, "stopped" after `idle`
 * ms without one. One timer, re-armed only when it fires, so a keystroke costs a timestamp.
 * The timings are the server's (the WebSocket subscribe reply, the HTTP typing answer).
 */
export class Typist {
  private timings: TypingTimings = { resend: 5_000, idle: 3_000, expire: 8_000 };
  private active = false;
  private off = false;
  private lastKey = 0;
  private lastSent = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly send: (typing: boolean) => Promise<TypingTimings | undefined>) {}

  /** True between the first keystroke and the stop. */
  get typing(): boolean {
    return this.active;
  }

  /** New timings; a pending check is re-timed by them (over HTTP they come with the first answer). */
  set(timings: TypingTimings | undefined): void {
    if (timings === undefined) return;
    this.timings = timings;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.arm();
  }

  keystroke(): void {
    if (this.off) return;
    const now = Date.now();
    this.lastKey = now;
    if (!this.active || now - this.lastSent >= this.timings.resend) {
      this.active = true;
      this.post(true, now);
    }
    this.arm();
  }

  /** Says "stopped" now, if typing. */
  stop(): void {
    if (!this.active) return;
    this.clear();
    this.post(false, Date.now());
  }

  /** Forgets the typing without a word: the server stopped it already (a message was sent, the subscription ended). */
  clear(): void {
    this.active = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private post(typing: boolean, now: number): void {
    this.lastSent = now;
    this.send(typing).then(
      (timings) => this.set(timings),
      (error: unknown) => {
        if (!FINAL.has(asHeraldError(error).code)) return;
        this.off = true;
        this.clear();
      },
    );
  }

  private arm(): void {
    if (this.timer !== undefined || !this.active) return;
    const { idle, resend } = this.timings;
    const due = Math.min(this.lastKey + idle, this.lastSent + resend) - Date.now();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const now = Date.now();
      if (now - this.lastKey >= idle) return this.stop();
      if (now - this.lastSent >= resend) this.post(true, now);
      this.arm();
    }, Math.max(0, due));
  }
}
