// The reference counting of channels across tabs, and how a tab joins a channel the shared
// connection already follows: pure rules, no connection.

import { describe, expect, it } from 'vitest';
import { ChannelShares, joinPlan, joinReply, recoverable } from '../../src/shared/shares.js';

const live = (channel: string, seq = 1) => ({ channel, seq, position: null });

describe('ChannelShares', () => {
  it('subscribes a channel for its first holder and unsubscribes it when the last lets go', () => {
    const shares = new ChannelShares();
    expect(shares.hold('a', live('chat:x'))).toBe(true);
    expect(shares.hold('b', live('chat:x'))).toBe(false);
    expect(shares.hold('c', live('chat:x'))).toBe(false);
    expect(shares.release('a', 'chat:x')).toBe(false);
    expect(shares.release('c', 'chat:x')).toBe(false);
    expect(shares.release('b', 'chat:x')).toBe(true);
    expect(shares.size).toBe(0);
  });

  it('counts a tab once per channel however often it holds it, and ignores a release of what it does not hold', () => {
    const shares = new ChannelShares();
    shares.hold('a', live('chat:x', 1));
    expect(shares.hold('a', { channel: 'chat:x', seq: 2, position: { epoch: 'E', offset: 4 } })).toBe(false);
    expect(shares.holder('a', 'chat:x')).toEqual({ seq: 2, position: { epoch: 'E', offset: 4 }, joined: false });
    expect(shares.release('b', 'chat:x')).toBe(false);
    expect(shares.release('a', 'chat:y')).toBe(false);
    expect(shares.release('a', 'chat:x')).toBe(true);
  });

  it('lets go of every channel of a tab that left, and names the ones nobody holds any more', () => {
    const shares = new ChannelShares();
    shares.hold('a', live('chat:x'));
    shares.hold('a', live('chat:y'));
    shares.hold('b', live('chat:y'));
    shares.hold('b', live('chat:z'));
    expect(shares.releaseTab('a')).toEqual(['chat:x']);
    expect(shares.channelsOf('b').sort()).toEqual(['chat:y', 'chat:z']);
    expect(shares.releaseTab('b').sort()).toEqual(['chat:y', 'chat:z']);
    expect(shares.size).toBe(0);
  });

  it('drops a refused channel with all its holders, for each to be told', () => {
    const shares = new ChannelShares();
    shares.hold('a', live('chat:x', 3));
    shares.hold('b', live('chat:x', 7));
    expect([...shares.drop('chat:x')].map(([tab, h]) => [tab, h.seq])).toEqual([['a', 3], ['b', 7]]);
    expect(shares.hold('a', live('chat:x'))).toBe(true);
  });
});

describe('joining a channel the shared connection follows', () => {
  const hub = { epoch: 'E', offset: 10 };

  it('starts a tab without a position live from the hub, and one at or past the hub where it is', () => {
    expect(joinPlan(hub, null)).toBe('live');
    expect(joinPlan(hub, { epoch: 'E', offset: 10 })).toBe('resume');
    expect(joinPlan(hub, { epoch: 'E', offset: 12 })).toBe('resume');
    expect(joinReply(hub, null, true)).toEqual({ recovered: true, epoch: 'E', offset: 10 });
    expect(joinReply(hub, { epoch: 'E', offset: 12 }, true)).toEqual({ recovered: true, epoch: 'E', offset: 12 });
  });

  it('reads history for a tab behind the hub, or in another epoch', () => {
    expect(joinPlan(hub, { epoch: 'E', offset: 9 })).toBe('history');
    expect(joinPlan(hub, { epoch: 'OLD', offset: 30 })).toBe('history');
    expect(joinPlan(hub, { epoch: '', offset: 0 })).toBe('history');
  });

  it('resumes from history by the server rule: same epoch, retained, not ahead; offset 0 while offset 1 is kept', () => {
    const page = { epoch: 'E', first: 4, top: 10 };
    expect(recoverable(page, { epoch: 'E', offset: 3 })).toBe(true);
    expect(recoverable(page, { epoch: 'E', offset: 2 })).toBe(false);
    expect(recoverable(page, { epoch: 'E', offset: 11 })).toBe(false);
    expect(recoverable(page, { epoch: 'X', offset: 5 })).toBe(false);
    expect(recoverable(page, { epoch: '', offset: 0 })).toBe(false);
    expect(recoverable({ epoch: 'E', first: 1, top: 10 }, { epoch: '', offset: 0 })).toBe(true);
    expect(recoverable({ epoch: '', first: 1, top: 0 }, { epoch: '', offset: 0 })).toBe(true);
  });

  it('answers a position history lost with a reset to the hub position', () => {
    expect(joinReply(hub, { epoch: 'OLD', offset: 3 }, false)).toEqual({ recovered: false, epoch: 'E', offset: 10 });
    expect(joinReply(hub, { epoch: 'E', offset: 3 }, true)).toEqual({ recovered: true, epoch: 'E', offset: 3 });
  });
});
