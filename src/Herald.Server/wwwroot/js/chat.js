// The demo chat: rooms are channels `chat:<room>`, each message `{name, text}`. Everything that
// moves goes through herald-client.js (the SDK); this file only draws it.

import { Herald, DEFAULT_TRANSPORTS } from './herald-client.js';

const TRANSPORTS = {
  ws: 'WebSocket',
  sse: 'Server-Sent Events',
  stream: 'HTTP streaming',
  longpoll: 'Long polling',
  poll: 'Short polling',
};
// The newest 50 messages of a room are shown on joining; older ones stay in the channel's log.
const HISTORY_ON_JOIN = 50;
const ROOM_PATTERN = /^[A-Za-z0-9_\-.=@~]{1,64}$/;
// 2,000 characters: a chat line, not a document. The page cannot know the namespace's
// MaxMessageBytes (the server tells it only when it refuses one), and a longer line is unreadable
// in a room anyway. Nothing is cut: a longer message stays in the field, with a word on the limit;
// the server's own limit still applies, and is explained when it refuses.
const MAX_MESSAGE_CHARS = 2000;
const NAME_STORAGE = 'herald.name';
const TRANSPORT_STORAGE = 'herald.transport';
// The rooms joined and the one shown, so a reload comes back to them; the shown one is in the
// address too (?room=help), to bookmark or share.
const ROOMS_STORAGE = 'herald.rooms';
const ROOM_STORAGE = 'herald.room';

const $ = (id) => document.getElementById(id);
const clock = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit' });
const count = new Intl.NumberFormat();

/** @type {Map<string, {room: string, channel: string, seen: Set<string>, items: object[], unread: number, subscription: object | null}>} */
const rooms = new Map();
let current = null;
let me = '';
let herald = null;
let everConnected = false;

// ---- connection state: the badge, the status and the reconnect banner ------------------------

function setStatus(state, text) {
  // The text sits in a live region: rewriting it unchanged would announce it again.
  if ($('connection').dataset.state === state && $('status-text').textContent === text) return;
  $('connection').dataset.state = state;
  $('status-text').textContent = text;
}

function setBadge(transport) {
  const badge = $('transport-badge');
  badge.dataset.transport = transport ?? '';
  badge.textContent = transport ? TRANSPORTS[transport] : 'no transport';
}

/** Shows `text` in words; `detail` (the SDK's own reason or code) is there for the curious, as a tooltip. */
function setBanner(text, kind = 'warn', detail = '') {
  const banner = $('banner');
  banner.hidden = text === '';
  banner.className = `banner ${kind}`;
  banner.textContent = text;
  banner.title = detail === '' ? '' : `Details: ${detail}`;
  banner.dataset.detail = detail;
}

/** Why a connection ended or failed to open, as a sentence. */
function connectionProblem({ reason, code }) {
  if (code === 3001) return 'The server is restarting.';
  if (code === 3008) return 'This page fell behind the room (a slow connection).';
  if (code === 3011 || reason.startsWith('no heartbeat')) return 'The connection went silent.';
  if (reason.startsWith('failed to open') || reason.startsWith('did not open') || reason.startsWith('poll failed') || code === 1006) {
    return 'The server cannot be reached.';
  }
  return 'The connection was interrupted.';
}

function transportChoice() {
  const choice = $('transport').value;
  return choice === 'auto' ? DEFAULT_TRANSPORTS : [choice];
}

function connect() {
  // A user token may come in the fragment (#token=<JWT>, from `herald token --sub alice`): it is
  // never sent to the server in a URL, and lets the page publish where the server asks for one.
  const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? undefined;
  herald = new Herald(location.origin, { token, transports: transportChoice() });

  herald.on('connecting', ({ transport, attempt }) => {
    setBadge(transport);
    if (everConnected || attempt > 1) {
      setStatus('reconnecting', 'Reconnecting…');
      // The last failure's details stay in the tooltip while the next attempt runs.
      setBanner(`Reconnecting via ${TRANSPORTS[transport]} (attempt ${attempt})…`, 'warn', $('banner').dataset.detail ?? '');
    } else {
      setStatus('connecting', 'Connecting…');
    }
  });
  herald.on('connected', ({ transport }) => {
    setBadge(transport);
    setStatus('connected', 'Connected');
    setBanner('');
    everConnected = true;
  });
  herald.on('disconnected', ({ reason, code, retryInMs }) => {
    if (retryInMs === undefined) {
      setStatus('disconnected', 'Disconnected');
      return;
    }
    setStatus('reconnecting', 'Reconnecting…');
    const detail = code === undefined || reason.includes(String(code)) ? reason : `${reason} (${code})`;
    setBanner(`${connectionProblem({ reason, code })} Trying again in ${Math.max(1, Math.ceil(retryInMs / 1000))} s — messages sent meanwhile will appear.`, 'warn', detail);
  });
  herald.on('error', (error) => setBanner('Your sign-in could not be checked; the page keeps trying. Reloading it may help.', 'error', technical(error)));
}

$('transport').addEventListener('change', () => {
  localStorage.setItem(TRANSPORT_STORAGE, $('transport').value);
  // The SDK reconnects at once on the new transport and resumes every room from its position.
  herald?.setTransports(transportChoice());
});

// ---- rooms ----------------------------------------------------------------------------------

async function join(room) {
  if (rooms.has(room)) {
    show(room);
    return;
  }
  const entry = { room, channel: `chat:${room}`, seen: new Set(), items: [], unread: 0, subscription: null };
  rooms.set(room, entry);
  show(room);

  // The newest messages first, then follow from the newest offset: nothing falls between the
  // two, and the SDK never delivers one twice.
  let since = { epoch: '', offset: 0 };
  try {
    const page = await herald.history(entry.channel, { limit: HISTORY_ON_JOIN, reverse: true });
    for (const publication of [...page.publications].reverse()) add(entry, publication);
    since = { epoch: page.epoch, offset: page.top };
  } catch (error) {
    note(entry, 'Earlier messages could not be loaded, so only new ones are shown.', technical(error));
  }
  const subscription = herald.subscribe(entry.channel, { since });
  entry.subscription = subscription;
  subscription.on('publication', (publication) => add(entry, publication));
  subscription.on('reset', () => note(entry, 'Some messages are no longer in history and could not be shown.'));
  subscription.on('error', (error) => note(entry, roomRefusal(error), technical(error)));
  if (current === room) renderMessages();
}

function roomRefusal(error) {
  switch (error.code) {
    case 'unauthorized':
    case 'forbidden':
      return 'This server does not let you read this room.';
    case 'too_many_channels':
      return 'Too many rooms are open in this page for the server: this one cannot be followed.';
    default:
      return 'This room is not available right now.';
  }
}

/** Saves the rooms joined and the one shown, and puts that one in the address (?room=…). */
function remember() {
  localStorage.setItem(ROOMS_STORAGE, JSON.stringify([...rooms.keys()]));
  if (current === null) return;
  localStorage.setItem(ROOM_STORAGE, current);
  const url = new URL(location.href);
  url.searchParams.set('room', current);
  // replaceState keeps the fragment (#token=…) and adds no history entry per room switch.
  history.replaceState(null, '', url);
}

function show(room) {
  current = room;
  const entry = rooms.get(room);
  entry.unread = 0;
  $('room-title').textContent = `#${room}`;
  $('room-channel').textContent = entry.channel;
  $('message').placeholder = `Message #${room}`;
  renderRooms();
  renderMessages();
  remember();
}

function renderRooms() {
  const items = [];
  for (const entry of rooms.values()) {
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.room = entry.room;
    button.append(`#${entry.room}`);
    if (entry.room === current) button.setAttribute('aria-current', 'true');
    if (entry.unread > 0) {
      const unread = document.createElement('span');
      unread.className = 'unread';
      unread.textContent = String(entry.unread);
      unread.setAttribute('aria-label', `${entry.unread} unread`);
      button.append(unread);
    }
    button.addEventListener('click', () => {
      show(entry.room);
      $('message').focus();
    });
    const item = document.createElement('li');
    item.append(button);
    items.push(item);
  }
  $('room-list').replaceChildren(...items);
}

// ---- messages -------------------------------------------------------------------------------

/** Adds one publication to its room, once: keyed by (epoch, offset), as the log names it. */
function add(entry, publication) {
  const key = `${publication.epoch}:${publication.offset}`;
  if (entry.seen.has(key)) return;
  entry.seen.add(key);
  entry.items.push({ kind: 'message', publication });
  if (entry.room === current) {
    append(render(entry.items.at(-1)));
  } else {
    entry.unread += 1;
    renderRooms();
  }
}

function note(entry, text, detail = '') {
  entry.items.push({ kind: 'note', text, detail });
  if (entry.room === current) append(render(entry.items.at(-1)));
}

function renderMessages() {
  const list = $('messages');
  const entry = rooms.get(current);
  list.setAttribute('aria-busy', 'true');
  list.replaceChildren(...entry.items.map(render));
  if (entry.items.length === 0) list.append(emptyHint());
  list.scrollTop = list.scrollHeight;
  list.setAttribute('aria-busy', 'false');
}

function emptyHint() {
  const item = document.createElement('li');
  item.className = 'empty';
  item.textContent = 'No messages yet — say hello!';
  return item;
}

function append(item) {
  const list = $('messages');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  list.querySelector(':scope > .empty')?.remove();
  list.append(item);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function render(item) {
  const element = document.createElement('li');
  if (item.kind === 'note') {
    element.className = 'history-mark';
    element.textContent = item.text;
    if (item.detail) element.title = `Details: ${item.detail}`;
    return element;
  }
  const { publication } = item;
  const data = publication.data ?? {};
  // `from` is the server's word (a user token); `name` is what an anonymous sender typed.
  const author = publication.from ?? (typeof data.name === 'string' ? data.name : 'someone');
  const text = typeof data.text === 'string' ? data.text : JSON.stringify(publication.data);
  element.className = author === me ? 'message mine' : 'message';
  element.dataset.offset = String(publication.offset);

  const meta = document.createElement('div');
  meta.className = 'meta';
  const who = document.createElement('span');
  who.className = 'author';
  who.textContent = author;
  const when = document.createElement('time');
  when.dateTime = publication.time;
  when.textContent = clock.format(new Date(publication.time));
  meta.append(who, when);

  const body = document.createElement('p');
  body.className = 'text';
  body.textContent = text;
  element.append(meta, body);
  return element;
}

// ---- forms ----------------------------------------------------------------------------------

function roomError(room) {
  return ROOM_PATTERN.test(room) ? '' : 'A room name is 1–64 letters, digits or _ - . = @ ~ (no spaces).';
}

$('welcome-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = $('name').value.trim();
  const room = $('room').value.trim();
  const error = name === '' ? 'Pick a name (up to 32 characters).' : roomError(room);
  $('welcome-error').textContent = error;
  if (error !== '') {
    (name === '' ? $('name') : $('room')).focus();
    return;
  }
  localStorage.setItem(NAME_STORAGE, name);
  enter(name, [...savedRooms(), room], room);
});

/** Into the chat as `name`: connects, joins `list` and shows `room`. */
function enter(name, list, room) {
  me = name;
  $('me').textContent = name;
  $('welcome').hidden = true;
  $('chat').hidden = false;
  connect();
  // In the order they were joined, so the room list reads the same after a reload.
  for (const each of new Set([...list, room])) join(each);
  show(room);
  $('message').focus();
}

/** The rooms saved by an earlier visit, the valid ones. */
function savedRooms() {
  try {
    const list = JSON.parse(localStorage.getItem(ROOMS_STORAGE) ?? '[]');
    return Array.isArray(list) ? list.filter((r) => typeof r === 'string' && ROOM_PATTERN.test(r)) : [];
  } catch {
    return [];
  }
}

$('change-name').addEventListener('click', () => {
  // Back to the welcome form, the rooms kept: the next join as the new name rejoins them.
  localStorage.removeItem(NAME_STORAGE);
  location.reload();
});

$('join-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const room = $('join-room').value.trim();
  const error = roomError(room);
  $('join-error').textContent = error;
  if (error !== '') return;
  $('join-room').value = '';
  join(room);
  $('message').focus();
});

$('composer').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = $('message');
  const text = input.value.trim();
  if (text === '' || current === null) return;
  const length = characters(text);
  if (length > MAX_MESSAGE_CHARS) {
    sendError(`Not sent: this message is ${count.format(length)} characters long, and messages here are at most ` +
      `${count.format(MAX_MESSAGE_CHARS)}. Nothing was cut — shorten it and send again.`, `limit of this page: ${MAX_MESSAGE_CHARS} characters`);
    input.focus();
    return;
  }
  const channel = rooms.get(current).channel;
  $('send').disabled = true;
  sendError('');
  try {
    await herald.publish(channel, { name: me, text }, { type: 'message' });
    input.value = '';
    updateCount();
  } catch (error) {
    sendError(explain(error), technical(error));
  } finally {
    $('send').disabled = false;
    input.focus();
  }
});

$('message').addEventListener('input', updateCount);

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

function sendError(text, detail = '') {
  const element = $('send-error');
  element.textContent = text;
  element.title = detail === '' ? '' : `Details: ${detail}`;
  element.dataset.detail = detail;
}

/** A refused or failed publish, in words; the code stays in the tooltip (technical). */
function explain(error) {
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

/** The SDK's code, status and message: what a developer needs, kept out of the sentence. */
function technical(error) {
  return [error.code, error.status, error.message].filter((part) => part !== undefined && part !== '').join(' · ');
}

// ---- start ----------------------------------------------------------------------------------

const savedName = localStorage.getItem(NAME_STORAGE) ?? '';
const savedTransport = localStorage.getItem(TRANSPORT_STORAGE);
if (savedTransport !== null && [...$('transport').options].some((o) => o.value === savedTransport)) {
  $('transport').value = savedTransport;
}
// The room in the address (a shared link, a reload) wins over the one shown last.
const linked = new URLSearchParams(location.search).get('room');
const savedRoom = localStorage.getItem(ROOM_STORAGE);
const startRoom = [linked, savedRoom].find((r) => r !== null && ROOM_PATTERN.test(r)) ?? null;
$('name').value = savedName;
if (startRoom !== null) $('room').value = startRoom;
if (savedName !== '' && startRoom !== null) {
  // Back where this browser left off: same name, rooms and transport.
  enter(savedName, savedRooms(), startRoom);
} else if (savedName !== '') {
  $('room').focus();
}
