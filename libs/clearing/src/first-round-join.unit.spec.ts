import { FirstRoundJoin, type FirstRoundWithoutBands } from './handle-input';

/**
 * The first round of an input's checks joined by the accounts the round would hold without the bands (settleChecks):
 * each pending id after the one just checked, not in the batch yet, and held, goes in at its place in id order; an
 * id the checks have passed never does; one not held yet is asked again once a decision was made (a fill that gave
 * it a position of what the input moved, e.g. the backstop taking over a liquidated position).
 */
describe('FirstRoundJoin', () => {
  function firstRound(held: Set<string>, decisions: { count: number }): FirstRoundWithoutBands {
    return { holds: (account) => held.has(account), decisions: () => decisions.count };
  }

  it('joins the held ids after the current one in id order, drops those passed, asks again after a decision', () => {
    const batch = ['b', 'f', 'k'];
    const held = new Set(['a', 'd', 'f', 'h', 'z']);
    const decisions = { count: 0 };
    const join = new FirstRoundJoin(batch, firstRound(held, decisions));
    const pending = new Set<string>();

    // after the check of b: a (before b: passed), d and h (held: join, in order), c (not held: waits), f (held, already in)
    for (const id of ['h', 'a', 'c', 'd', 'f']) pending.add(id);
    join.after(0, pending);
    expect(batch).toEqual(['b', 'd', 'f', 'h', 'k']);

    // after d's check: c still waits (no decision since), e is new and not held
    pending.add('e');
    join.after(1, pending);
    expect(batch).toEqual(['b', 'd', 'f', 'h', 'k']);

    // a decision gives e and c a position of what moved: e (after f, the current one) joins; c, passed by then, never does
    held.add('e');
    held.add('c');
    decisions.count = 1;
    join.after(1, pending);
    expect(batch).toEqual(['b', 'd', 'e', 'f', 'h', 'k']);
    join.after(2, pending);
    expect(batch).toEqual(['b', 'd', 'e', 'f', 'h', 'k']);

    // z, held, added late, joins at the end; an id already joined is never added twice
    pending.add('z');
    join.after(3, pending);
    join.after(4, pending);
    expect(batch).toEqual(['b', 'd', 'e', 'f', 'h', 'k', 'z']);
  });

  it('without a new decision a waiting id is not asked again', () => {
    const batch = ['a', 'm'];
    let asked = 0;
    const join = new FirstRoundJoin(batch, { holds: () => (asked++, false), decisions: () => 0 });
    const pending = new Set(['b', 'c']);
    join.after(0, pending);
    join.after(0, pending);
    join.after(0, pending);
    expect(asked).toBe(2);
    expect(batch).toEqual(['a', 'm']);
  });
});
