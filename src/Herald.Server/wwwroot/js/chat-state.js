// What the demo chat's modules share: the page's elements, who the user is, the client and the
// rooms. chat.js fills it in; the other modules read it (and draw or act on it).

export const $ = (id) => document.getElementById(id);
export const clock = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit' });
export const count = new Intl.NumberFormat();

// A user token may come in the fragment (#token=<JWT>, from `herald token --sub alice`): it is
// never sent to the server in a URL by the page, and makes the page a user — listed as online,
// shown typing, able to publish where the server asks for a token and to open direct messages,
// to edit and delete their own messages and to react.
export const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? undefined;
export const signedIn = tokenSubject(token);

export const state = {
  /** The Herald client (herald-client.js), once the user entered the chat. */
  herald: null,
  /** Who the user is: the token's `sub`, else the name typed. */
  me: '',
  /** The channel shown. */
  current: null,
  /** The unread tracker: signed-in users only (guests have no read markers, and no badges). */
  unread: null,
  /**
   * Rooms and direct messages, by channel: `room` is the room's name (`lobby`) or, for a direct
   * message, null with `peer` the other user. `view`: the SDK's LatestView, the room's messages
   * with their edits, deletes, reactions and threads folded in; `items`: what the room shows, in
   * order (messages, by `epoch:offset` in `byKey`, and notes). `marked`: the newest position this
   * page marked read.
   * @type {Map<string, {room: string | null, peer: string | null, channel: string, view: object, items: object[], byKey: Map<string, object>, subscription: object | null, typing: {users: string[], total: number}, marked: {epoch: string, offset: number} | null, marking: boolean}>}
   */
  rooms: new Map(),
  /** The user's message being edited in place: `{channel, offset, draft}`; null when none is. */
  editing: null,
};

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

/** The SDK's code, status and message: what a developer needs, kept out of the sentence. */
export function technical(error) {
  return [error.code, error.status, error.message].filter((part) => part !== undefined && part !== '').join(' · ');
}
