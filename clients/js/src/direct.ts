import { HeraldError } from './errors.js';
import { checkChannel } from './wire.js';

/**
 * The canonical name of the direct channel of `members` (docs/protocol.md#channel-kinds): the
 * ids sorted (by UTF-16 code unit, as the server's ordinal order), each once, joined by `~` —
 * `directChannel(['bob', 'alice'])` is `dm:alice~bob`. Ids that cannot be listed in a channel
 * name (a `~`, a space, a leading `=`, …, or too long together) throw: ask the server with
 * `herald.direct(members)`, which answers a hashed name for them.
 */
export function directChannel(members: readonly string[], namespace = 'dm'): string {
  const ids = [...new Set(members)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const channel = `${namespace}:${ids.join('~')}`;
  if (ids.length < 2 || ids.length > 10) throw new HeraldError('bad_request', `A direct channel has 2 to 10 distinct members; ${ids.length} were given.`);
  if (ids.some((id) => id === '' || id.includes('~') || id.startsWith('='))) {
    throw new HeraldError('invalid_channel', `These ids cannot be listed in a channel name: use herald.direct(members) for a hashed one.`);
  }
  checkChannel(channel);
  return channel;
}
