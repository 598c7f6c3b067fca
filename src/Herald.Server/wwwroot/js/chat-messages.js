// The messages of a room or a thread, drawn from the SDK's fold (LatestView): each publication is
// folded in offset order — history first, then the subscription's pushes, resumed after a
// reconnect — so an edit, a delete, a reaction or a thread's summary, live or missed while away,
// redraws the one message it is about. The buttons drawn here do nothing by themselves: their
// `data-action` is handled by chat-actions.js. Only one message of a list has its buttons in the
// tab order (the newest, or the one the arrow keys moved to), so Tab does not walk every message.

import { LatestView } from './herald-client.js';
import { clock, signedIn, state } from './chat-state.js';

/** The reactions every message offers; any other key a message got is shown beside them. */
export const QUICK_REACTIONS = ['👍', '❤️', '😂'];

/**
 * A channel's messages as shown: the fold, and what is drawn, in order (messages by
 * `epoch:offset`, and notes); `active`: the key of the message whose buttons are tab stops (null:
 * the newest).
 */
export function createLog(channel) {
  return { channel, view: new LatestView(), items: [], byKey: new Map(), active: null };
}

export function messageKey(message) {
  return `${message.epoch}:${message.offset}`;
}

/** A message that comes with the log (history, or a new one live): shown at the end. */
export function addMessage(log, message, list) {
  const previous = list === null || log.active !== null ? null : activeElement(list, log);
  const item = { kind: 'message', message };
  log.items.push(item);
  log.byKey.set(messageKey(message), item);
  if (list === null) return;
  // The newest message takes the tab stops, unless the user moved them.
  if (previous !== null) setTabStops(previous, false);
  append(list, render(item, log));
}

/**
 * Folds one pushed publication into `log`; draws a new message into `list` (null: not on screen),
 * or redraws the one an action changed. Returns `{message, added}`, or null when nothing shown changed.
 */
export function foldPublication(log, publication, list) {
  const message = log.view.add(publication);
  if (message === null) return null;
  // The fold returns the publication's own message when it is one, else the message it is about.
  if (message.offset === publication.offset) {
    addMessage(log, message, list);
    return { message, added: true };
  }
  const item = log.byKey.get(messageKey(message));
  // About a message older than the ones shown: it changes in the fold only.
  if (item === undefined) return null;
  item.message = message;
  if (list !== null) redraw(list, log, message);
  return { message, added: false };
}

export function addNote(log, text, detail, list) {
  log.items.push({ kind: 'note', text, detail });
  if (list !== null) append(list, render(log.items.at(-1), log));
}

/** Draws all of `log` into `list`. */
export function drawLog(list, log, emptyText) {
  list.setAttribute('aria-busy', 'true');
  list.replaceChildren(...log.items.map((item) => render(item, log)));
  if (log.items.length === 0) {
    const empty = document.createElement('li');
    empty.className = 'empty';
    empty.textContent = emptyText;
    list.append(empty);
  }
  list.scrollTop = list.scrollHeight;
  list.setAttribute('aria-busy', 'false');
}

/** Draws `message` again where it is, keeping the focus on the same button when it was in it. */
export function redraw(list, log, message) {
  const old = list.querySelector(`:scope > li[data-key="${CSS.escape(messageKey(message))}"]`);
  if (old === null) return;
  const focused = old.contains(document.activeElement) ? document.activeElement : null;
  const fresh = render(log.byKey.get(messageKey(message)) ?? { kind: 'message', message }, log);
  // The line under the user's newest message in a direct message ("Seen", chat-receipts.js) stays.
  const receipt = old.querySelector(':scope > .receipt');
  if (receipt !== null) fresh.append(receipt);
  old.replaceWith(fresh);
  if (focused === null) return;
  if (focused.id === 'edit-input') {
    const input = fresh.querySelector('#edit-input');
    input?.focus();
    input?.setSelectionRange(focused.selectionStart, focused.selectionEnd);
    return;
  }
  if (focused.dataset.action !== undefined) sameControl(fresh, focused)?.focus();
}

/** In `item`, the button that does what `control` does (the same reaction key), else its first. */
function sameControl(item, control) {
  const same = `[data-action="${control.dataset.action}"]` + (control.dataset.key === undefined ? '' : `[data-key="${CSS.escape(control.dataset.key)}"]`);
  return item.querySelector(same) ?? item.querySelector('[data-action]');
}

/** The key of the message whose buttons are tab stops: the one moved to, else the newest. */
function activeKey(log) {
  if (log.active !== null && log.byKey.has(log.active)) return log.active;
  for (let i = log.items.length - 1; i >= 0; i--) {
    if (log.items[i].kind === 'message') return messageKey(log.items[i].message);
  }
  return null;
}

function activeElement(list, log) {
  const key = activeKey(log);
  return key === null ? null : list.querySelector(`:scope > li[data-key="${CSS.escape(key)}"]`);
}

function setTabStops(element, on) {
  for (const control of element.querySelectorAll('button, input')) control.tabIndex = on ? 0 : -1;
}

/** Gives `item`'s message (an `li` of `list`) the tab stops: the focus came into it. */
export function activate(list, log, item) {
  if (item.dataset.key === activeKey(log)) return;
  const previous = activeElement(list, log);
  if (previous !== null) setTabStops(previous, false);
  log.active = item.dataset.key;
  setTabStops(item, true);
}

/** ArrowUp / ArrowDown from `control`: the same button of the previous or next message that has buttons. */
export function step(list, log, control, direction) {
  let item = control.closest('li[data-key]');
  do {
    item = direction < 0 ? item.previousElementSibling : item.nextElementSibling;
  } while (item !== null && (item.dataset.key === undefined || item.querySelector('[data-action]') === null));
  if (item === null) return;
  activate(list, log, item);
  sameControl(item, control).focus();
}

function append(list, element) {
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  list.querySelector(':scope > .empty')?.remove();
  list.append(element);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function render(item, log) {
  if (item.kind === 'note') {
    const element = document.createElement('li');
    element.className = 'history-mark';
    element.textContent = item.text;
    if (item.detail) element.title = `Details: ${item.detail}`;
    return element;
  }
  const element = renderMessage(item.message, log.channel, { compact: false });
  setTabStops(element, messageKey(item.message) === activeKey(log));
  return element;
}

/** Who wrote it: `from` is the server's word (a user token); `name` is what an anonymous sender typed. */
export function authorOf(message) {
  return message.from ?? (typeof message.data?.name === 'string' ? message.data.name : 'someone');
}

/**
 * One message: author, time, "(edited)", its text or "message deleted", its reactions, the count
 * of its thread's replies (which opens the thread), and for a signed-in user its actions: react,
 * reply in thread, and edit and delete when it is the user's. A guest reads: reactions and edits
 * are counted per user, so they need a token. `compact`: the thread panel's copy of its parent,
 * text only. In a thread channel there is no thread of its own (threads do not nest).
 */
export function renderMessage(message, channel, { compact }) {
  const element = document.createElement('li');
  const author = authorOf(message);
  const mine = signedIn !== null && message.from === state.me;
  element.className = author === state.me ? 'message mine' : 'message';
  element.dataset.offset = String(message.offset);
  element.dataset.key = messageKey(message);
  if (message.deleted) element.classList.add('deleted');
  const mentionsMe = signedIn !== null && author !== state.me && message.meta?.mentions?.includes(state.me) === true;
  if (mentionsMe) element.classList.add('mentions-me');

  const meta = document.createElement('div');
  meta.className = 'meta';
  const who = document.createElement('span');
  who.className = 'author';
  who.textContent = author;
  const when = document.createElement('time');
  when.dateTime = message.time;
  when.textContent = clock.format(new Date(message.time));
  meta.append(who, when);
  if (message.editedAt !== undefined && !message.deleted) {
    const edited = document.createElement('span');
    edited.className = 'edited';
    edited.textContent = '(edited)';
    edited.title = `Edited at ${clock.format(new Date(message.editedAt))}`;
    meta.append(edited);
  }
  if (mentionsMe) {
    const tag = document.createElement('span');
    tag.className = 'mention-tag';
    tag.textContent = 'mentions you';
    meta.append(tag);
  }
  element.append(meta);

  const editing = state.editing;
  if (!compact && mine && !message.deleted && editing?.channel === channel && editing.offset === message.offset) {
    element.append(editForm(editing.draft));
  } else {
    const body = document.createElement('p');
    body.className = message.deleted ? 'text deleted' : 'text';
    body.textContent = message.deleted ? 'message deleted' : textOf(message);
    element.append(body);
  }
  if (compact) return element;

  const counted = message.deleted ? [] : message.reactions ?? [];
  if (counted.length > 0) {
    const group = document.createElement('div');
    group.className = 'reactions';
    group.setAttribute('role', 'group');
    group.setAttribute('aria-label', 'Reactions');
    group.append(...counted.map(reaction));
    element.append(group);
  }
  const isThread = /=\d+$/.test(channel);
  const replies = message.thread?.replies ?? 0;
  if (!isThread && replies > 0) {
    const link = button('thread', `${replies} ${replies === 1 ? 'reply' : 'replies'}`, `Open the thread: ${replies} ${replies === 1 ? 'reply' : 'replies'}`);
    link.classList.add('thread-link');
    link.dataset.replies = String(replies);
    if (message.thread.last?.time) link.title = `Last reply at ${clock.format(new Date(message.thread.last.time))}`;
    element.append(link);
  }
  if (signedIn === null || message.deleted) return element;

  // The toolbar: the quick reactions not given yet, reply, and the user's own edit and delete.
  const tools = document.createElement('div');
  tools.className = 'message-tools';
  tools.setAttribute('role', 'group');
  tools.setAttribute('aria-label', 'Message actions');
  for (const key of QUICK_REACTIONS) {
    if (!counted.some((r) => r.key === key)) tools.append(reaction({ key, count: 0, users: [] }));
  }
  if (!isThread) tools.append(button('thread', 'Reply', 'Reply in thread'));
  if (mine) tools.append(button('edit', 'Edit', 'Edit your message'), button('delete', 'Delete', 'Delete your message'));
  element.append(tools);
  return element;
}

/** The message's text; data that is not `{text}` (from another client) as JSON. */
export function textOf(message) {
  return typeof message.data?.text === 'string' ? message.data.text : JSON.stringify(message.data);
}

/**
 * One reaction key: for a signed-in user a toggle, pressed when the user's reaction counts (a
 * click takes it back); for a guest, who cannot react, the count only. Its title says who.
 */
function reaction({ key, count, users }) {
  const element = document.createElement(signedIn === null ? 'span' : 'button');
  element.className = 'reaction';
  element.dataset.key = key;
  element.dataset.count = String(count);
  const symbol = document.createElement('span');
  symbol.setAttribute('aria-hidden', 'true');
  symbol.textContent = key;
  element.append(symbol);
  if (count > 0) {
    const number = document.createElement('span');
    number.className = 'count';
    number.textContent = String(count);
    element.append(' ', number);
  }
  // The server lists the first 20 users of a key: enough to tell whether the user is one of them here.
  const who = users.join(', ') + (count > users.length ? ` and ${count - users.length} more` : '');
  element.title = count === 0 ? `React with ${key}` : `${key} ${who}`;
  element.setAttribute('aria-label', count === 0 ? `React with ${key}` : `${key}: ${count}, ${who}`);
  if (signedIn !== null) {
    element.type = 'button';
    element.dataset.action = 'react';
    element.setAttribute('aria-pressed', String(users.includes(state.me)));
  }
  return element;
}

function button(action, text, label) {
  const element = document.createElement('button');
  element.type = 'button';
  element.className = 'link';
  element.dataset.action = action;
  element.textContent = text;
  element.setAttribute('aria-label', label);
  return element;
}

/** In-place editing of the user's own message: Enter saves, Escape (or Cancel) leaves it as it was. */
function editForm(draft) {
  const form = document.createElement('form');
  form.className = 'edit-form';
  form.noValidate = true;
  const label = document.createElement('label');
  label.className = 'visually-hidden';
  label.htmlFor = 'edit-input';
  label.textContent = 'Edit your message';
  const input = document.createElement('input');
  input.id = 'edit-input';
  input.type = 'text';
  input.autocomplete = 'off';
  input.value = draft;
  const save = document.createElement('button');
  save.type = 'submit';
  save.textContent = 'Save';
  const cancel = document.createElement('button');
  cancel.type = 'button';
  cancel.className = 'secondary';
  cancel.dataset.action = 'cancel';
  cancel.textContent = 'Cancel';
  form.append(label, input, save, cancel);
  return form;
}
