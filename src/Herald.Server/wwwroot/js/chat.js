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
const NAME_STORAGE = 'herald.name';
const TRANSPORT_STORAGE = 'herald.transport';

const $ = (id) => document.getElementById(id);
const clock = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit' });

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

function setBanner(text, kind = 'warn') {
  const banner = $('banner');
  banner.hidden = text === '';
  banner.className = `banner ${kind}`;
  banner.textContent = text;
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
      setBanner(`Reconnecting via ${TRANSPORTS[transport]} (attempt ${attempt})…`);
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
  herald.on('disconnected', ({ reason, retryInMs }) => {
    if (retryInMs === undefined) {
      setStatus('disconnected', 'Disconnected');
      return;
    }
    setStatus('reconnecting', 'Reconnecting…');
    setBanner(`Connection lost (${reason}). Reconnecting in ${Math.max(1, Math.ceil(retryInMs / 1000))} s — messages sent meanwhile will appear.`);
  });
  herald.on('error', (error) => setBanner(error.message, 'error'));
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
    note(entry, `History could not be read (${error.message}); showing new messages only.`);
  }
  const subscription = herald.subscribe(entry.channel, { since });
  entry.subscription = subscription;
  subscription.on('publication', (publication) => add(entry, publication));
  subscription.on('reset', () => note(entry, 'Some messages are no longer in history and could not be shown.'));
  subscription.on('error', (error) => note(entry, `This room is not available: ${error.message}`));
  if (current === room) renderMessages();
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

function note(entry, text) {
  entry.items.push({ kind: 'note', text });
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
  me = name;
  localStorage.setItem(NAME_STORAGE, name);
  $('me').textContent = name;
  $('welcome').hidden = true;
  $('chat').hidden = false;
  connect();
  join(room);
  $('message').focus();
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
  const channel = rooms.get(current).channel;
  $('send').disabled = true;
  $('send-error').textContent = '';
  try {
    await herald.publish(channel, { name: me, text }, { type: 'message' });
    input.value = '';
  } catch (error) {
    $('send-error').textContent = explain(error);
  } finally {
    $('send').disabled = false;
    input.focus();
  }
});

function explain(error) {
  if (error.code === 'unauthorized' || error.code === 'forbidden') {
    return 'Not sent: this server does not let visitors publish to chat rooms. Start it with `dotnet run` ' +
      '(the demo settings), set Herald:Namespaces:chat:Publish, or open this page with #token=<user token>.';
  }
  return `Not sent: ${error.message}`;
}

// ---- start ----------------------------------------------------------------------------------

$('name').value = localStorage.getItem(NAME_STORAGE) ?? '';
const savedTransport = localStorage.getItem(TRANSPORT_STORAGE);
if (savedTransport !== null && [...$('transport').options].some((o) => o.value === savedTransport)) {
  $('transport').value = savedTransport;
}
if ($('name').value !== '') $('room').focus();
