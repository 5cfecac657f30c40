import { abs, max, min, mul, SCALE, type Fixed } from '@clearsim/money';
import type { LiquidationReason } from '@clearsim/events';
import { applyFill, getAccount, tradeNotional, type Account, type Position } from '@clearsim/ledger';
import { computeRisk, hasOpenPosition, positionRisk, positionRisksSummed, unitNetBalance, unitPositions, type MarginUnit, type PositionRisk, type Risk } from '@clearsim/margin';
import type { SagaContext } from './saga.context';
import { awaitsBatchedAdl, settleBankruptcy } from './bankruptcy';
import { cureLevel, unitFields } from './margin-saga';
import { liquidateLoan } from './lending-liquidation';
import { liquidateVenue, venueMayLiquidate } from './venue-liquidation';

/**
 * The price a liquidation closes at: mark ∓ `slippage`, against the account —
 * a long is sold at mark × (1 − slippage) rounded down, a short bought back at
 * mark × (1 + slippage) rounded up. Never below one ledger unit.
 */
export function liquidationFillPrice(mark: Fixed, qty: Fixed, slippage: Fixed): Fixed {
  const price = qty > 0n ? mul(mark, SCALE - slippage, 'floor') : mul(mark, SCALE + slippage, 'ceil');
  return price > 0n ? price : 1n;
}

/**
 * What closing `position` entirely at `price` adds to the unit's balance (premium style: the proceeds; futures
 * style: the realized PnL; inverse: the signed value −qty × face / price in coin, minus the cost).
 */
function closingValue(position: Position, price: Fixed, multiplier: Fixed, premiumStyle: boolean, inverse = false): Fixed {
  const notional = tradeNotional(position.qty, price, multiplier, inverse);
  return (position.qty > 0n !== inverse ? notional : -notional) - (premiumStyle ? 0n : position.cost);
}

/** The unit's balance if every open position were closed at its liquidation price: below zero is bankruptcy. */
export function equityAtLiquidationPrices(ctx: SagaContext, account: Account, unit: MarginUnit): Fixed {
  let value = unitNetBalance(ctx.ledger, ctx.rules, account, unit);
  for (const position of openPositions(account, unit)) {
    // the mark and contract terms alone: positionRisk would also compute the position's stand-alone requirement
    const instrument = ctx.ledger.instruments.get(position.instrument)!;
    value += closingValue(position, liquidationFillPrice(instrument.mark!, position.qty, ctx.rules.liquidation.slippage), instrument.multiplier, instrument.premiumStyle, instrument.inverse);
  }
  return value;
}

function openPositions(account: Account, unit: MarginUnit): Position[] {
  return unitPositions(account, unit).filter((p) => p.qty !== 0n);
}

/** Largest maintenance margin first; ties by instrument id (a unique key). */
function byMaintenanceDesc(a: PositionRisk, b: PositionRisk): number {
  if (a.maintenanceMargin !== b.maintenanceMargin) return a.maintenanceMargin > b.maintenanceMargin ? -1 : 1;
  return a.position.instrument < b.position.instrument ? -1 : 1;
}

/**
 * The liquidation waterfall for one margin unit (docs/rules.md):
 * 1. `LiquidationStarted`;
 * 2. while the unit is below target (MM; the cure level after a grace expiry)
 *    and solvent at liquidation prices: close `step` of the original size of
 *    the position with the largest maintenance margin, at mark ∓ slippage, to
 *    the backstop account, charging `feeRate × notional` to the insurance fund,
 *    capped at the equity left (the rest valued at liquidation prices);
 *    re-check after each step;
 * 3. if closing the rest would leave the unit below zero, it is bankrupt:
 *    the remaining positions close at once and the deficit goes through the
 *    bankruptcy waterfall (insurance fund, then ADL or socialized loss).
 */
export function liquidate(ctx: SagaContext, unit: MarginUnit, reason: LiquidationReason, riskNow?: Risk, positionRisksNow?: PositionRisk[]): void {
  const account = getAccount(ctx.ledger, unit.account);
  // bankrupt, its positions waiting for the input's batched ADL (adl.batch: input)
  if (awaitsBatchedAdl(ctx, unit.account)) return;
  // under venue block limits a unit liquidated as far as this input allows waits for the next one
  if (ctx.rules.venueLiquidation && !venueMayLiquidate(ctx, account, unit)) return;
  // once the waterfall stops, the unit is checked again in this same step (it may still warrant a call)
  ctx.touch(unit.account);
  // a caller that has just computed the unit's risk on this same state (checkMarginUnit) passes it: the same figures
  const risk = riskNow ?? computeRisk(ctx.ledger, ctx.rules, account, unit);
  ctx.emit({ type: 'LiquidationStarted', ts: ctx.ts, ...unitFields(unit), reason, equity: risk.equity, maintenanceMargin: risk.maintenanceMargin });
  if (ctx.rules.model === 'lending') return liquidateLoan(ctx, account, unit);
  const target = (r: Risk): Fixed => (reason === 'grace-period-expired' ? cureLevel(ctx, r) : r.maintenanceMargin);
  if (ctx.rules.venueLiquidation) return liquidateVenue(ctx, account, unit, target);
  const { step, slippage, feeRate } = ctx.rules.liquidation;
  // the open positions before the first step (nothing changes the state until its fill): each one's original size
  let positions = openPositions(account, unit);
  // the positions' figures on the state now, when the exact risk just computed took them as positionRisk of each
  // alone would (positionRisksSummed): the step ranks by them; a fill changes the state, and the risk after it
  // takes them again (under fastPaths: with it off every step ranks afresh, which the engine's property compares)
  const reuseRisks = ctx.fastPaths && positionRisksSummed(ctx.rules);
  let risksNow = reuseRisks ? positionRisksNow : undefined;
  const originalSize = new Map(positions.map((p) => [p.instrument, abs(p.qty)]));

  for (let first = true; ; first = false) {
    if (!first) positions = openPositions(account, unit);
    if (positions.length === 0) {
      if (unitNetBalance(ctx.ledger, ctx.rules, account, unit) < 0n) settleBankruptcy(ctx, account, unit, []);
      return;
    }
    // nothing changes the state from here to the fill's emit: the same figure serves the fee's cap below
    const atLiquidationPrices = equityAtLiquidationPrices(ctx, account, unit);
    if (atLiquidationPrices < 0n) {
      settleBankruptcy(ctx, account, unit, positions);
      return;
    }
    const ranked = (risksNow !== undefined && risksNow.length === positions.length ? risksNow : positions.map((p) => positionRisk(ctx.ledger, ctx.rules, p))).sort(byMaintenanceDesc);
    const largest = ranked[0]!;
    const position = largest.position;
    const stepQty = step >= SCALE ? abs(position.qty) : mul(originalSize.get(position.instrument) ?? abs(position.qty), step, 'ceil');
    const closeQty = min(abs(position.qty), max(stepQty, 1n));
    const delta = position.qty > 0n ? -closeQty : closeQty;
    const price = liquidationFillPrice(largest.mark, position.qty, slippage);
    const notional = tradeNotional(closeQty, price, largest.multiplier, largest.inverse);
    // the fee may take at most the equity left after this close with the rest valued at liquidation
    // prices, so a fee can never be what makes the next step a bankruptcy
    const after = applyFill(position.qty, position.cost, delta, price, largest.multiplier, notional, largest.inverse);
    const rest = { ...position, qty: after.qty, cost: after.cost };
    const equityLeft =
      atLiquidationPrices -
      closingValue(position, price, largest.multiplier, largest.premiumStyle, largest.inverse) +
      (largest.premiumStyle ? (delta > 0n ? -notional : notional) : after.realized) +
      (after.qty === 0n ? 0n : closingValue(rest, price, largest.multiplier, largest.premiumStyle, largest.inverse));
    const fee = min(mul(notional, feeRate, 'ceil'), max(equityLeft, 0n));
    ctx.emit({
      type: 'PositionLiquidated',
      ts: ctx.ts,
      account: account.id,
      instrument: position.instrument,
      qty: delta,
      price,
      counterparty: ctx.rules.accounts.backstop,
      fee,
    });
    risksNow = reuseRisks ? [] : undefined;
    const now = computeRisk(ctx.ledger, ctx.rules, account, unit, risksNow);
    if (hasOpenPosition(account, unit) && now.equity >= target(now)) return;
  }
}
