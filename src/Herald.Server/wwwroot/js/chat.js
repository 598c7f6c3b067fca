// The demo chat: rooms are channels `chat:<room>`, each message `{name, text}`; direct messages
// are `dm:<a>~<b>`. Who is online (presence), who is typing and the "open a DM" nudge (a signal)
// come with each room's subscription; a signed-in user's unread and mention badges come from the
// SDK's unread tracker (read markers kept by the server, synced across the user's devices).
// Everything that moves goes through herald-client.js (the SDK); this file only draws it.

import { Herald, DEFAULT_TRANSPORTS, directChannel } from './herald-client.js';

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
// The people a signed-in user has direct messages with, per user (one browser, several tokens).
const DMS_STORAGE = 'herald.dms.';
// `@name` in a message mentions that user: a user id up to the next space, without the
// punctuation that ends a sentence ("thanks @bob!"). The server takes at most 50 per message.
const MENTION = /(?:^|\s)@([^\s@]+)/g;
const MAX_MENTIONS = 50;

const $ = (id) => document.getElementById(id);
const clock = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit' });
const count = new Intl.NumberFormat();

/**
 * Rooms and direct messages, by channel: `room` is the room's name (`lobby`) or, for a direct
 * message, null with `peer` the other user. `marked`: the newest position this page marked read.
 * @type {Map<string, {room: string | null, peer: string | null, channel: string, seen: Set<string>, items: object[], subscription: object | null, typing: {users: string[], total: number}, marked: {epoch: string, offset: number} | null, marking: boolean}>}
 */
const rooms = new Map();
let current = null;
let me = '';
let herald = null;
// The unread tracker: signed-in users only (guests have no read markers, and no badges).
let unread = null;
let everConnected = false;
// A user token may come in the fragment (#token=<JWT>, from `herald token --sub alice`): it is
// never sent to the server in a URL by the page, and makes the page a user — listed as online,
// shown typing, able to publish where the server asks for a token and to open direct messages.
const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? undefined;
const signedIn = tokenSubject(token);

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

/** The token's `sub` (who the server says we are), read from its payload; null without a readable token. */
function tokenSubject(jwt) {
  try {
    const payload = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const sub = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0)))).sub;
    return typeof sub === 'string' && sub !== '' ? sub : null;
  } catch {
    return null;
  }
}

function connect() {
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
    unread = herald.unreadTracker({ user: signedIn });
    unread.on('change', ({ channel }) => {
      if (rooms.has(channel)) renderRooms();
    });
  }
}

$('transport').addEventListener('change', () => {
  localStorage.setItem(TRANSPORT_STORAGE, $('transport').value);
  // The SDK reconnects at once on the new transport and resumes every room from its position.
  herald?.setTransports(transportChoice());
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
  if (rooms.has(channel)) {
    if (visible) show(channel);
    return;
  }
  const entry = { room, peer, channel, seen: new Set(), items: [], subscription: null, typing: { users: [], total: 0 }, marked: null, marking: false };
  rooms.set(channel, entry);
  if (visible) show(channel);
  else renderRooms();

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
  const subscription = herald.subscribe(entry.channel, { since, presence: 'list' });
  entry.subscription = subscription;
  subscription.on('publication', (publication) => add(entry, publication));
  subscription.on('reset', () => note(entry, 'Some messages are no longer in history and could not be shown.'));
  subscription.on('error', (error) => note(entry, roomRefusal(error), technical(error)));
  subscription.on('presence', () => {
    if (current === entry.channel) renderPeople();
  });
  subscription.on('typing', ({ users, total }) => {
    entry.typing = { users, total };
    if (current === entry.channel) renderTyping();
  });
  subscription.on('signal', (signal) => received(signal));
  if (current === entry.channel) renderMessages();
}

/** Someone opened a direct message with us from a room we share (their page's nudge): follow it too. */
function received({ name, from, data }) {
  if (name !== 'dm' || signedIn === null || from === undefined || from === me || data?.to !== me) return;
  openDirect(from, false).catch(() => undefined);
}

/** The direct message with `peer`: its canonical channel (`dm:` + both ids, sorted), asked of the server when the ids cannot be listed in a name. */
async function openDirect(peer, visible) {
  let channel;
  try {
    channel = directChannel([me, peer]);
  } catch {
    channel = (await herald.direct([me, peer])).channel;
  }
  await follow({ room: null, peer, channel }, visible);
  rememberDirect();
}

/** "Message" next to someone online: open the direct message, and nudge their pages in this room to open it too. */
async function startDirect(peer) {
  const from = rooms.get(current);
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
  localStorage.setItem(ROOMS_STORAGE, JSON.stringify([...rooms.values()].filter((e) => e.room !== null).map((e) => e.room)));
  const room = rooms.get(current)?.room;
  if (room === undefined || room === null) return;
  localStorage.setItem(ROOM_STORAGE, room);
  const url = new URL(location.href);
  url.searchParams.set('room', room);
  // replaceState keeps the fragment (#token=…) and adds no history entry per room switch.
  history.replaceState(null, '', url);
}

function rememberDirect() {
  if (signedIn === null) return;
  localStorage.setItem(DMS_STORAGE + me, JSON.stringify([...rooms.values()].filter((e) => e.peer !== null).map((e) => e.peer)));
}

/** The people this user had direct messages with (signed in only). */
function savedDirects() {
  if (signedIn === null) return [];
  try {
    const list = JSON.parse(localStorage.getItem(DMS_STORAGE + me) ?? '[]');
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
  current = channel;
  const entry = rooms.get(channel);
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
  const entry = rooms.get(current);
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
  if (marked && current === entry.channel) markShown();
}

/** The newest message of a room (its position), or null. */
function newestMessage(entry) {
  for (let i = entry.items.length - 1; i >= 0; i--) {
    if (entry.items[i].kind === 'message') return entry.items[i].publication;
  }
  return null;
}

document.addEventListener('visibilitychange', () => markShown());

function renderRooms() {
  // Counts change while someone tabs through the list: the button in focus keeps it.
  const focused = document.activeElement?.closest?.('#room-list button');
  const refocus = focused ? (focused.dataset.room !== undefined ? `[data-room="${CSS.escape(focused.dataset.room)}"]` : `[data-dm="${CSS.escape(focused.dataset.dm)}"]`) : null;
  const items = [];
  for (const entry of rooms.values()) {
    const button = document.createElement('button');
    button.type = 'button';
    if (entry.room !== null) button.dataset.room = entry.room;
    else button.dataset.dm = entry.peer;
    button.append(label(entry));
    if (entry.channel === current) button.setAttribute('aria-current', 'true');
    else badge(button, unread?.get(entry.channel));
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

// ---- who is online, who is typing ----------------------------------------------------------

/** The current room's presence: who is listed (users with a token), and how many connections in all (guests included). */
function renderPeople() {
  const entry = rooms.get(current);
  const presence = entry?.subscription?.presence ?? null;
  const items = [];
  let count = '';
  let hint = '';
  if (presence === null || presence.mode === null) {
    hint = 'Looking who is here…';
  } else if (presence.mode === 'off') {
    const polling = herald?.transport === 'longpoll' || herald?.transport === 'poll';
    hint = polling && signedIn === null
      ? 'Over polling, only signed-in visitors (#token=…) take part in who is online.'
      : 'This server does not share who is online in this room.';
  } else {
    const { users, connections } = presence.count;
    // Guests are connections without a user: the server counts them, it does not list them.
    if (users === 0) count = connections === 0 ? 'Nobody online' : `${connections} ${connections === 1 ? 'guest' : 'guests'} online`;
    else count = `${users} online` + (connections > users ? ` · ${connections} connections, guests included` : '');
    const members = [...presence.members].sort((a, b) => a.user.localeCompare(b.user));
    for (const member of members) items.push(person(member.user));
    if (signedIn === null) hint = 'You are a guest: counted, not listed. Open the page with #token=<user token> to be listed.';
    else if (entry.room !== null && members.length < 2) hint = 'Nobody else is signed in here yet.';
  }
  $('online-count').textContent = count;
  $('people').replaceChildren(...items);
  $('people-hint').textContent = hint;
}

function person(user) {
  const item = document.createElement('li');
  item.dataset.user = user;
  const name = document.createElement('span');
  name.className = 'person';
  name.append(user);
  item.append(name);
  if (user === me) {
    const you = document.createElement('span');
    you.className = 'you';
    you.textContent = '(you)';
    name.append(' ', you);
  } else if (signedIn !== null && rooms.get(current)?.room !== null) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'link';
    button.dataset.dm = user;
    button.textContent = 'Message';
    button.setAttribute('aria-label', `Message ${user} directly`);
    button.addEventListener('click', () => startDirect(user));
    item.append(button);
  }
  return item;
}

/** "bob is typing…", "bob and carol are typing…", "bob, carol and 3 others are typing…" — never ourselves. */
function renderTyping() {
  const { users, total } = rooms.get(current)?.typing ?? { users: [], total: 0 };
  const others = users.filter((u) => u !== me);
  const count = total - (users.length - others.length);
  let text = '';
  if (count === 1) text = `${others[0] ?? 'someone'} is typing…`;
  else if (count === 2 && others.length === 2) text = `${others[0]} and ${others[1]} are typing…`;
  else if (count >= 2) text = `${others.slice(0, 2).join(', ')} and ${count - Math.min(2, others.length)} others are typing…`;
  const line = $('typing');
  if (line.textContent !== text) line.textContent = text;
}

// ---- messages -------------------------------------------------------------------------------

/** Adds one publication to its room, once: keyed by (epoch, offset), as the log names it. */
function add(entry, publication) {
  const key = `${publication.epoch}:${publication.offset}`;
  if (entry.seen.has(key)) return;
  entry.seen.add(key);
  entry.items.push({ kind: 'message', publication });
  if (entry.channel === current) {
    append(render(entry.items.at(-1)));
    markShown();
  }
}

function note(entry, text, detail = '') {
  entry.items.push({ kind: 'note', text, detail });
  if (entry.channel === current) append(render(entry.items.at(-1)));
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
  const mentionsMe = signedIn !== null && author !== me && publication.meta?.mentions?.includes(me) === true;
  if (mentionsMe) element.classList.add('mentions-me');

  const meta = document.createElement('div');
  meta.className = 'meta';
  const who = document.createElement('span');
  who.className = 'author';
  who.textContent = author;
  const when = document.createElement('time');
  when.dateTime = publication.time;
  when.textContent = clock.format(new Date(publication.time));
  meta.append(who, when);
  if (mentionsMe) {
    const tag = document.createElement('span');
    tag.className = 'mention-tag';
    tag.textContent = 'mentions you';
    meta.append(tag);
  }

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

/** Into the chat as `name` (or the token's user): connects, joins `list` and shows `room`. */
function enter(name, list, room) {
  me = signedIn ?? name;
  $('me').textContent = me;
  $('welcome').hidden = true;
  $('chat').hidden = false;
  connect();
  // In the order they were joined, so the room list reads the same after a reload.
  for (const each of new Set([...list, room])) join(each);
  for (const peer of savedDirects()) if (peer !== me) openDirect(peer, false).catch(() => undefined);
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
  const channel = current;
  $('send').disabled = true;
  sendError('');
  try {
    const mentions = mentioned(text);
    await herald.publish(channel, { name: me, text }, { type: 'message', ...(mentions.length === 0 ? {} : { mentions }) });
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
  const subscription = rooms.get(current)?.subscription;
  if (signedIn === null || subscription == null) return;
  if ($('message').value.trim() === '') subscription.stopTyping();
  else subscription.typing();
});

/** The users a message mentions with `@name`, each once, not the sender. */
function mentioned(text) {
  const users = new Set();
  for (const [, raw] of text.matchAll(MENTION)) {
    const user = raw.replace(/[.,;:!?)\]}'"]+$/, '');
    if (user !== '' && user !== me && [...user].length <= 256) users.add(user);
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
