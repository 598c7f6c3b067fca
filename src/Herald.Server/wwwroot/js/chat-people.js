// Who is online in the room shown (its presence list) and who is typing there.

import { $, signedIn, state } from './chat-state.js';

/**
 * The current room's presence: who is listed (users with a token), and how many connections in
 * all (guests included). `startDirect(user)`: what "Message" next to someone does.
 */
export function renderPeople(startDirect) {
  const entry = state.rooms.get(state.current);
  const presence = entry?.subscription?.presence ?? null;
  const items = [];
  let count = '';
  let hint = '';
  if (presence === null || presence.mode === null) {
    hint = 'Looking who is here…';
  } else if (presence.mode === 'off') {
    const polling = state.herald?.transport === 'longpoll' || state.herald?.transport === 'poll';
    hint = polling && signedIn === null
      ? 'Over polling, only signed-in visitors (#token=…) take part in who is online.'
      : 'This server does not share who is online in this room.';
  } else {
    const { users, connections } = presence.count;
    // Guests are connections without a user: the server counts them, it does not list them.
    if (users === 0) count = connections === 0 ? 'Nobody online' : `${connections} ${connections === 1 ? 'guest' : 'guests'} online`;
    else count = `${users} online` + (connections > users ? ` · ${connections} connections, guests included` : '');
    const members = [...presence.members].sort((a, b) => a.user.localeCompare(b.user));
    for (const member of members) items.push(person(member.user, startDirect));
    if (signedIn === null) hint = 'You are a guest: counted, not listed. Open the page with #token=<user token> to be listed.';
    else if (entry.room !== null && members.length < 2) hint = 'Nobody else is signed in here yet.';
  }
  $('online-count').textContent = count;
  $('people').replaceChildren(...items);
  $('people-hint').textContent = hint;
}

function person(user, startDirect) {
  const item = document.createElement('li');
  item.dataset.user = user;
  const name = document.createElement('span');
  name.className = 'person';
  name.append(user);
  item.append(name);
  if (user === state.me) {
    const you = document.createElement('span');
    you.className = 'you';
    you.textContent = '(you)';
    name.append(' ', you);
  } else if (signedIn !== null && state.rooms.get(state.current)?.room !== null) {
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
export function renderTyping() {
  const { users, total } = state.rooms.get(state.current)?.typing ?? { users: [], total: 0 };
  const others = users.filter((u) => u !== state.me);
  const count = total - (users.length - others.length);
  let text = '';
  if (count === 1) text = `${others[0] ?? 'someone'} is typing…`;
  else if (count === 2 && others.length === 2) text = `${others[0]} and ${others[1]} are typing…`;
  else if (count >= 2) text = `${others.slice(0, 2).join(', ')} and ${count - Math.min(2, others.length)} others are typing…`;
  const line = $('typing');
  if (line.textContent !== text) line.textContent = text;
}
