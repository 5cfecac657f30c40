import fc from 'fast-check';
import type { DecisionEvent } from '@clearsim/events';
import { callsDueBefore, emptySaga, evolveSaga, hasOpenCall, openCallsOf } from './saga.state';

const call = (account: string, deadline?: number, instrument?: string): DecisionEvent =>
  ({ type: 'MarginCallIssued', ts: 0, account, ...(instrument ? { instrument } : {}), ...(deadline === undefined ? {} : { deadline }), amount: 1n, equity: 0n, initialMargin: 1n, maintenanceMargin: 1n }) as DecisionEvent;
const met = (account: string, instrument?: string): DecisionEvent => ({ type: 'MarginCallMet', ts: 1, account, ...(instrument ? { instrument } : {}), equity: 1n, cureLevel: 1n }) as DecisionEvent;
const expired = (account: string, deadline: number): DecisionEvent => ({ type: 'GracePeriodExpired', ts: deadline + 1, account, deadline }) as DecisionEvent;
const liquidated = (account: string): DecisionEvent => ({ type: 'LiquidationStarted', ts: 2, account, reason: 'grace-period-expired', equity: 0n, maintenanceMargin: 1n }) as DecisionEvent;

describe('the saga timers', () => {
  it('the earliest deadline follows the unexpired calls as they are met, expire and are liquidated', () => {
    const saga = emptySaga();
    // a and b share deadline 100, c has 200, d is a warning without a deadline
    for (const e of [call('a', 100), call('b', 100), call('c', 200), call('d')]) evolveSaga(saga, e);
    expect(saga.earliestDeadline).toBe(100);
    evolveSaga(saga, met('a'));
    expect(saga.earliestDeadline).toBe(100); // b still has it
    evolveSaga(saga, expired('b', 100));
    expect(saga.earliestDeadline).toBe(200); // an expired call no longer counts
    evolveSaga(saga, liquidated('b'));
    expect(saga.earliestDeadline).toBe(200); // b had expired already: nothing counted twice
    evolveSaga(saga, met('c'));
    expect(saga.earliestDeadline).toBe(Infinity);
    expect(hasOpenCall(saga, 'd')).toBe(true);
    evolveSaga(saga, call('e', 50));
    expect(saga.earliestDeadline).toBe(50);
  });

  it("an account's open calls come back in the order they were issued", () => {
    const saga = emptySaga();
    for (const e of [call('x', 10, 'ETH-PERP'), call('y', 10), call('x', 10, 'BTC-PERP')]) evolveSaga(saga, e);
    expect(openCallsOf(saga, 'x').map((c) => c.instrument)).toEqual(['ETH-PERP', 'BTC-PERP']);
    evolveSaga(saga, met('x', 'ETH-PERP'));
    expect(openCallsOf(saga, 'x').map((c) => c.instrument)).toEqual(['BTC-PERP']);
    evolveSaga(saga, met('x', 'BTC-PERP'));
    expect(hasOpenCall(saga, 'x')).toBe(false);
  });
});

describe('the earliest deadline, kept with a heap of the distinct deadlines', () => {
  type Step = { kind: 'call'; account: number; deadline: number } | { kind: 'met' | 'expired' | 'liquidated'; account: number };
  const steps = fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant('call' as const), account: fc.integer({ min: 0, max: 30 }), deadline: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ kind: fc.constantFrom('met' as const, 'expired' as const, 'liquidated' as const), account: fc.integer({ min: 0, max: 30 }) }),
    ),
    { maxLength: 400 },
  );
  /** The smallest deadline of an unexpired open call, by looking at every call: what earliestDeadline must be. */
  const scanned = (saga: ReturnType<typeof emptySaga>): number => {
    let earliest = Infinity;
    for (const open of saga.calls.values()) if (!open.expired && open.deadline !== undefined && open.deadline < earliest) earliest = open.deadline;
    return earliest;
  };

  /** The unexpired calls with a deadline before `until`, by deadline then key, from a scan of every open call. */
  const dueByScan = (saga: ReturnType<typeof emptySaga>, until: number) =>
    [...saga.calls.values()]
      .filter((open) => !open.expired && open.deadline !== undefined && open.deadline < until)
      .map((open) => ({ deadline: open.deadline!, key: open.key }))
      .sort((a, b) => a.deadline - b.deadline || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  it('is the smallest deadline of the unexpired calls after every step of any sequence of calls, cures, expiries and liquidations; the calls due before a time are those a scan finds', () => {
    fc.assert(
      fc.property(steps, (sequence: Step[]) => {
        const saga = emptySaga();
        for (const step of sequence) {
          const account = `a${step.account}`;
          const open = saga.calls.get(account);
          if (step.kind === 'call') {
            if (open) continue; // the saga issues a unit's call only when it has none
            evolveSaga(saga, call(account, step.deadline));
          } else if (step.kind === 'met') evolveSaga(saga, met(account));
          else if (step.kind === 'liquidated') evolveSaga(saga, liquidated(account));
          else if (open?.deadline !== undefined) evolveSaga(saga, expired(account, open.deadline));
          expect(saga.earliestDeadline).toBe(scanned(saga));
          // the calls a time has passed, from the index by deadline: those of a scan of every open call, in order
          for (const until of [step.account, 20, 41]) expect(callsDueBefore(saga, until)).toEqual(dueByScan(saga, until));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is kept right in a saga rebuilt from its maps (as a snapshot restore gives it: the heap is no field of the saga)', () => {
    const saga = emptySaga();
    for (let i = 0; i < 50; i++) evolveSaga(saga, call(`a${i}`, 1000 - i));
    // what a snapshot writes: the saga's fields, no heap among them
    expect(Object.keys(saga).sort()).toEqual(['calls', 'callsByAccount', 'deadlines', 'earliestDeadline', 'liquidatingSince', 'outcome', 'partialLiquidationAt']);
    const again = emptySaga();
    again.calls = new Map(saga.calls);
    again.callsByAccount = new Map(saga.callsByAccount);
    again.deadlines = new Map(saga.deadlines);
    again.earliestDeadline = saga.earliestDeadline;
    for (let i = 49; i >= 0; i--) {
      evolveSaga(again, met(`a${i}`));
      expect(again.earliestDeadline).toBe(scanned(again));
    }
    expect(again.earliestDeadline).toBe(Infinity);
  });
});
