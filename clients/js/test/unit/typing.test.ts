// Typing on the server's timings, with fake timers: what goes out on keystrokes, on silence, on a
// message; over the WebSocket and over HTTP. Signals and direct channel names too.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { directChannel, Herald, type WebSocketConstructor } from '../../src/index.js';
import { Typist } from '../../src/typing.js';
import { HeraldError } from '../../src/errors.js';
import { FakeWebSocket, json, scriptedFetch, type FetchCall } from './fakes.js';

const tick = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the typist', () => {
  function typist(timings = { resend: 5_000, idle: 3_000, expire: 8_000 }) {
    const sent: [number, boolean][] = [];
    const start = Date.now();
    const t = new Typist(async (typing) => {
      sent.push([Date.now() - start, typing]);
      return undefined;
    });
    t.set(timings);
    return { t, sent };
  }

  it('says typing at the first keystroke, again every resend while keys come, and stopped after idle without one', async () => {
    const { t, sent } = typist();
    // A keystroke every 500 ms for 12 s.
    for (let ms = 0; ms < 12_000; ms += 500) {
      t.keystroke();
      await tick(500);
    }
    expect(sent).toEqual([[0, true], [5_000, true], [10_000, true]]);
    expect(t.typing).toBe(true);
    // Silence: stopped once idle (3 s) has passed since the last keystroke (at 11.5 s).
    await tick(2_000);
    expect(sent.at(-1)).toEqual([10_000, true]);
    await tick(1_000);
    expect(sent.at(-1)).toEqual([14_500, false]);
    expect(t.typing).toBe(false);
    await tick(20_000);
    expect(sent).toHaveLength(4);
  });

  it('stops at once on stop(), says nothing on clear(), and starts again with the next keystroke', async () => {
    const { t, sent } = typist();
    t.keystroke();
    await tick(1_000);
    t.stop();
    t.stop();
    expect(sent).toEqual([[0, true], [1_000, false]]);
    t.keystroke();
    await tick(100);
    t.clear();
    await tick(10_000);
    expect(sent).toEqual([[0, true], [1_000, false], [1_000, true]]);
  });

  it('takes new timings from the server and gives up after a final refusal', async () => {
    const answers: (() => Promise<undefined>)[] = [];
    const calls: boolean[] = [];
    const t = new Typist((typing) => {
      calls.push(typing);
      return (answers.shift() ?? (async () => undefined))();
    });
    t.set({ resend: 1_000, idle: 400, expire: 2_000 });
    t.keystroke();
    await tick(399);
    expect(calls).toEqual([true]);
    await tick(1);
    expect(calls).toEqual([true, false]);
    answers.push(() => Promise.reject(new HeraldError('unauthorized', 'no token')));
    t.keystroke();
    await tick(0);
    t.keystroke();
    await tick(5_000);
    expect(calls).toEqual([true, false, true]);
  });
});

describe('typing and signals through the client', () => {
  it('over a WebSocket: typing ops on the subscribe reply timings, none after a message, signal op', async () => {
    const herald = new Herald('http://herald.test', { WebSocket: FakeWebSocket as WebSocketConstructor, transports: ['ws'], fetch: scriptedFetch(() => json(200, {})).fetch });
    try {
      const room = herald.subscribe('room:a');
      await tick();
      const socket = FakeWebSocket.last;
      socket.open();
      await tick();
      socket.receive({ id: 1, type: 'subscribed', channel: 'room:a', recovered: true, epoch: 'E', offset: 0, typing: { resend: 1_000, idle: 300, expire: 2_000 } });
      const ops = () => socket.requests.filter((r) => r['op'] !== 'subscribe').map((r) => r['op']);
      const answer = () => {
        for (const r of socket.requests) if (typeof r['id'] === 'number' && r['op'] !== 'subscribe') socket.receive({ id: r['id'], type: r['op'] === 'publish' ? 'published' : 'ok', channel: 'room:a', offset: 1, epoch: 'E', publicationId: 'p', time: 't' });
      };
      room.typing();
      await tick(200);
      room.typing();
      await tick(200);
      expect(ops()).toEqual(['typing']);
      await tick(200);
      expect(ops()).toEqual(['typing', 'typing_stop']);

      room.typing();
      await tick();
      const sending = herald.publish('room:a', { text: 'hi' });
      await tick();
      answer();
      await sending;
      await tick(5_000);
      // The server stops a typer at their message: no typing_stop.
      expect(ops()).toEqual(['typing', 'typing_stop', 'typing', 'publish']);

      const signaled = room.signal('wave', { hand: 'left' });
      await tick();
      expect(socket.requests.at(-1)).toMatchObject({ op: 'signal', channel: 'room:a', name: 'wave', data: { hand: 'left' } });
      answer();
      await signaled;
    } finally {
      herald.close();
    }
  });

  it('over HTTP: POST typing with the token, timings from the answer; POST signals', async () => {
    const { calls, fetch } = scriptedFetch((call) => {
      if (call.url.endsWith('/typing')) return json(202, { channel: 'room:a', typing: true, resend: 2_000, idle: 500, expire: 4_000 });
      if (call.url.endsWith('/signals')) return json(202, { channel: 'room:a', name: 'wave' });
      return new Promise(() => undefined);
    });
    const herald = new Herald('http://herald.test', { fetch, transports: ['longpoll'], token: 'jwt' });
    try {
      const room = herald.subscribe('room:a');
      const posts = () => calls.filter((c) => c.method === 'POST');
      room.typing();
      await tick();
      expect(posts()).toHaveLength(1);
      expect(posts()[0]).toMatchObject({ url: 'http://herald.test/v1/channels/room:a/typing', body: '{"typing":true}' });
      expect((posts()[0] as FetchCall).headers['Authorization']).toBe('Bearer jwt');
      // The answer's idle (500 ms) applies from now on.
      await tick(499);
      expect(posts()).toHaveLength(1);
      await tick(1);
      expect(posts().map((c) => c.body)).toEqual(['{"typing":true}', '{"typing":false}']);

      await room.signal('wave');
      expect(posts().at(-1)).toMatchObject({ url: 'http://herald.test/v1/channels/room:a/signals', body: '{"name":"wave"}' });
    } finally {
      herald.close();
    }
  });
});

describe('direct channel names', () => {
  it('sorts by code unit, drops repeats and refuses ids a name cannot list', () => {
    expect(directChannel(['bob', 'alice', 'bob'])).toBe('dm:alice~bob');
    expect(directChannel(['alice', 'Bob'])).toBe('dm:Bob~alice');
    expect(directChannel(['b', 'a', 'c'], 'team')).toBe('team:a~b~c');
    expect(() => directChannel(['alice'])).toThrow(/2 to 10/);
    expect(() => directChannel(['alice', 'bob smith'])).toThrow(HeraldError);
    expect(() => directChannel(['alice', 'b~c'])).toThrow(/herald.direct/);
    expect(() => directChannel(['alice', '=x'])).toThrow(/herald.direct/);
  });
});
