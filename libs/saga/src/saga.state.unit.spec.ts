import type { DecisionEvent } from '@clearsim/events';
import { emptySaga, evolveSaga, hasOpenCall, openCallsOf } from './saga.state';

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
