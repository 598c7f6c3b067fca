// Reading the server's JSON: every message is checked for the members the SDK relies on, so a
// malformed one fails loudly (invalid_response) instead of corrupting positions.

import { HeraldError } from './errors.js';
import type { HistoryPage, LatestMessage, LatestPage, Publication, PublishResult, ReactionCount, ThreadSummary, TypingTimings } from './types.js';
import type { ChannelSummary, ChannelUnread, ReadMarker } from './read-types.js';
import type { SubscribeReply } from './position.js';

export type JsonObject = { readonly [key: string]: unknown };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseJson(text: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid(`not JSON: ${text.slice(0, 80)}`);
  }
  if (!isObject(value)) throw invalid(`not a JSON object: ${text.slice(0, 80)}`);
  return value;
}

export function str(o: JsonObject, key: string): string {
  const value = o[key];
  if (typeof value !== 'string') throw invalid(`'${key}' is not a string`);
  return value;
}

export function num(o: JsonObject, key: string): number {
  const value = o[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`'${key}' is not a number`);
  return value;
}

function optionalStr(o: JsonObject, key: string): string | undefined {
  const value = o[key];
  return typeof value === 'string' ? value : undefined;
}

/** `{ [key]: value }` when the member is a number, else nothing: for optional members under exactOptionalPropertyTypes. */
function optionalNum(o: JsonObject, key: string): { [key]?: number } {
  const value = o[key];
  return typeof value === 'number' ? { [key]: value } : {};
}

/** A publication as pushed, polled or read from history (`msgType` becomes `type`). */
export function toPublication<T>(o: JsonObject, channel?: string): Publication<T> {
  const from = optionalStr(o, 'from');
  const type = optionalStr(o, 'msgType');
  const meta = o['meta'];
  return {
    channel: typeof o['channel'] === 'string' ? o['channel'] : (channel ?? str(o, 'channel')),
    offset: num(o, 'offset'),
    epoch: str(o, 'epoch'),
    id: str(o, 'id'),
    time: str(o, 'time'),
    ...(from === undefined ? {} : { from }),
    ...(type === undefined ? {} : { type }),
    ...optionalNum(o, 'n'),
    ...(isObject(meta) ? { meta } : {}),
    data: o['data'] as T,
  };
}

export function toSubscribeReply(o: JsonObject): SubscribeReply {
  const recovered = o['recovered'];
  if (typeof recovered !== 'boolean') throw invalid(`'recovered' is not a boolean`);
  return { recovered, epoch: str(o, 'epoch'), offset: num(o, 'offset'), ...optionalNum(o, 'n') };
}

/** A channel's state in an unread answer or a `read` reply. */
export function toChannelUnread(o: unknown): ChannelUnread {
  if (!isObject(o)) throw invalid('an unread state is not an object');
  const read = o['read'];
  const mentions = o['mentions'];
  return {
    channel: str(o, 'channel'),
    epoch: str(o, 'epoch'),
    top: num(o, 'top'),
    n: num(o, 'n'),
    ...(isObject(read) ? { read: toMarker(read) } : {}),
    unread: num(o, 'unread'),
    mentions: Array.isArray(mentions) ? mentions.filter((m): m is number => typeof m === 'number') : [],
    ...optionalNum(o, 'firstUnread'),
    ...(o['reset'] === true ? { reset: true } : {}),
  };
}

/** A marker of the user's (`read`, a receipt's `seen` or `delivered`): `{epoch, offset, n, updatedAt}`. */
export function toMarker(o: JsonObject): ReadMarker {
  return { epoch: str(o, 'epoch'), offset: num(o, 'offset'), n: num(o, 'n'), updatedAt: str(o, 'updatedAt') };
}

/** A summary push (`{type: 'summary', channel, epoch, offset, n, time, from?}`). */
export function toSummary(o: JsonObject): ChannelSummary {
  const time = optionalStr(o, 'time');
  const from = optionalStr(o, 'from');
  return {
    channel: str(o, 'channel'),
    epoch: str(o, 'epoch'),
    offset: num(o, 'offset'),
    n: num(o, 'n'),
    ...(time === undefined ? {} : { time }),
    ...(from === undefined ? {} : { from }),
  };
}

/** The typing timings of a WebSocket subscribe reply or an HTTP typing answer. */
export function toTimings(o: JsonObject): TypingTimings {
  return { resend: num(o, 'resend'), idle: num(o, 'idle'), expire: num(o, 'expire') };
}

/** The push messages a subscription handles besides publications: presence, typing, signals, receipts, and a summary subscription's summaries. */
export const CHANNEL_EVENTS = ['presence_state', 'presence_snapshot', 'presence', 'presence_count', 'typing', 'signal', 'receipts', 'summary'];

/** The `channels` member of an SSE/stream `subscribed` message or a poll answer. */
export function toChannelReplies(o: JsonObject): Map<string, SubscribeReply> {
  const channels = o['channels'];
  if (!isObject(channels)) throw invalid(`'channels' is not an object`);
  const replies = new Map<string, SubscribeReply>();
  for (const [channel, entry] of Object.entries(channels)) {
    if (!isObject(entry)) throw invalid(`channel '${channel}' is not an object`);
    replies.set(channel, toSubscribeReply(entry));
  }
  return replies;
}

/** A history answer; with `latest`, of `view: 'latest'` (each message with the members of the fold). */
export function toHistoryPage<T>(o: JsonObject, latest: boolean): HistoryPage<T> | LatestPage<T> {
  const channel = str(o, 'channel');
  const list = o['publications'];
  if (!Array.isArray(list)) throw invalid(`'publications' is not an array`);
  const publications = list.map((p: unknown) => {
    if (!isObject(p)) throw invalid('a publication is not an object');
    return latest ? toLatestMessage<T>(p, channel) : toPublication<T>(p, channel);
  });
  return {
    channel,
    epoch: str(o, 'epoch'),
    top: num(o, 'top'),
    first: num(o, 'first'),
    ...optionalNum(o, 'n'),
    publications: publications as Publication<T>[],
  };
}

/** A message of the latest view: a publication with `version` and, when they apply, `editedAt`, `deleted`, `reactions`, `thread`. */
function toLatestMessage<T>(o: JsonObject, channel: string): LatestMessage<T> {
  const editedAt = optionalStr(o, 'editedAt');
  const reactions = o['reactions'];
  const thread = o['thread'];
  return {
    ...toPublication<T>(o, channel),
    version: num(o, 'version'),
    ...(editedAt === undefined ? {} : { editedAt }),
    ...(o['deleted'] === true ? { deleted: true } : {}),
    ...(Array.isArray(reactions) ? { reactions: reactions as ReactionCount[] } : {}),
    ...(isObject(thread) ? { thread: thread as unknown as ThreadSummary } : {}),
  };
}

/** The HTTP 201/200 answer or the WebSocket `published` reply (whose id is `publicationId`). */
export function toPublishResult(o: JsonObject, duplicate: boolean): PublishResult {
  return {
    channel: str(o, 'channel'),
    offset: num(o, 'offset'),
    epoch: str(o, 'epoch'),
    id: typeof o['publicationId'] === 'string' ? o['publicationId'] : str(o, 'id'),
    time: str(o, 'time'),
    ...optionalNum(o, 'n'),
    duplicate: duplicate || o['duplicate'] === true,
  };
}

export function invalid(message: string): HeraldError {
  return new HeraldError('invalid_response', `Unexpected answer from the server: ${message}.`);
}

const CHANNEL = /^[a-z0-9_-]{1,32}:[A-Za-z0-9_\-.=@~]+$/;

/** The naming rule of docs/protocol.md, checked before anything is sent. */
export function checkChannel(channel: string): void {
  if (typeof channel !== 'string' || channel.length > 128 || !CHANNEL.test(channel)) {
    throw new HeraldError(
      'invalid_channel',
      `'${String(channel)}' is not a channel name: 'namespace:name', namespace of a-z 0-9 _ - (1-32), name of A-Z a-z 0-9 _ - . = @ ~, at most 128 in all.`,
    );
  }
}
