/**
 * Every failure the SDK reports. `code` is the server's stable code (docs/protocol.md#errors:
 * `forbidden`, `invalid_channel`, `message_too_large`, …) or one of the SDK's own:
 * `network` (no answer), `timeout`, `disconnected` (the connection ended before the answer),
 * `closed` (the client was closed), `aborted` (the caller's signal), `invalid_response`.
 */
export class HeraldError extends Error {
  /** Stable code to switch on. */
  readonly code: string;
  /** The HTTP status of the answer, when there was one. */
  readonly status: number | undefined;

  constructor(code: string, message: string, status?: number) {
    super(message);
    this.name = 'HeraldError';
    this.code = code;
    this.status = status;
  }
}

/** Codes after which a request may be retried safely (with the same idempotency key). */
export function isTransient(error: HeraldError): boolean {
  return (
    error.code === 'network' ||
    error.code === 'timeout' ||
    error.code === 'disconnected' ||
    error.code === 'internal_error' ||
    error.code === 'unavailable' ||
    (error.status !== undefined && error.status >= 500)
  );
}

export function asHeraldError(error: unknown, fallbackCode = 'network'): HeraldError {
  if (error instanceof HeraldError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new HeraldError(fallbackCode, message);
}
