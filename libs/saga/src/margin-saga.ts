import { isSystemAccount } from '@clearsim/rules';
import type { PositionRisk, Risk } from '@clearsim/margin';
import { callLevelOf, clearlyAboveMaintenanceFraction, computeRisk, hasOpenPosition, isBelowMaintenanceFraction, unitKey, unitsOf, type MarginUnit } from '@clearsim/margin';
import type { Account } from '@clearsim/ledger';
import type { Timestamp } from '@clearsim/events';
import type { SagaContext } from './saga.context';
import { liquidate } from './liquidation';
import { awaitsBatchedAdl } from './bankruptcy';
import { callsDueBefore, hasOpenCall, openCallsOf, type SagaState } from './saga.state';

/** equity × SCALE < MM × callBelow: the level at which a healthy unit is called. */
export function isBelowCallLevel(ctx: SagaContext, risk: Risk): boolean {
  return isBelowMaintenanceFraction(risk, ctx.rules.marginCall.callBelow);
}

/**
 * The equity a called unit must reach for the call to be met: IM or MM
 * (`marginCall.cureAt`), and never below the level that calls it.
 */
export function cureLevel(ctx: SagaContext, risk: Risk): bigint {
  const { cureAt, callBelow } = ctx.rules.marginCall;
  const base = cureAt === 'initial' ? risk.initialMargin : risk.maintenanceMargin;
  const callLevel = callLevelOf(risk, callBelow);
  return base > callLevel ? base : callLevel;
}

/**
 * The margin policy for one unit, evaluated after every event that can change it:
 * - called: `graceSeconds: 0` and equity < MM, or below `immediateBelow × MM`
 *   → liquidate now; equity ≥ cure level → `MarginCallMet`;
 * - healthy with equity < MM: `graceSeconds: 0` → liquidate; below
 *   `immediateBelow × MM` → liquidate; otherwise `MarginCallIssued` for
 *   `IM − equity`, due at `ts + graceSeconds`;
 * - healthy with MM ≤ equity < `callBelow × MM` (callBelow > 1): an early
 *   call (with no deadline when there is no grace period).
 * A unit with no open position is never called (a flat negative balance is a debt, not a risk).
 */
export function checkMarginUnit(ctx: SagaContext, account: Account, unit: MarginUnit): void {
  // each position's figures as the sum took them: a liquidation below ranks the positions by them
  const positionRisks: PositionRisk[] = [];
  const risk = computeRisk(ctx.ledger, ctx.rules, account, unit, positionRisks);
  const call = ctx.saga.calls.get(unitKey(unit));
  const { immediateBelow } = ctx.rules.liquidation;
  const { graceSeconds } = ctx.rules.marginCall;
  // exposure: open positions, or (lending) debt against collateral — debt with none left is bad debt, already settled
  const hasPositions = hasOpenPosition(account, unit) || (ctx.rules.model === 'lending' && account.cash < 0n && account.collateral.size > 0);
  if (call) {
    if (hasPositions && graceSeconds === 0 && risk.equity < risk.maintenanceMargin) {
      liquidate(ctx, unit, 'below-maintenance', risk, positionRisks);
    } else if (hasPositions && isBelowMaintenanceFraction(risk, immediateBelow)) {
      liquidate(ctx, unit, 'below-immediate-threshold', risk, positionRisks);
    } else {
      const level = cureLevel(ctx, risk);
      if (risk.equity >= level) ctx.emit({ type: 'MarginCallMet', ts: ctx.ts, ...unitFields(unit), equity: risk.equity, cureLevel: level });
    }
    return;
  }
  if (!hasPositions) return;
  if (risk.equity < risk.maintenanceMargin) {
    if (graceSeconds === 0) return liquidate(ctx, unit, 'below-maintenance', risk, positionRisks);
    if (isBelowMaintenanceFraction(risk, immediateBelow)) return liquidate(ctx, unit, 'below-immediate-threshold', risk, positionRisks);
  } else if (!isBelowCallLevel(ctx, risk)) {
    return;
  }
  const level = cureLevel(ctx, risk);
  ctx.emit({
    type: 'MarginCallIssued',
    ts: ctx.ts,
    ...unitFields(unit),
    equity: risk.equity,
    initialMargin: risk.initialMargin,
    maintenanceMargin: risk.maintenanceMargin,
    // IM − equity (docs/rules.md); more if the cure level is above IM
    amount: (level > risk.initialMargin ? level : risk.initialMargin) - risk.equity,
    ...(graceSeconds > 0 ? { deadline: ctx.ts + graceSeconds * 1000 } : {}),
  });
}

/** Checks every margin unit of an account, including units with an open call that no longer hold a position. */
export function checkAccount(ctx: SagaContext, accountId: string): void {
  if (isSystemAccount(ctx.rules, accountId) || awaitsBatchedAdl(ctx, accountId)) return;
  const account = ctx.ledger.accounts.get(accountId);
  if (!account) return;
  // with no call open, a unit at or above its call level (and so above MM) decides nothing: under the portfolio
  // model a float estimate with an error bound proves that for most accounts, without the exact bigint figures
  if (ctx.fastPaths && !hasOpenCall(ctx.saga, accountId) && clearlyAboveMaintenanceFraction(ctx.ledger, ctx.rules, account, ctx.rules.marginCall.callBelow)) return;
  const units = unitsOf(account);
  if (hasOpenCall(ctx.saga, accountId)) {
    const keys = new Set(units.map(unitKey));
    for (const call of openCallsOf(ctx.saga, accountId)) if (!keys.has(call.key)) units.push({ account: call.account, instrument: call.instrument });
  }
  for (const unit of units) checkMarginUnit(ctx, account, unit);
}

/** An open call whose grace period a time has passed: its deadline and unit key. */
export interface DueTimer {
  deadline: Timestamp;
  key: string;
}

/**
 * The unexpired calls whose deadline is strictly before `until` (an input's
 * `ts`: a cure arriving exactly at the deadline is in time), in deadline
 * order, then unit key (account id, then instrument): from the saga's index
 * of calls by deadline (callsDueBefore), not a scan of every open call.
 */
export function dueTimers(saga: SagaState, until: Timestamp): DueTimer[] {
  if (!(until > saga.earliestDeadline)) return [];
  return callsDueBefore(saga, until);
}

/**
 * Fires one grace timer at its deadline: `ctx.ts` is the deadline, and the
 * caller runs this on the state as it was before the input that revealed it,
 * so the close-out is priced at the marks that prevailed then.
 * `GracePeriodExpired` (stamped with the deadline), then liquidation. Does
 * nothing if the call is no longer open and due then (an earlier close-out's
 * checks may have met or liquidated it); returns whether it fired.
 */
export function expireGracePeriod(ctx: SagaContext, key: string): boolean {
  const call = ctx.saga.calls.get(key);
  if (!call || call.expired || call.deadline !== ctx.ts) return false;
  const unit = { account: call.account, instrument: call.instrument };
  ctx.emit({ type: 'GracePeriodExpired', ts: ctx.ts, ...unitFields(unit), deadline: ctx.ts });
  liquidate(ctx, unit, 'grace-period-expired');
  return true;
}

export function unitFields(unit: MarginUnit): { account: string; instrument?: string } {
  return unit.instrument === undefined ? { account: unit.account } : { account: unit.account, instrument: unit.instrument };
}
