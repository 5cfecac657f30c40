import type { Fixed } from '@clearsim/money';
import type { DecisionEvent, Timestamp } from '@clearsim/events';
import { unitKey, type MarginUnit } from '@clearsim/margin';

export interface OpenCall extends MarginUnit {
  key: string;
  issuedAt: Timestamp;
  deadline: Timestamp;
  amount: Fixed;
  expired: boolean;
}

/** What the saga remembers between events: open calls (its timers) and each account's last outcome. */
export interface SagaState {
  calls: Map<string, OpenCall>;
  /** Earliest deadline of an unexpired call, so a quiet clock costs nothing. */
  earliestDeadline: number;
  outcome: Map<string, 'liquidated' | 'bankrupt'>;
}

export function emptySaga(): SagaState {
  return { calls: new Map(), earliestDeadline: Infinity, outcome: new Map() };
}

function recomputeEarliest(saga: SagaState): void {
  let earliest = Infinity;
  for (const call of saga.calls.values()) if (!call.expired && call.deadline < earliest) earliest = call.deadline;
  saga.earliestDeadline = earliest;
}

/** The saga's half of evolve: folds its own decisions into its timers. */
export function evolveSaga(saga: SagaState, decision: DecisionEvent): void {
  switch (decision.type) {
    case 'MarginCallIssued': {
      const unit = { account: decision.account, instrument: decision.instrument };
      const key = unitKey(unit);
      saga.calls.set(key, { ...unit, key, issuedAt: decision.ts, deadline: decision.deadline, amount: decision.amount, expired: false });
      if (decision.deadline < saga.earliestDeadline) saga.earliestDeadline = decision.deadline;
      saga.outcome.delete(decision.account);
      return;
    }
    case 'MarginCallMet':
      saga.calls.delete(unitKey(decision));
      recomputeEarliest(saga);
      return;
    case 'GracePeriodExpired': {
      const call = saga.calls.get(unitKey(decision));
      if (call) call.expired = true;
      recomputeEarliest(saga);
      return;
    }
    case 'LiquidationStarted':
      // a liquidation resolves the call, met or not
      if (saga.calls.delete(unitKey(decision))) recomputeEarliest(saga);
      saga.outcome.set(decision.account, 'liquidated');
      return;
    case 'AccountBankrupted':
      saga.outcome.set(decision.account, 'bankrupt');
      return;
    default:
      return;
  }
}
