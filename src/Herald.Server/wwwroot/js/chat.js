// The demo chat: rooms are channels `chat:<room>`, each message `{name, text}`; direct messages
// are `dm:<a>~<b>`. Who is online (presence), who is typing and the "open a DM" nudge (a signal)
// come with each room's subscription; a signed-in user's unread and mention badges come from the
// SDK's unread tracker (read markers kept by the server, synced across the user's devices). Edits,
// deletes, reactions and thread summaries are publications of the room too, folded into its
// messages by the SDK's LatestView (chat-messages.js); the buttons that make them and the thread
// panel are chat-actions.js's. A direct message shows whether the user's newest message was
// delivered and seen (receipts, chat-receipts.js). Everything that moves goes through
// herald-client.js (the SDK); these files only draw it. This one: the connection, the rooms, read
// markers, the forms.

import { Herald, DEFAULT_TRANSPORTS, directChannel } from './herald-client.js';
import { $, signedIn, state, technical, token } from './chat-state.js';
import { addMessage, addNote, createLog, drawLog, foldPublication } from './chat-messages.js';
import { renderPeople as drawPeople, renderTyping } from './chat-people.js';
import { roomMessageChanged, roomShown } from './chat-actions.js';
import { drawReceipt } from './chat-receipts.js';
import './chat-composer.js';

const TRANSPORTS = {
  ws: 'WebSocket',
  sse: 'Server-Sent Events',
  stream: 'HTTP streaming',
  longpoll: 'Long polling',
  poll: 'Short polling',
};
// The newest 50 messages of a room are shown on joining; older ones stay in the channel's log.
const HISTORY_ON_JOIN = 50;
// The publications read on joining, to fold: the chat namespace's whole history (HistorySize 500),
// so every edit, delete and reaction of a message shown is among them (an action always follows
// its message in the log).
const HISTORY_WINDOW = 500;
const ROOM_PATTERN = /^[A-Za-z0-9_\-.=@~]{1,64}$/;
const NAME_STORAGE = 'herald.name';
const TRANSPORT_STORAGE = 'herald.transport';
// The rooms joined and the one shown, so a reload comes back to them; the shown one is in the
// address too (?room=help), to bookmark or share.
const ROOMS_STORAGE = 'herald.rooms';
const ROOM_STORAGE = 'herald.room';
// The people a signed-in user has direct messages with, per user (one browser, several tokens).
const DMS_STORAGE = 'herald.dms.';

let everConnected = false;
const renderPeople = () => drawPeople(startDirect);

// ---- connection state: the badge, the status and the reconnect banner ------------------------

function setStatus(connection, text) {
  // The text sits in a live region: rewriting it unchanged would announce it again.
  if ($('connection').dataset.state === connection && $('status-text').textContent === text) return;
  $('connection').dataset.state = connection;
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
  const herald = new Herald(location.origin, { token, transports: transportChoice() });
  state.herald = herald;

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
    renderPeople();
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
  if (signedIn !== null) {
    state.unread = herald.unreadTracker({ user: signedIn });
    state.unread.on('change', ({ channel }) => {
      if (state.rooms.has(channel)) renderRooms();
    });
  }
}

$('transport').addEventListener('change', () => {
  localStorage.setItem(TRANSPORT_STORAGE, $('transport').value);
  // The SDK reconnects at once on the new transport and resumes every room from its position.
  state.herald?.setTransports(transportChoice());
});

// ---- rooms ----------------------------------------------------------------------------------

/** Joins the room `chat:<room>` and shows it. */
function join(room) {
  return follow({ room, peer: null, channel: `chat:${room}` }, true);
}

/**
 * Follows a room or a direct message: the newest messages, then live, with who is online and
 * who is typing. `visible`: shown at once (else it waits in the list with an unread count).
 */
async function follow({ room, peer, channel }, visible) {
  if (state.rooms.has(channel)) {
    if (visible) show(channel);
    return;
  }
  const entry = { ...createLog(channel), room, peer, subscription: null, typing: { users: [], total: 0 }, marked: null, marking: false };
  state.rooms.set(channel, entry);
  if (visible) show(channel);
  else renderRooms();

  // The newest publications first, folded, then follow from the newest offset: nothing falls
  // between the two, and the SDK never delivers one twice.
  let since = { epoch: '', offset: 0 };
  try {
    const page = await state.herald.history(entry.channel, { limit: HISTORY_WINDOW, reverse: true });
    for (const publication of [...page.publications].reverse()) entry.view.add(publication);
    for (const message of entry.view.messages.slice(-HISTORY_ON_JOIN)) addMessage(entry, message, null);
    since = { epoch: page.epoch, offset: page.top };
    // What history brought reached this device too: the other members are shown it delivered (the
    // subscription marks what it delivers by itself).
    if (peer !== null && page.publications.some((p) => p.from !== undefined && p.from !== state.me)) {
      state.herald.markDelivered(entry.channel, { offset: page.top, epoch: page.epoch }).catch(() => undefined);
    }
  } catch (error) {
    addNote(entry, 'Earlier messages could not be loaded, so only new ones are shown.', technical(error), null);
  }
  const shown = () => (state.current === entry.channel ? $('messages') : null);
  // Direct messages show "Delivered" and "Seen": their receipts come with the subscription.
  const subscription = state.herald.subscribe(entry.channel, { since, presence: 'list', ...(peer === null ? {} : { receipts: true }) });
  entry.subscription = subscription;
  subscription.on('publication', (publication) => {
    const change = foldPublication(entry, publication, shown());
    if (change?.added && state.current === entry.channel) markShown();
    else if (change !== null) roomMessageChanged(entry.channel, change.message);
    if (change !== null && state.current === entry.channel) drawReceipt($('messages'), entry);
  });
  subscription.on('receipts', () => {
    if (state.current === entry.channel) drawReceipt($('messages'), entry);
  });
  subscription.on('reset', () => addNote(entry, 'Some messages are no longer in history and could not be shown.', '', shown()));
  subscription.on('error', (error) => addNote(entry, roomRefusal(error), technical(error), shown()));
  subscription.on('presence', () => {
    if (state.current === entry.channel) renderPeople();
  });
  subscription.on('typing', ({ users, total }) => {
    entry.typing = { users, total };
    if (state.current === entry.channel) renderTyping();
  });
  subscription.on('signal', (signal) => received(signal));
  if (state.current === entry.channel) {
    renderMessages();
    markShown();
  }
}

/** Someone opened a direct message with us from a room we share (their page's nudge): follow it too. */
function received({ name, from, data }) {
  if (name !== 'dm' || signedIn === null || from === undefined || from === state.me || data?.to !== state.me) return;
  openDirect(from, false).catch(() => undefined);
}

/** The direct message with `peer`: its canonical channel (`dm:` + both ids, sorted), asked of the server when the ids cannot be listed in a name. */
async function openDirect(peer, visible) {
  let channel;
  try {
    channel = directChannel([state.me, peer]);
  } catch {
    channel = (await state.herald.direct([state.me, peer])).channel;
  }
  await follow({ room: null, peer, channel }, visible);
  rememberDirect();
}

/** "Message" next to someone online: open the direct message, and nudge their pages in this room to open it too. */
async function startDirect(peer) {
  const from = state.rooms.get(state.current);
  // Signals reach the pages on WebSocket, SSE and streaming; a page on polling opens it from its own list.
  from?.subscription?.signal('dm', { to: peer }).catch(() => undefined);
  await openDirect(peer, true);
  $('message').focus();
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
  localStorage.setItem(ROOMS_STORAGE, JSON.stringify([...state.rooms.values()].filter((e) => e.room !== null).map((e) => e.room)));
  const room = state.rooms.get(state.current)?.room;
  if (room === undefined || room === null) return;
  localStorage.setItem(ROOM_STORAGE, room);
  const url = new URL(location.href);
  url.searchParams.set('room', room);
  // replaceState keeps the fragment (#token=…) and adds no history entry per room switch.
  history.replaceState(null, '', url);
}

function rememberDirect() {
  if (signedIn === null) return;
  localStorage.setItem(DMS_STORAGE + state.me, JSON.stringify([...state.rooms.values()].filter((e) => e.peer !== null).map((e) => e.peer)));
}

/** The people this user had direct messages with (signed in only). */
function savedDirects() {
  if (signedIn === null) return [];
  try {
    const list = JSON.parse(localStorage.getItem(DMS_STORAGE + state.me) ?? '[]');
    return Array.isArray(list) ? list.filter((p) => typeof p === 'string' && p !== '') : [];
  } catch {
    return [];
  }
}

/** `#lobby` for a room, `@bob` for a direct message. */
function label(entry) {
  return entry.room !== null ? `#${entry.room}` : `@${entry.peer}`;
}

function show(channel) {
  state.current = channel;
  const entry = state.rooms.get(channel);
  roomShown(channel);
  $('room-title').textContent = label(entry);
  $('room-channel').textContent = entry.channel;
  // Mentions reach signed-in users' badges: the hint is for those who have them.
  $('message').placeholder = `Message ${label(entry)}` + (signedIn === null ? '' : ' — @name to mention');
  renderRooms();
  renderMessages();
  renderPeople();
  renderTyping();
  remember();
  markShown();
}

// ---- read markers ---------------------------------------------------------------------------

/**
 * The room on screen is read up to its newest message shown: its marker moves there (the server
 * tells the user's other devices, whose badges clear). Not while the page is hidden — nobody reads
 * it — and one mark at a time per room, the newest last.
 */
async function markShown() {
  const { unread } = state;
  const entry = state.rooms.get(state.current);
  if (unread === null || entry === undefined || document.visibilityState !== 'visible') return;
  const newest = newestMessage(entry);
  if (newest === null || entry.marking) return;
  // Read already: marked here, or the server's marker (another device, or an earlier visit).
  const read = entry.marked ?? unread.get(entry.channel)?.read ?? null;
  const epoch = entry.marked?.epoch ?? unread.get(entry.channel)?.epoch;
  if (read !== null && epoch === newest.epoch && read.offset >= newest.offset) return;
  entry.marking = true;
  let marked = false;
  try {
    await unread.markRead(entry.channel, { offset: newest.offset, epoch: newest.epoch });
    entry.marked = { epoch: newest.epoch, offset: newest.offset };
    marked = true;
  } catch {
    // The badge stays: the next message shown (or the next visit) marks again.
  } finally {
    entry.marking = false;
  }
  // A message that arrived during the mark.
  if (marked && state.current === entry.channel) markShown();
}

/** The newest message of a room (its position), or null. */
function newestMessage(entry) {
  for (let i = entry.items.length - 1; i >= 0; i--) {
    if (entry.items[i].kind === 'message') return entry.items[i].message;
  }
  return null;
}

document.addEventListener('visibilitychange', () => markShown());

function renderRooms() {
  // Counts change while someone tabs through the list: the button in focus keeps it.
  const focused = document.activeElement?.closest?.('#room-list button');
  const refocus = focused ? (focused.dataset.room !== undefined ? `[data-room="${CSS.escape(focused.dataset.room)}"]` : `[data-dm="${CSS.escape(focused.dataset.dm)}"]`) : null;
  const items = [];
  for (const entry of state.rooms.values()) {
    const button = document.createElement('button');
    button.type = 'button';
    if (entry.room !== null) button.dataset.room = entry.room;
    else button.dataset.dm = entry.peer;
    button.append(label(entry));
    if (entry.channel === state.current) button.setAttribute('aria-current', 'true');
    else badge(button, state.unread?.get(entry.channel));
    button.addEventListener('click', () => {
      show(entry.channel);
      $('message').focus();
    });
    const item = document.createElement('li');
    item.append(button);
    items.push(item);
  }
  $('room-list').replaceChildren(...items);
  if (refocus !== null) $('room-list').querySelector(`button${refocus}`)?.focus();
}

/**
 * The count of unread messages of a room not shown, as a badge; one that mentions the user is
 * marked with an @. The number is drawn for the eye and said in words for screen readers.
 */
function badge(button, count) {
  if (count === undefined || count.unread === 0) return;
  const mentions = count.mentions.length;
  const element = document.createElement('span');
  element.className = mentions > 0 ? 'unread mention' : 'unread';
  element.dataset.unread = String(count.unread);
  element.dataset.mentions = String(mentions);
  const shown = document.createElement('span');
  shown.setAttribute('aria-hidden', 'true');
  shown.textContent = (mentions > 0 ? '@ ' : '') + (count.unread > 99 ? '99+' : String(count.unread));
  const said = document.createElement('span');
  said.className = 'visually-hidden';
  said.textContent = `, ${count.unread} unread` + (mentions > 0 ? `, ${mentions} ${mentions === 1 ? 'mention' : 'mentions'} of you` : '');
  element.append(shown, said);
  element.title = said.textContent.slice(2);
  button.append(element);
}


// ---- messages -------------------------------------------------------------------------------

function renderMessages() {
  const entry = state.rooms.get(state.current);
  drawLog($('messages'), entry, 'No messages yet — say hello!');
  drawReceipt($('messages'), entry);
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

/** Into the chat as `name` (or the token's user): connects, joins `list` and shows `room`. */
function enter(name, list, room) {
  state.me = signedIn ?? name;
  $('me').textContent = state.me;
  $('welcome').hidden = true;
  $('chat').hidden = false;
  connect();
  // In the order they were joined, so the room list reads the same after a reload.
  for (const each of new Set([...list, room])) join(each);
  for (const peer of savedDirects()) if (peer !== state.me) openDirect(peer, false).catch(() => undefined);
  show(`chat:${room}`);
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
$('name').value = signedIn ?? savedName;
if (startRoom !== null) $('room').value = startRoom;
if (signedIn !== null) {
  // A signed-in user's name is the token's: the page shows it, and there is no other to change to.
  $('change-name').hidden = true;
}
if (savedName !== '' && startRoom !== null) {
  // Back where this browser left off: same name, rooms and transport.
  enter(savedName, savedRooms(), startRoom);
} else if (savedName !== '') {
  $('room').focus();
}
