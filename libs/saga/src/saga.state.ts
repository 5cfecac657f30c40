import type { Fixed } from '@clearsim/money';
import type { DecisionEvent, Timestamp } from '@clearsim/events';
import { unitKey, type MarginUnit } from '@clearsim/margin';

export interface OpenCall extends MarginUnit {
  key: string;
  issuedAt: Timestamp;
  /** Undefined for a warning call (no grace timer). */
  deadline?: Timestamp;
  amount: Fixed;
  expired: boolean;
}

/** What the saga remembers between events: open calls (its timers) and each account's last outcome. */
export interface SagaState {
  calls: Map<string, OpenCall>;
  /** Open calls per account, so "is this account called?" is O(1) on the hot path. */
  callsByAccount: Map<string, number>;
  /** Earliest deadline of an unexpired call, so a quiet clock costs nothing. */
  earliestDeadline: number;
  outcome: Map<string, 'liquidated' | 'bankrupt'>;
}

export function emptySaga(): SagaState {
  return { calls: new Map(), callsByAccount: new Map(), earliestDeadline: Infinity, outcome: new Map() };
}

function openCall(saga: SagaState, call: OpenCall): void {
  if (!saga.calls.has(call.key)) saga.callsByAccount.set(call.account, (saga.callsByAccount.get(call.account) ?? 0) + 1);
  saga.calls.set(call.key, call);
}

function closeCall(saga: SagaState, key: string): boolean {
  const call = saga.calls.get(key);
  if (!call) return false;
  saga.calls.delete(key);
  const left = (saga.callsByAccount.get(call.account) ?? 1) - 1;
  if (left > 0) saga.callsByAccount.set(call.account, left);
  else saga.callsByAccount.delete(call.account);
  return true;
}

export const hasOpenCall = (saga: SagaState, account: string): boolean => saga.callsByAccount.has(account);

function recomputeEarliest(saga: SagaState): void {
  let earliest = Infinity;
  for (const call of saga.calls.values()) if (!call.expired && call.deadline !== undefined && call.deadline < earliest) earliest = call.deadline;
  saga.earliestDeadline = earliest;
}

/** The saga's half of evolve: folds its own decisions into its timers. */
export function evolveSaga(saga: SagaState, decision: DecisionEvent): void {
  switch (decision.type) {
    case 'MarginCallIssued': {
      const unit = { account: decision.account, instrument: decision.instrument };
      const key = unitKey(unit);
      openCall(saga, { ...unit, key, issuedAt: decision.ts, deadline: decision.deadline, amount: decision.amount, expired: false });
      if (decision.deadline !== undefined && decision.deadline < saga.earliestDeadline) saga.earliestDeadline = decision.deadline;
      saga.outcome.delete(decision.account);
      return;
    }
    case 'MarginCallMet':
      closeCall(saga, unitKey(decision));
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
      if (closeCall(saga, unitKey(decision))) recomputeEarliest(saga);
      saga.outcome.set(decision.account, 'liquidated');
      return;
    case 'AccountBankrupted':
      saga.outcome.set(decision.account, 'bankrupt');
      return;
    default:
      return;
  }
}
