// The client's fold (LatestView): the rules of docs/protocol.md's latest view, as the server's own
// fold (Herald.Publishing.LatestView) applies them — edits, deletes, reactions under each policy,
// thread summaries, repeats skipped, actions about unknown or non-message offsets ignored.

import { describe, expect, it } from 'vitest';
import { LatestView, type LatestMessage, type Publication, type ReactionPolicy } from '../../src/index.js';

/** A channel's log, built publication by publication with contiguous offsets. */
class Log {
  readonly publications: Publication[] = [];

  message(from: string | undefined, data: unknown): number {
    return this.push(undefined, from, data);
  }

  edit(ref: number, data: unknown, from = 'alice'): number {
    return this.push('herald.edit', from, { ref, data });
  }

  delete(ref: number, from = 'alice'): number {
    return this.push('herald.delete', from, { ref });
  }

  react(ref: number, key: string, from: string | undefined): number {
    return this.push('herald.react', from, { ref, key });
  }

  unreact(ref: number, key: string, from: string | undefined): number {
    return this.push('herald.unreact', from, { ref, key });
  }

  thread(ref: number, replies: number): number {
    return this.push('herald.thread', undefined, { ref, replies, last: { offset: replies, time: this.time(this.publications.length + 1), from: 'bob' } });
  }

  push(type: string | undefined, from: string | undefined, data: unknown, epoch = 'E1'): number {
    const offset = this.publications.length + 1;
    this.publications.push({
      channel: 'chat:lobby',
      offset,
      epoch,
      id: `id${offset}`,
      time: this.time(offset),
      ...(from === undefined ? {} : { from }),
      ...(type === undefined ? { type: 'message' } : { type }),
      data,
    });
    return offset;
  }

  time(offset: number): string {
    return new Date(Date.UTC(2026, 0, 1, 12, 0, offset)).toISOString();
  }

  fold(reactions?: ReactionPolicy, usersListed?: number): LatestView {
    const view = new LatestView({ ...(reactions === undefined ? {} : { reactions }), ...(usersListed === undefined ? {} : { usersListed }) });
    for (const p of this.publications) view.add(p);
    return view;
  }
}

const reactions = (m: LatestMessage | undefined) => m?.reactions?.map((r) => `${r.key}:${r.count}:${r.users.join('+')}`) ?? [];

describe('LatestView', () => {
  it('keeps messages in offset order with version 1, and nothing of the fold they do not have', () => {
    const log = new Log();
    log.message('alice', { text: 'one' });
    log.message(undefined, { text: 'two' });
    const messages = log.fold().messages;
    expect(messages).toEqual([
      { ...log.publications[0], version: 1 },
      { ...log.publications[1], version: 1 },
    ]);
  });

  it('applies an edit: the new data, one more version, editedAt the edit’s time', () => {
    const log = new Log();
    const m = log.message('alice', { text: 'helo' });
    log.edit(m, { text: 'hello' });
    const e = log.edit(m, { text: 'hello, all' });
    const view = log.fold();
    expect(view.get(m)).toMatchObject({ data: { text: 'hello, all' }, version: 3, editedAt: log.time(e) });
    expect(view.messages).toHaveLength(1);
    expect(view.lastOffset).toBe(3);
  });

  it('tombstones a deleted message: data null, reactions gone, later edits and reactions ignored, its thread kept', () => {
    const log = new Log();
    const m = log.message('alice', { text: 'oops' });
    log.react(m, '👍', 'bob');
    log.thread(m, 1);
    log.delete(m);
    log.edit(m, { text: 'back?' });
    log.react(m, '❤️', 'carol');
    const message = log.fold().get(m);
    expect(message).toMatchObject({ data: null, version: 1, deleted: true, thread: { replies: 1 } });
    expect(message?.reactions).toBeUndefined();
    expect(message?.editedAt).toBeUndefined();
    expect(message?.thread).not.toHaveProperty('ref');
  });

  it('counts Distinct reactions once per user and key, in the order keys first counted, and an unreact removes it', () => {
    const log = new Log();
    const m = log.message('alice', { text: 'hi' });
    log.react(m, '👍', 'bob');
    log.react(m, '❤️', 'carol');
    log.react(m, '👍', 'carol');
    log.react(m, '👍', 'bob');
    expect(reactions(log.fold().get(m))).toEqual(['👍:2:bob+carol', '❤️:1:carol']);
    log.unreact(m, '👍', 'bob');
    log.unreact(m, '😂', 'bob');
    expect(reactions(log.fold().get(m))).toEqual(['👍:1:carol', '❤️:1:carol']);
    // A key whose count fell to 0 starts again, after the others.
    log.unreact(m, '👍', 'carol');
    log.react(m, '👍', 'dave');
    expect(reactions(log.fold().get(m))).toEqual(['❤️:1:carol', '👍:1:dave']);
  });

  it('keeps one key per user under Unique: a new key replaces the old, an unreact of another key does nothing', () => {
    const log = new Log();
    const m = log.message('alice', { text: 'hi' });
    log.react(m, '👍', 'bob');
    log.react(m, '❤️', 'bob');
    log.react(m, '❤️', 'bob');
    log.react(m, '👍', 'carol');
    log.unreact(m, '👍', 'bob');
    expect(reactions(log.fold('Unique').get(m))).toEqual(['❤️:1:bob', '👍:1:carol']);
    log.unreact(m, '❤️', 'bob');
    expect(reactions(log.fold('Unique').get(m))).toEqual(['👍:1:carol']);
  });

  it('counts every react under Multiple, and an unreact takes one of that user’s back', () => {
    const log = new Log();
    const m = log.message('alice', { text: 'hi' });
    log.react(m, '👏', 'bob');
    log.react(m, '👏', 'carol');
    log.react(m, '👏', 'bob');
    log.react(m, '👏', 'bob');
    expect(reactions(log.fold('Multiple').get(m))).toEqual(['👏:4:bob+carol']);
    log.unreact(m, '👏', 'bob');
    log.unreact(m, '👏', 'carol');
    expect(reactions(log.fold('Multiple').get(m))).toEqual(['👏:2:bob']);
  });

  it('shows no reactions under Off, and never counts one without a user', () => {
    const log = new Log();
    const m = log.message('alice', { text: 'hi' });
    log.react(m, '👍', 'bob');
    log.react(m, '👍', undefined);
    expect(reactions(log.fold('Off').get(m))).toEqual([]);
    expect(reactions(log.fold().get(m))).toEqual(['👍:1:bob']);
  });

  it('lists the first usersListed users, earliest first, and counts them all', () => {
    const log = new Log();
    const m = log.message('alice', { text: 'hi' });
    for (const user of ['u1', 'u2', 'u3', 'u4']) log.react(m, '👍', user);
    log.unreact(m, '👍', 'u1');
    log.react(m, '👍', 'u1');
    expect(reactions(log.fold('Distinct', 2).get(m))).toEqual(['👍:4:u2+u3']);
  });

  it('keeps the thread summary with the most replies, the newest of equals', () => {
    const log = new Log();
    const m = log.message('alice', { text: 'topic' });
    log.thread(m, 2);
    log.thread(m, 1);
    expect(log.fold().get(m)?.thread?.replies).toBe(2);
    log.thread(m, 2);
    expect(log.fold().get(m)?.thread).toEqual({ replies: 2, last: { offset: 2, time: log.time(4), from: 'bob' } });
  });

  it('skips a publication at or below the newest folded, so a repeated one folds the same', () => {
    const log = new Log();
    const m = log.message('alice', { text: 'hi' });
    log.react(m, '👏', 'bob');
    const view = new LatestView({ reactions: 'Multiple' });
    for (const p of log.publications) view.add(p);
    const repeated = log.publications[1];
    if (repeated === undefined) throw new Error('no reaction');
    expect(view.add(repeated)).toBeNull();
    expect(view.add(log.publications[0] as Publication)).toBeNull();
    expect(reactions(view.get(m))).toEqual(['👏:1:bob']);
    expect(view.messages).toHaveLength(1);
  });

  it('ignores actions about offsets it does not hold, about actions, of malformed data, and Herald types it does not fold', () => {
    const log = new Log();
    const m = log.message('alice', { text: 'hi' });
    const reaction = log.react(m, '👍', 'bob');
    const view = new LatestView();
    for (const p of log.publications) view.add(p);
    const before = view.get(m);
    const more = new Log();
    more.publications.push(...log.publications);
    more.edit(99, { text: 'unknown' });
    more.edit(reaction, { text: 'an action' });
    more.push('herald.edit', 'alice', { ref: m, data: { text: 'x' }, extra: 1 });
    more.push('herald.edit', 'alice', { ref: m });
    more.push('herald.react', 'bob', { ref: m, key: '' });
    more.push('herald.react', 'bob', { ref: 0, key: '👍' });
    more.push('herald.read', 'alice', { ref: m });
    more.push('herald.future', 'alice', { ref: m }); // Reserved and unknown: neither a message nor an action.
    more.push('herald.edit', 'alice', 'not an object');
    for (const p of more.publications.slice(2)) {
      expect(view.add(p)).toBeNull();
    }
    expect(view.get(m)).toEqual(before);
    expect(view.messages).toHaveLength(1);
    expect(view.lastOffset).toBe(more.publications.length);
  });

  it('returns the message an action changed, and the new one a message adds', () => {
    const log = new Log();
    const m = log.message('alice', { text: 'hi' });
    const view = new LatestView();
    expect(view.add(log.publications[0] as Publication)).toMatchObject({ offset: m, version: 1 });
    log.edit(m, { text: 'hey' });
    expect(view.add(log.publications[1] as Publication)).toMatchObject({ offset: m, version: 2, data: { text: 'hey' } });
  });

  it('starts again on a publication of another epoch: the old log is gone', () => {
    const log = new Log();
    log.message('alice', { text: 'old' });
    log.message('alice', { text: 'older' });
    const view = log.fold();
    const fresh = new Log();
    fresh.push(undefined, 'bob', { text: 'new' }, 'E2');
    expect(view.add(fresh.publications[0] as Publication)).toMatchObject({ offset: 1, epoch: 'E2' });
    expect(view.messages.map((x) => x.data)).toEqual([{ text: 'new' }]);
    expect(view.epoch).toBe('E2');
  });
});
