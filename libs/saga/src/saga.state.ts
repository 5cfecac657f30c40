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
  /** The keys of each account's open calls, so "is this account called, and on which units?" never scans every call. */
  callsByAccount: Map<string, Set<string>>;
  /** Earliest deadline of an unexpired call, so a quiet clock costs nothing. */
  earliestDeadline: number;
  outcome: Map<string, 'liquidated' | 'bankrupt'>;
}

export function emptySaga(): SagaState {
  return { calls: new Map(), callsByAccount: new Map(), earliestDeadline: Infinity, outcome: new Map() };
}

function openCall(saga: SagaState, call: OpenCall): void {
  let keys = saga.callsByAccount.get(call.account);
  if (!keys) saga.callsByAccount.set(call.account, (keys = new Set()));
  keys.add(call.key);
  saga.calls.set(call.key, call);
}

/** Removes an open call; returns it (undefined if there was none). */
function closeCall(saga: SagaState, key: string): OpenCall | undefined {
  const call = saga.calls.get(key);
  if (!call) return undefined;
  saga.calls.delete(key);
  const keys = saga.callsByAccount.get(call.account);
  keys?.delete(key);
  if (keys?.size === 0) saga.callsByAccount.delete(call.account);
  return call;
}

export const hasOpenCall = (saga: SagaState, account: string): boolean => saga.callsByAccount.has(account);

/** The open calls of one account (its cross unit, or its isolated positions), in the order they were issued (as in `calls`). */
export function openCallsOf(saga: SagaState, account: string): OpenCall[] {
  const keys = saga.callsByAccount.get(account);
  if (!keys) return [];
  return [...keys].map((key) => saga.calls.get(key)!);
}

/**
 * A call whose deadline set the earliest one stopped counting (met, expired,
 * liquidated): find the next. Any other call leaves the earliest deadline as
 * it is, so a storm of calls met does not rescan every call each time.
 */
function deadlineGone(saga: SagaState, call: OpenCall | undefined): void {
  if (call?.deadline === undefined || call.deadline !== saga.earliestDeadline) return;
  let earliest = Infinity;
  for (const open of saga.calls.values()) if (!open.expired && open.deadline !== undefined && open.deadline < earliest) earliest = open.deadline;
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
      deadlineGone(saga, closeCall(saga, unitKey(decision)));
      return;
    case 'GracePeriodExpired': {
      const call = saga.calls.get(unitKey(decision));
      if (call && !call.expired) {
        call.expired = true;
        deadlineGone(saga, call);
      }
      return;
    }
    case 'LiquidationStarted': {
      // a liquidation resolves the call, met or not
      const call = closeCall(saga, unitKey(decision));
      // an expired call no longer counts for the earliest deadline
      if (call && !call.expired) deadlineGone(saga, call);
      saga.outcome.set(decision.account, 'liquidated');
      return;
    }
    case 'AccountBankrupted':
      saga.outcome.set(decision.account, 'bankrupt');
      return;
    default:
      return;
  }
}
