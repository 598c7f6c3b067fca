// What the buttons of a message do — react and take a reaction back, edit in place, delete, reply
// in a thread — and the thread panel: the thread of a message is the channel `<room>=<offset>`,
// read and followed like a room, its replies drawn and folded as a room's messages are. Every
// change is a publication (the SDK's react, unreact, edit, deleteMessage); the page shows it when
// it comes back folded, as every other page in the room sees it.

import { $, state, technical } from './chat-state.js';
import { explain, mentioned, sendError, tooLong } from './chat-composer.js';
import { activate, addMessage, addNote, authorOf, createLog, drawLog, foldPublication, messageKey, redraw, renderMessage, step, textOf } from './chat-messages.js';

// A thread's replies read on opening it: its whole history in the demo's settings (HistorySize 500).
const THREAD_HISTORY = 500;

/** The thread open in the panel: `{log, room, root, subscription}`; null when none is. */
let thread = null;

/** The log a list shows: the room on screen, or the thread in the panel. */
function logOf(list) {
  return list.id === 'thread-messages' ? thread?.log ?? null : state.rooms.get(state.current) ?? null;
}

function errorElement(list) {
  return list.id === 'thread-messages' ? $('thread-error') : $('send-error');
}

/** A refused or failed action, in words (the code in the tooltip). */
function explainAction(error) {
  switch (error.code) {
    case 'not_author':
      return 'Not changed: only its author can edit or delete a message.';
    case 'edits_disabled':
      return 'Not changed: this room does not allow editing or deleting messages.';
    case 'reactions_disabled':
      return 'Not changed: this room does not take reactions.';
    case 'message_not_found':
      return 'Not changed: that message is no longer in the room’s history.';
    case 'threads_disabled':
      return 'Not sent: this room has no threads.';
    default:
      return explain(error);
  }
}

for (const list of [$('messages'), $('thread-messages')]) {
  list.addEventListener('click', (event) => {
    const button = event.target.closest('[data-action]');
    const log = logOf(list);
    const message = log?.byKey.get(button?.closest('li[data-key]')?.dataset.key)?.message;
    if (button === null || message === undefined) return;
    act(list, log, message, button).catch((error) => sendError(explainAction(error), technical(error), errorElement(list)));
  });
  list.addEventListener('submit', (event) => {
    event.preventDefault();
    const log = logOf(list);
    const message = log?.byKey.get(event.target.closest('li[data-key]')?.dataset.key)?.message;
    if (message === undefined) return;
    save(list, log, message).catch((error) => sendError(explainAction(error), technical(error), errorElement(list)));
  });
  list.addEventListener('input', (event) => {
    if (event.target.id === 'edit-input' && state.editing !== null) state.editing.draft = event.target.value;
  });
  list.addEventListener('focusin', (event) => {
    const item = event.target.closest('li[data-key]');
    const log = logOf(list);
    if (item !== null && log !== null) activate(list, log, item);
  });
  list.addEventListener('keydown', (event) => {
    const log = logOf(list);
    if ((event.key === 'ArrowUp' || event.key === 'ArrowDown') && event.target.dataset.action !== undefined && log !== null) {
      event.preventDefault();
      step(list, log, event.target, event.key === 'ArrowUp' ? -1 : 1);
      return;
    }
    if (event.key !== 'Escape' || event.target.id !== 'edit-input') return;
    // The edit, not the thread panel, is what Escape leaves.
    event.stopPropagation();
    const message = log?.byKey.get(event.target.closest('li[data-key]')?.dataset.key)?.message;
    if (message !== undefined) stopEditing(list, log, message);
  });
}

async function act(list, log, message, button) {
  const { herald } = state;
  switch (button.dataset.action) {
    case 'react': {
      // Pressed: the user's reaction counts, so a click takes it back.
      const key = button.dataset.key;
      button.disabled = true;
      try {
        if (button.getAttribute('aria-pressed') === 'true') await herald.unreact(log.channel, message.offset, key);
        else await herald.react(log.channel, message.offset, key);
        sendError('', '', errorElement(list));
      } finally {
        button.disabled = false;
      }
      return;
    }
    case 'edit':
      state.editing = { channel: log.channel, offset: message.offset, draft: textOf(message) };
      redraw(list, log, message);
      list.querySelector('#edit-input')?.select();
      list.querySelector('#edit-input')?.focus();
      return;
    case 'cancel':
      stopEditing(list, log, message);
      return;
    case 'delete':
      await herald.deleteMessage(log.channel, message.offset);
      sendError('', '', errorElement(list));
      // The message loses its buttons: the composer is the next place to be.
      (list.id === 'thread-messages' ? $('thread-message') : $('message')).focus();
      return;
    case 'thread':
      await openThread(log.channel, message);
      return;
  }
}

async function save(list, log, message) {
  const input = list.querySelector('#edit-input');
  const text = input?.value.trim() ?? '';
  if (text === textOf(message)) {
    stopEditing(list, log, message);
    return;
  }
  const problem = text === '' ? 'A message cannot be empty: delete it instead.' : tooLong(text);
  if (problem !== '') {
    sendError(problem, '', errorElement(list));
    input?.focus();
    return;
  }
  const data = typeof message.data === 'object' && message.data !== null && !Array.isArray(message.data) ? message.data : {};
  await state.herald.edit(log.channel, message.offset, { ...data, text });
  sendError('', '', errorElement(list));
  // Shown as saved once the edit comes back folded, a moment later.
  stopEditing(list, log, message);
}

function stopEditing(list, log, message) {
  state.editing = null;
  redraw(list, log, log.byKey.get(messageKey(message))?.message ?? message);
  list.querySelector(`li[data-key="${CSS.escape(messageKey(message))}"] [data-action="edit"]`)?.focus();
}

// ---- the thread panel -------------------------------------------------------------------------

/** Opens the thread of `message` of the room `room`: its replies, then live. */
export async function openThread(room, message) {
  closeThread();
  const log = createLog(`${room}=${message.offset}`);
  const opened = { log, room, root: message.offset, subscription: null };
  thread = opened;
  $('chat').classList.add('threaded');
  $('thread').hidden = false;
  $('thread-title').textContent = `Thread · ${authorOf(message)}`;
  $('thread-channel').textContent = log.channel;
  drawParent(message);
  sendError('', '', $('thread-error'));
  drawLog($('thread-messages'), log, 'Loading the replies…');
  $('thread-message').focus();

  let since = { epoch: '', offset: 0 };
  try {
    const page = await state.herald.history(log.channel, { limit: THREAD_HISTORY, reverse: true });
    for (const publication of [...page.publications].reverse()) log.view.add(publication);
    since = { epoch: page.epoch, offset: page.top };
  } catch (error) {
    addNote(log, 'Earlier replies could not be loaded, so only new ones are shown.', technical(error), null);
  }
  if (thread !== opened) return;
  for (const reply of log.view.messages) addMessage(log, reply, null);
  drawLog($('thread-messages'), log, 'No replies yet — start the thread.');
  const subscription = state.herald.subscribe(log.channel, { since, presence: 'off' });
  opened.subscription = subscription;
  const shown = () => (thread === opened ? $('thread-messages') : null);
  subscription.on('publication', (publication) => foldPublication(log, publication, shown()));
  subscription.on('error', (error) => addNote(log, 'This thread is not available right now.', technical(error), shown()));
}

/** Closes the thread panel (and leaves the thread's channel). */
export function closeThread() {
  if (thread === null) return;
  thread.subscription?.unsubscribe();
  if (state.editing?.channel === thread.log.channel) state.editing = null;
  thread = null;
  $('thread').hidden = true;
  $('chat').classList.remove('threaded');
  $('thread-messages').replaceChildren();
  $('thread-parent').replaceChildren();
}

/** The room shown changed: a thread of another room closes. */
export function roomShown(channel) {
  if (thread !== null && thread.room !== channel) closeThread();
}

/** A message of a room changed: the panel's copy of it follows when it is the thread's parent. */
export function roomMessageChanged(room, message) {
  if (thread !== null && thread.room === room && thread.root === message.offset) drawParent(message);
}

function drawParent(message) {
  $('thread-parent').replaceChildren(renderMessage(message, thread.room, { compact: true }));
}

function closeAndReturn() {
  const root = thread === null ? null : { room: thread.room, offset: thread.root };
  closeThread();
  const back = root !== null && root.room === state.current
    ? $('messages').querySelector(`li[data-offset="${root.offset}"] [data-action="thread"]`)
    : null;
  (back ?? $('message')).focus();
}

$('thread-close').addEventListener('click', closeAndReturn);
$('thread').addEventListener('keydown', (event) => {
  if (event.key === 'Escape') closeAndReturn();
});

$('thread-composer').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = $('thread-message');
  const text = input.value.trim();
  if (text === '' || thread === null) return;
  const problem = tooLong(text);
  if (problem !== '') {
    sendError(problem, '', $('thread-error'));
    return;
  }
  const channel = thread.log.channel;
  $('thread-send').disabled = true;
  sendError('', '', $('thread-error'));
  try {
    const mentions = mentioned(text);
    await state.herald.publish(channel, { name: state.me, text }, { type: 'message', ...(mentions.length === 0 ? {} : { mentions }) });
    input.value = '';
  } catch (error) {
    sendError(explainAction(error), technical(error), $('thread-error'));
  } finally {
    $('thread-send').disabled = false;
    input.focus();
  }
});
