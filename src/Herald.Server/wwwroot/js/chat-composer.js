// The composer: sending a message to the room shown, with `@name` mentions, a word on the length
// limit, typing, and a refused or failed publish said in words. The thread panel's composer
// (chat-actions.js) uses the same checks and words.

import { $, count, signedIn, state, technical } from './chat-state.js';

// 2,000 characters: a chat line, not a document. The page cannot know the namespace's
// MaxMessageBytes (the server tells it only when it refuses one), and a longer line is unreadable
// in a room anyway. Nothing is cut: a longer message stays in the field, with a word on the limit;
// the server's own limit still applies, and is explained when it refuses.
export const MAX_MESSAGE_CHARS = 2000;
// `@name` in a message mentions that user: a user id up to the next space, without the
// punctuation that ends a sentence ("thanks @bob!"). The server takes at most 50 per message.
const MENTION = /(?:^|\s)@([^\s@]+)/g;
const MAX_MENTIONS = 50;

$('composer').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = $('message');
  const text = input.value.trim();
  if (text === '' || state.current === null) return;
  const long = tooLong(text);
  if (long !== '') {
    sendError(long, `limit of this page: ${MAX_MESSAGE_CHARS} characters`);
    input.focus();
    return;
  }
  const channel = state.current;
  $('send').disabled = true;
  sendError('');
  try {
    const mentions = mentioned(text);
    await state.herald.publish(channel, { name: state.me, text }, { type: 'message', ...(mentions.length === 0 ? {} : { mentions }) });
    input.value = '';
    updateCount();
  } catch (error) {
    sendError(explain(error), technical(error));
  } finally {
    $('send').disabled = false;
    input.focus();
  }
});

$('message').addEventListener('input', () => {
  updateCount();
  // The SDK says "typing" on the server's timings and "stopped" after a pause; sending ends it.
  const subscription = state.rooms.get(state.current)?.subscription;
  if (signedIn === null || subscription == null) return;
  if ($('message').value.trim() === '') subscription.stopTyping();
  else subscription.typing();
});

/** Why `text` is too long to send, in words; '' when it is not. */
export function tooLong(text) {
  const length = characters(text);
  if (length <= MAX_MESSAGE_CHARS) return '';
  return `Not sent: this message is ${count.format(length)} characters long, and messages here are at most ` +
    `${count.format(MAX_MESSAGE_CHARS)}. Nothing was cut — shorten it and send again.`;
}

/** The users a message mentions with `@name`, each once, not the sender. */
export function mentioned(text) {
  const users = new Set();
  for (const [, raw] of text.matchAll(MENTION)) {
    const user = raw.replace(/[.,;:!?)\]}'"]+$/, '');
    if (user !== '' && user !== state.me && [...user].length <= 256) users.add(user);
  }
  return [...users].slice(0, MAX_MENTIONS);
}

/** Characters as people count them (an emoji is one), not UTF-16 units. */
function characters(text) {
  return Array.from(text).length;
}

/** From 90 % of the limit on, says how much room is left, and past it by how much it is over. */
function updateCount() {
  const length = characters($('message').value.trim());
  const hint = $('message-count');
  hint.hidden = length < MAX_MESSAGE_CHARS * 0.9;
  hint.classList.toggle('over', length > MAX_MESSAGE_CHARS);
  hint.textContent = length > MAX_MESSAGE_CHARS
    ? `${count.format(length)} / ${count.format(MAX_MESSAGE_CHARS)} characters: ${count.format(length - MAX_MESSAGE_CHARS)} too many to send.`
    : `${count.format(length)} / ${count.format(MAX_MESSAGE_CHARS)} characters.`;
}

/** A sentence under the composer (role="alert"); `detail` (the SDK's code and message) in its tooltip. */
export function sendError(text, detail = '', element = $('send-error')) {
  element.textContent = text;
  element.title = detail === '' ? '' : `Details: ${detail}`;
  element.dataset.detail = detail;
}

/** A refused or failed publish, in words; the code stays in the tooltip (technical). */
export function explain(error) {
  switch (error.code) {
    case 'unauthorized':
    case 'forbidden':
      return 'Not sent: this server does not let visitors publish to chat rooms. Start it with `dotnet run` ' +
        '(the demo settings), set Herald:Namespaces:chat:Publish, or open this page with #token=<user token>.';
    case 'message_too_large': {
      const limit = /limit of (\d+) bytes/.exec(error.message)?.[1];
      return 'Not sent: this message is too long for this room' +
        (limit === undefined ? '' : ` (the server takes at most ${count.format(Number(limit))} bytes; most letters take 1, accents 2, emoji 4)`) +
        '. Shorten it and send again.';
    }
    case 'network':
    case 'timeout':
    case 'disconnected':
      return 'Not sent: the server could not be reached. Check the connection, then send again — it will not appear twice.';
    case 'internal_error':
    case 'unavailable':
      return 'Not sent: the server had a problem. Try again in a moment.';
    default:
      return error.status >= 500 ? 'Not sent: the server had a problem. Try again in a moment.' : 'Not sent: the server refused this message.';
  }
}

