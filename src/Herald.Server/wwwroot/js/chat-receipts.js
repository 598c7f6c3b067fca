// Receipts in direct messages: under the user's own newest message, "Sent", then "Delivered" once
// the other member's device received it, then "Seen" once they read it — "Seen by bob, carol" in a
// group. The room's subscription asks for them (`receipts: true`); the SDK keeps them
// (`herald.receipts`: each member's seen and delivered markers) and marks what this page receives
// delivered. This module only draws the line. It sits inside the message, so a screen reader reads
// it with the message, but is left out of the log's announcements: it changes too often to be said.

import { clock, signedIn, state } from './chat-state.js';

// Polls carry no receipts: the SDK reads them when a poll brings a message. While a direct message
// whose newest line is not "Seen" yet is on screen over polling, they are read this often too, so
// "Seen" comes without waiting for the next message.
const POLLED_RECEIPTS_MS = 5_000;

/** The members of a direct message other than the user: from its name (`dm:alice~bob`), else (a hashed name) whoever its receipts list. */
function others(entry, receipts) {
  const listed = /^[^:]+:([^=].*)$/.exec(entry.channel)?.[1]?.split('~') ?? Object.keys(receipts.members);
  return listed.filter((user) => user !== state.me);
}

/** The user's newest message in the room, unless it was deleted; undefined when there is none. */
function ownNewest(entry) {
  for (let i = entry.items.length - 1; i >= 0; i--) {
    const message = entry.items[i].kind === 'message' ? entry.items[i].message : null;
    if (message?.from === state.me) return message.deleted ? undefined : message;
  }
  return undefined;
}

/**
 * What the line under the user's newest message says: `{key, state, text, title}` (`state`:
 * `sent`, `delivered` or `seen`), or null — not a direct message, no message of the user's, the
 * receipts not there yet or off.
 */
export function receiptStatus(entry) {
  if (signedIn === null || entry?.peer == null) return null;
  const tracker = state.herald?.receipts;
  const receipts = tracker?.get(entry.channel);
  const message = ownNewest(entry);
  if (receipts === undefined || receipts.off !== undefined || message === undefined) return null;
  const peers = others(entry, receipts);
  const seen = tracker.seenBy(entry.channel, message.offset, message.epoch).filter((user) => peers.includes(user));
  // Read is received: a seen marker past the message counts as delivered too.
  const delivered = tracker.deliveredTo(entry.channel, message.offset, message.epoch).filter((user) => peers.includes(user) && !seen.includes(user));
  const key = `${message.epoch}:${message.offset}`;
  const when = (user, marker) => `${user} at ${clock.format(new Date(receipts.members[user][marker].updatedAt))}`;
  if (seen.length > 0) {
    const text = peers.length === 1 ? 'Seen' : `Seen by ${seen.join(', ')}`;
    return { key, state: 'seen', text, title: `Seen by ${seen.map((user) => when(user, 'seen')).join(', ')}` };
  }
  if (delivered.length > 0) return { key, state: 'delivered', text: 'Delivered', title: `Delivered to ${delivered.map((user) => when(user, 'delivered')).join(', ')}` };
  return { key, state: 'sent', text: 'Sent', title: 'Sent: not received yet' };
}

/** Puts the line under the user's newest message in `list` (the room shown), or takes it away. */
export function drawReceipt(list, entry) {
  const status = receiptStatus(entry);
  const item = status === null ? null : list.querySelector(`:scope > li[data-key="${CSS.escape(status.key)}"]`);
  let line = list.querySelector(':scope > li > .receipt');
  if (item === null) {
    line?.remove();
    return;
  }
  if (line === null) {
    line = document.createElement('p');
    line.className = 'receipt';
    line.setAttribute('role', 'note');
    line.setAttribute('aria-label', 'Status of your message');
    // Inside the log (aria-live polite): its changes are not announced, the message's own are.
    line.setAttribute('aria-live', 'off');
  }
  if (line.parentElement !== item) item.append(line);
  if (line.dataset.state === status.state && line.textContent === status.text) return;
  line.dataset.state = status.state;
  line.textContent = status.text;
  line.title = status.title;
}

setInterval(() => {
  const entry = state.rooms.get(state.current);
  const polling = state.herald?.transport === 'longpoll' || state.herald?.transport === 'poll';
  const status = polling && document.visibilityState === 'visible' ? receiptStatus(entry) : null;
  if (status !== null && status.state !== 'seen') state.herald.readReceipts(entry.channel).catch(() => undefined);
}, POLLED_RECEIPTS_MS);
