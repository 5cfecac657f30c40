import { abs, divRound, max, min, mul, SCALE, type Fixed } from '@clearsim/money';
import { applyFill, getAccount, tradeNotional, unitBalance, type Account, type Position } from '@clearsim/ledger';
import { computeRisk, isBelowMaintenanceFraction, positionRisk, unitNetBalance, unitPositions, type MarginUnit, type PositionRisk, type Risk } from '@clearsim/margin';
import type { Rules, VenueLiquidation } from '@clearsim/rules';
import type { SagaContext } from './saga.context';
import { settleBankruptcy } from './bankruptcy';
import { equityAtLiquidationPrices, liquidationFillPrice } from './liquidation';
import { unitFields } from './margin-saga';

/*
 * Venue liquidation mechanics (docs/rules.md, "Venue liquidation mechanics"), pure figures first, then the
 * waterfall that uses them under rules `venueLiquidation`.
 * Sources: dYdX v4 `protocol/x/clob/keeper/liquidations.go` (GetFillablePrice,
 * GetBankruptcyPriceInQuoteQuantums, GetLiquidationInsuranceFundDelta,
 * GetLiquidatablePositionSizeDelta, GetMaxAndMinPositionNotionalLiquidatable);
 * Drift v2 `programs/drift/src/math/liquidation.rs`
 * (calculate_base_asset_amount_to_cover_margin_shortage, calculate_perp_if_fee, get_liquidation_fee).
 *
 * Inverse (coin-margined) instruments: amounts of money are in the settlement coin — fills' notionals
 * |qty| × face / price, fees, the fund's take and draw, margin shortages; the thresholds a venue sets in USD
 * compare USD: the block and minimum notionals and the partial-liquidation threshold the face value
 * |qty| × face, Drift's small shortage (`fullBelowShortage`) and dYdX's `maxInsuranceLost` the coin amount × mark;
 * each price is the one at which the coin amount comes out as the venue's rule says (a coin amount moves
 * 1/price). docs/rules.md, "Venue mechanics on inverse instruments".
 */

/** What the dYdX figures read of an account and one of its positions (ledger units, qty signed). */
export interface HealthFigures {
  qty: Fixed;
  mark: Fixed;
  multiplier: Fixed;
  /** TNC: the unit's equity at the marks. */
  netCollateral: Fixed;
  /** TMMR: the unit's maintenance margin. */
  totalMaintenance: Fixed;
  /** PMMR: this position's maintenance margin. */
  positionMaintenance: Fixed;
  /** Inverse payoff: `multiplier` is the face of a contract and the collateral is in the coin. */
  inverse?: boolean;
}

/**
 * dYdX's fillable price of a position: `(PNNV − ABR × SMMR × PMMR) / PS` with
 * `ABR = clamp(BA × (1 − TNC/TMMR), 0, 1)`, i.e. the mark moved against the
 * position by `ABR × SMMR × PMMR / (|PS| × multiplier)`: at the mark while
 * TNC ≥ TMMR, by SMMR × PMMR when TNC ≤ 0 (BA = 1). Rounded in the account's
 * favour as dYdX rounds subticks (a long's sell up, a short's buy down); never below 10^-8.
 *
 * Inverse: the same coin amount X = ABR × SMMR × PMMR is given up against the mark, where a position of face
 * F = |PS| × face is worth F/price coins: a long sells at p with F/p = F/mark + X, p = mark × F / (F + X × mark);
 * a short buys back at p with F/p = F/mark − X, p = mark × F / (F − X × mark) — the inverse bankruptcy price's
 * arithmetic (bankruptcy.ts inverseBankruptcyPrice) with the amount taken from the account instead of recovered
 * for it; the denominator at least one unit (a short whose X reaches its whole value: the highest price).
 */
export function fillablePrice(f: HealthFigures, bankruptcyAdjustment: Fixed, spreadToMaintenanceMarginRatio: Fixed): Fixed {
  let abrNum: bigint;
  let abrDen: bigint;
  if (f.totalMaintenance <= 0n) {
    [abrNum, abrDen] = f.netCollateral < 0n ? [1n, 1n] : [0n, 1n];
  } else {
    abrNum = bankruptcyAdjustment * (f.totalMaintenance - f.netCollateral);
    abrDen = SCALE * f.totalMaintenance;
    if (abrNum < 0n) abrNum = 0n;
    if (abrNum > abrDen) abrNum = abrDen;
  }
  const size = abs(f.qty) * f.multiplier;
  if (f.inverse) {
    if (size === 0n) return f.mark;
    // X = abrNum × SMMR × PMMR / (abrDen × SCALE) coins; × abrDen × SCALE on both sides keeps it exact
    const given = abrNum * spreadToMaintenanceMarginRatio * f.positionMaintenance * f.mark;
    const face = size * abrDen * SCALE;
    const price = f.qty > 0n ? divRound(f.mark * face, face + given, 'ceil') : divRound(f.mark * face, max(face - given, 1n), 'floor');
    return price > 0n ? price : 1n;
  }
  const offset = size === 0n ? 0n : divRound(abrNum * spreadToMaintenanceMarginRatio * f.positionMaintenance * SCALE, abrDen * size, 'floor');
  const price = f.qty > 0n ? f.mark - offset : f.mark + offset;
  return price > 0n ? price : 1n;
}

/**
 * dYdX's bankruptcy value of closing part of a position, in quote (signed as
 * the account receives it: + for a sell): `−DNNV − TNC × |DMMR| / TMMR`, the
 * division rounded down so the result rounds up. DNNV is the change of the
 * position's notional at the mark, DMMR the change of its maintenance margin:
 * the position's share of the account's collateral is its share of the maintenance requirement.
 * Inverse: in the coin, the closed part's value at the mark being −closeQty × face / mark for a long
 * (the account pays that value to close it), +closeQty × face / mark for a short.
 */
export function bankruptcyQuote(closeQty: Fixed, positionQty: Fixed, mark: Fixed, multiplier: Fixed, netCollateral: Fixed, totalMaintenance: Fixed, maintenanceReleased: Fixed, inverse = false): Fixed {
  const atMark = tradeNotional(closeQty, mark, multiplier, inverse);
  const minusDnnv = positionQty > 0n !== inverse ? atMark : -atMark;
  const share = totalMaintenance > 0n ? divRound(netCollateral * abs(maintenanceReleased), totalMaintenance, 'floor') : 0n;
  return minusDnnv - share;
}

/**
 * dYdX's insurance-fund delta of a fill (positive: the account pays the fund):
 * `fill − bankruptcy value`; when positive, at most `maxLiquidationFee × |fill|` (rounded down);
 * when negative, the fund pays it in full.
 */
export function insuranceFundDelta(fillQuote: Fixed, bankruptcy: Fixed, maxLiquidationFee: Fixed): Fixed {
  const delta = fillQuote - bankruptcy;
  if (delta <= 0n) return delta;
  return min(delta, mul(abs(fillQuote), maxLiquidationFee, 'floor'));
}

/**
 * dYdX's size of one liquidation (unsigned): the position's notional at the mark
 * limited to `max(min(minPositionNotional, notional), maxPositionPortion × notional)`
 * and to the account's notional left in the block; the whole position when that
 * covers it or the position is at most one step; otherwise the limit in quantity
 * (rounded down), rounded down to a multiple of the step, at least one step and at most the position.
 * Inverse: the notionals (limits in USD) are the face value |qty| × face, the limit in quantity limit / face.
 */
export function liquidatableQty(
  positionQty: Fixed,
  mark: Fixed,
  multiplier: Fixed,
  limits: { minPositionNotional: Fixed; maxPositionPortion: Fixed },
  accountNotionalLeft: Fixed | undefined,
  step: Fixed,
  inverse = false,
): Fixed {
  const size = abs(positionQty);
  const notional = inverse ? faceValue(size, multiplier) : tradeNotional(size, mark, multiplier);
  const minNotional = min(limits.minPositionNotional, notional);
  const maxPosition = max(minNotional, mul(notional, limits.maxPositionPortion, 'floor'));
  const limit = accountNotionalLeft === undefined ? maxPosition : min(maxPosition, accountNotionalLeft);
  if (notional <= limit || size <= step) return size;
  const qty = inverse ? divRound(limit * SCALE, multiplier, 'floor') : divRound(limit * SCALE * SCALE, mark * multiplier, 'floor');
  const stepped = (qty / step) * step;
  return min(max(stepped, step), size);
}

/** An inverse quantity's face value in the quote currency (USD): |qty| × face, half-even like a trade's notional. */
export const faceValue = (qty: Fixed, face: Fixed): Fixed => mul(abs(qty), face, 'halfEven');

/**
 * Drift's quantity that covers a margin shortage: each unit closed frees its
 * maintenance margin but costs the liquidator's and the fund's fees, so
 * `qty = shortage / (MM/|qty| − price × multiplier × (liquidatorFee + insuranceFee))`,
 * rounded down as Drift divides. Undefined when a unit frees nothing net (Drift: close it all).
 * Inverse: a unit's notional is face / mark in the coin, so
 * `qty = shortage / (MM/|qty| − face / mark × (liquidatorFee + insuranceFee))`, both terms × mark to stay exact.
 */
export function qtyToCoverShortage(
  shortage: Fixed,
  positionMaintenance: Fixed,
  positionQty: Fixed,
  mark: Fixed,
  multiplier: Fixed,
  liquidatorFee: Fixed,
  insuranceFee: Fixed,
  inverse = false,
): Fixed | undefined {
  const size = abs(positionQty);
  const E24 = SCALE * SCALE * SCALE;
  if (inverse) {
    const perMark = positionMaintenance * E24 * mark - size * multiplier * (liquidatorFee + insuranceFee) * SCALE * SCALE;
    if (perMark <= 0n) return undefined;
    return divRound(shortage * size * E24 * mark, perMark, 'floor');
  }
  const denominator = positionMaintenance * E24 - size * mark * multiplier * (liquidatorFee + insuranceFee);
  if (denominator <= 0n) return undefined;
  return divRound(shortage * size * E24, denominator, 'floor');
}

/**
 * Drift's insurance-fund fee implied by the shortage (calculate_perp_if_fee):
 * what the unit's maintenance ratio leaves after the liquidator's fee and the
 * shortage per unit of notional, × 95 % (so the fee does not make the unit
 * bankrupt), never below 0, at most `maxInsuranceFee`:
 * `min(max, max(0, (MMᵢ − shortage) / Nᵢ − liquidatorFee) × 19/20)`, Nᵢ the position's
 * notional at the mark; each division rounded down.
 */
export function impliedInsuranceFee(shortage: Fixed, positionMaintenance: Fixed, positionNotional: Fixed, liquidatorFee: Fixed, maxInsuranceFee: Fixed): Fixed {
  if (positionNotional <= 0n) return 0n;
  const left = divRound((positionMaintenance - shortage) * SCALE, positionNotional, 'floor') - liquidatorFee;
  if (left <= 0n) return 0n;
  return min(maxInsuranceFee, (left * 19n) / 20n);
}

/**
 * The price at which closing a position gives up `fee` of its notional against the mark, in the notional's
 * unit: mark × (1 ∓ fee) for a linear contract (liquidation.ts liquidationFillPrice); for an inverse one, whose
 * coin notional is face / price, a long sells at mark / (1 + fee) (rounded down) and a short buys back at
 * mark / (1 − fee) (rounded up), so the coin given up is fee × face / mark exactly as Drift charges it.
 */
export function feeFillPrice(mark: Fixed, qty: Fixed, fee: Fixed, inverse: boolean): Fixed {
  if (!inverse) return liquidationFillPrice(mark, qty, fee);
  const price = qty > 0n ? divRound(mark * SCALE, SCALE + fee, 'floor') : divRound(mark * SCALE, max(SCALE - fee, 1n), 'ceil');
  return price > 0n ? price : 1n;
}

/**
 * Drift's escalating liquidator fee: the base fee until `graceSeconds` have
 * passed since the liquidation began, then `base + elapsed × increasePerSecond`,
 * at most `maxFee` (Drift: 1,500 slots of grace, +0.000001 per slot).
 */
export function escalatedLiquidationFee(baseFee: Fixed, maxFee: Fixed, elapsedSeconds: number, graceSeconds: number, increasePerSecond: Fixed): Fixed {
  if (elapsedSeconds < graceSeconds) return baseFee;
  return min(baseFee + BigInt(Math.max(0, Math.floor(elapsedSeconds))) * increasePerSecond, maxFee);
}

/**
 * The liquidator fee of a Drift fill now: `marginShortage.liquidatorFee`, escalated under
 * `escalatingFee` by the whole seconds since the account's liquidation clock started
 * (saga.state.ts `liquidatingSince`; the first step of a liquidation has it at `ctx.ts`).
 */
export function liquidatorFeeNow(ctx: SagaContext, v: VenueLiquidation, account: string): Fixed {
  const base = v.marginShortage!.liquidatorFee;
  const escalating = v.escalatingFee;
  if (!escalating) return base;
  const since = ctx.saga.liquidatingSince.get(account) ?? ctx.ts;
  return escalatedLiquidationFee(base, escalating.maxFee, Math.floor((ctx.ts - since) / 1000), escalating.graceSeconds, escalating.increasePerSecond);
}

/**
 * Hyperliquid's partial liquidation: the most one fill may close of a position (unsigned) —
 * `portion` of it, rounded down to the step, at least one step — when its notional at the mark is
 * above `aboveNotional` and the account is not in its cooldown; otherwise undefined (no cap: the
 * whole position may go, as Hyperliquid sends the entire position during the cooldown).
 */
export function partialLiquidationCap(size: Fixed, notional: Fixed, partial: { aboveNotional: Fixed; portion: Fixed }, inCooldown: boolean, step: Fixed): Fixed | undefined {
  if (inCooldown || notional <= partial.aboveNotional) return undefined;
  const portion = (mul(size, partial.portion, 'floor') / step) * step;
  return min(max(portion, step), size);
}

/** Is the account within `cooldownSeconds` of its last partial liquidation fill (saga.state.ts `partialLiquidationAt`)? */
function inPartialCooldown(ctx: SagaContext, cooldownSeconds: number, account: string): boolean {
  const last = ctx.saga.partialLiquidationAt.get(account);
  return last !== undefined && ctx.ts - last < cooldownSeconds * 1000;
}

const MASK64 = (1n << 64n) - 1n;

/**
 * The offset dYdX's `GetPerpetualPositionToLiquidate` starts from: `Intn(n)` of a generator seeded
 * with the previous block's Unix time in seconds, a fresh generator per call (so every account with
 * n positions gets the same offset in one block). Go's math/rand sequence is not reproduced: here the
 * seed is the input's time in whole seconds (floor), mixed by splitmix64, modulo n — deterministic,
 * so a replay draws the same offsets.
 */
export function rotationOffset(ts: number, n: number): number {
  let z = (BigInt(Math.floor(ts / 1000)) + 0x9e3779b97f4a7c15n) & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  z ^= z >> 31n;
  return Number(z % BigInt(n));
}

/**
 * dYdX's choice of the position to liquidate: the unit's open positions in listing order (dYdX: by
 * perpetual id, ids being assigned as perpetuals are listed), from `rotationOffset`, the first one
 * not yet liquidated in this input (`eligible`).
 */
export function rotatedPosition(ctx: SagaContext, positions: Position[], eligible: (p: Position) => boolean): Position | undefined {
  const listed = new Map<string, number>();
  for (const id of ctx.ledger.instruments.keys()) listed.set(id, listed.size);
  const ordered = [...positions].sort((a, b) => (listed.get(a.instrument) ?? 0) - (listed.get(b.instrument) ?? 0));
  const offset = rotationOffset(ctx.ts, ordered.length);
  for (let i = 0; i < ordered.length; i++) {
    const position = ordered[(i + offset) % ordered.length]!;
    if (eligible(position)) return position;
  }
  return undefined;
}

/** What an account has been liquidated for in one input (dYdX's per-block limits). */
interface BlockBudget {
  notional: Fixed;
  insuranceLost: Fixed;
  /** Positions liquidated in this input: one fill per position per block. */
  done: Set<string>;
  /** Drift sizing: covering fills given to each position in this input. */
  covered: Map<string, number>;
  /** The fund could not take a fill (its cash, or maxInsuranceLost) and the unit is not bankrupt: it waits for the next input. */
  blocked: boolean;
}

/** Drift sizing: covering fills of one position in one input before the rest of it goes (see liquidateVenue). */
const MAX_COVERING_FILLS = 2;

// one input is one context (saga.context.ts): the block of dYdX's limits
const budgets = new WeakMap<SagaContext, Map<string, BlockBudget>>();

function budgetOf(ctx: SagaContext, account: string): BlockBudget {
  let byAccount = budgets.get(ctx);
  if (!byAccount) budgets.set(ctx, (byAccount = new Map()));
  let budget = byAccount.get(account);
  if (!budget) byAccount.set(account, (budget = { notional: 0n, insuranceLost: 0n, done: new Set(), covered: new Map(), blocked: false }));
  return budget;
}

const blockLimited = (v: VenueLiquidation): boolean => v.positionBlockLimits !== undefined || v.accountBlockLimits !== undefined;

function openPositions(account: Account, unit: MarginUnit): Position[] {
  return unitPositions(account, unit).filter((p) => p.qty !== 0n);
}

/**
 * May a unit end an input below its maintenance margin, uncalled, waiting for a
 * later input (block limits; a fund that may not pay a fill)? The price bands
 * assume it cannot — they re-check a unit only when a mark leaves its band — so
 * under such rules they are off and every input checks the holders it concerns.
 */
export function venueLeavesUnitsWaiting(rules: Rules): boolean {
  const v = rules.venueLiquidation;
  return v !== undefined && (blockLimited(v) || v.maxLiquidationFee !== undefined);
}

/** The step size of an instrument: its own, the "*" one, else one ledger unit. */
export function stepSizeOf(v: VenueLiquidation, instrument: string): Fixed {
  return v.stepSizes[instrument] ?? v.stepSizes['*'] ?? 1n;
}

/**
 * May the venue waterfall liquidate this unit again in this input? Under block
 * limits, not once every position was liquidated in it or the account's notional
 * limit is reached: the unit waits, still below its maintenance margin, for the next input.
 */
export function venueMayLiquidate(ctx: SagaContext, account: Account, unit: MarginUnit): boolean {
  const v = ctx.rules.venueLiquidation;
  if (!v) return true;
  const budget = budgetOf(ctx, account.id);
  if (budget.blocked) return false;
  if (!blockLimited(v)) return true;
  const maxNotional = v.accountBlockLimits?.maxNotionalLiquidated;
  if (maxNotional !== undefined && budget.notional >= maxNotional) return false;
  const positions = openPositions(account, unit);
  return positions.length === 0 || positions.some((p) => !budget.done.has(p.instrument));
}

/** The insurance fee rate of a Drift fill: `insuranceFee`, or with `impliedInsuranceFee` the smaller implied one. */
function driftInsuranceFee(v: VenueLiquidation, shortage: Fixed, position: PositionRisk, liquidatorFee: Fixed): Fixed {
  const { insuranceFee, impliedInsuranceFee: implied } = v.marginShortage!;
  return implied ? impliedInsuranceFee(max(shortage, 0n), position.maintenanceMargin, position.notional, liquidatorFee, insuranceFee) : insuranceFee;
}

function byMaintenanceDesc(a: PositionRisk, b: PositionRisk): number {
  if (a.maintenanceMargin !== b.maintenanceMargin) return a.maintenanceMargin > b.maintenanceMargin ? -1 : 1;
  return a.position.instrument < b.position.instrument ? -1 : 1;
}

/**
 * The waterfall under rules `venueLiquidation` (docs/rules.md, "Venue liquidation mechanics"), after
 * `LiquidationStarted`: position by position (largest maintenance margin
 * first), a fill sized by the block limits and step (dYdX) or by the margin
 * shortage (Drift), priced at the fillable price (dYdX) or at mark ∓ the
 * liquidator's fee (Drift) or mark ∓ slippage, to the backstop; the insurance
 * fund takes the fee (capped by `maxLiquidationFee` against the bankruptcy
 * value) or pays the shortfall below it (`InsuranceFundDrawn`); stops once
 * the unit is at its target. A shortfall the fund cannot pay (its cash, or
 * `maxInsuranceLost` in the block) is a bankruptcy (§6).
 */
export function liquidateVenue(ctx: SagaContext, account: Account, unit: MarginUnit, target: (risk: Risk) => Fixed): void {
  const v = ctx.rules.venueLiquidation!;
  const { slippage, feeRate, step } = ctx.rules.liquidation;
  const budget = budgetOf(ctx, account.id);
  const limited = blockLimited(v);
  const originalSize = new Map(openPositions(account, unit).map((p) => [p.instrument, abs(p.qty)]));
  const insurance = ctx.rules.accounts.insurance;
  // Drift's liquidation margin buffer: the waterfall brings the unit to its target plus Σ ⌊Nᵢ × buffer⌋
  const buffer = v.marginShortage?.liquidationBuffer ?? 0n;
  const goal = buffer === 0n ? target : (r: Risk): Fixed => target(r) + bufferRequirement(ctx, account, unit, buffer);
  for (;;) {
    const positions = openPositions(getAccount(ctx.ledger, unit.account), unit);
    if (positions.length === 0) {
      if (unitNetBalance(ctx.ledger, ctx.rules, account, unit) < 0n) settleBankruptcy(ctx, account, unit, []);
      return;
    }
    if (v.backstopBelow !== undefined) {
      const now = computeRisk(ctx.ledger, ctx.rules, account, unit);
      if (now.equity >= 0n && isBelowMaintenanceFraction(now, v.backstopBelow)) return backstopTakeover(ctx, account, unit, positions);
    }
    // without the fund's bankruptcy-value accounting, the generic test: bankrupt if closing all at mark ∓ slippage leaves less than zero
    if (v.maxLiquidationFee === undefined && equityAtLiquidationPrices(ctx, account, unit) < 0n) {
      settleBankruptcy(ctx, account, unit, positions);
      return;
    }
    const candidates = limited ? positions.filter((p) => !budget.done.has(p.instrument)) : positions;
    const maxNotional = v.accountBlockLimits?.maxNotionalLiquidated;
    const notionalLeft = maxNotional === undefined ? undefined : maxNotional - budget.notional;
    if (candidates.length === 0 || (notionalLeft !== undefined && notionalLeft <= 0n)) return;
    const risk = computeRisk(ctx.ledger, ctx.rules, account, unit);
    const largest =
      v.positionOrder === 'pseudo-random-rotation'
        ? positionRisk(ctx.ledger, ctx.rules, rotatedPosition(ctx, positions, (p) => candidates.includes(p))!)
        : candidates.map((p) => positionRisk(ctx.ledger, ctx.rules, p)).sort(byMaintenanceDesc)[0]!;
    const position = largest.position;
    const size = abs(position.qty);
    const stepSize = stepSizeOf(v, position.instrument);
    const liquidatorFee = v.marginShortage ? liquidatorFeeNow(ctx, v, account.id) : 0n;
    // a venue's money thresholds are in USD (Drift's small shortage, dYdX's insurance lost per block): an inverse
    // unit's coin amounts compare at their value at the mark
    const inQuote = (coin: Fixed): Fixed => (largest.inverse ? mul(coin, largest.mark, 'ceil') : coin);

    let closeQty: Fixed;
    if (v.marginShortage) {
      const shortage = goal(risk) - risk.equity;
      const { fullBelowShortage } = v.marginShortage;
      const insuranceFee = driftInsuranceFee(v, shortage, largest, liquidatorFee);
      // A fill sized by the formula covers the shortage but for rounding (the size is floored to the step, the
      // fee rounded up): a second one takes the residual that left. Any further fill of the same position in the
      // same input would only chase residuals (the marks its own impact moves), one step at a time, without end
      // when the step is one ledger unit: the rest of the position goes instead. (Drift sizes against its
      // liquidation margin buffer, above the maintenance margin — `liquidationBuffer` — so no residual is left.)
      const covering =
        inQuote(shortage) < fullBelowShortage || (budget.covered.get(position.instrument) ?? 0) >= MAX_COVERING_FILLS
          ? undefined
          : qtyToCoverShortage(shortage, largest.maintenanceMargin + mul(largest.notional, buffer, 'floor'), position.qty, largest.mark, largest.multiplier, liquidatorFee, insuranceFee, largest.inverse);
      budget.covered.set(position.instrument, (budget.covered.get(position.instrument) ?? 0) + 1);
      closeQty = covering === undefined ? size : min(max((covering / stepSize) * stepSize, stepSize), size);
    } else if (limited || v.stepSizes[position.instrument] !== undefined || v.stepSizes['*'] !== undefined) {
      const limits = v.positionBlockLimits ?? { minPositionNotional: 0n, maxPositionPortion: SCALE };
      closeQty = liquidatableQty(position.qty, largest.mark, largest.multiplier, limits, notionalLeft, stepSize, largest.inverse);
    } else {
      const stepQty = step >= SCALE ? size : mul(originalSize.get(position.instrument) ?? size, step, 'ceil');
      closeQty = min(size, max(stepQty, 1n));
    }
    if (v.partial) {
      const sizeNotional = largest.inverse ? faceValue(size, largest.multiplier) : largest.notional;
      const cap = partialLiquidationCap(size, sizeNotional, v.partial, inPartialCooldown(ctx, v.partial.cooldownSeconds, account.id), stepSize);
      if (cap !== undefined) closeQty = min(closeQty, cap);
    }
    const delta = position.qty > 0n ? -closeQty : closeQty;

    const price = v.fillablePrice
      ? fillablePrice(
          {
            qty: position.qty,
            mark: largest.mark,
            multiplier: largest.multiplier,
            netCollateral: risk.equity,
            totalMaintenance: risk.maintenanceMargin,
            positionMaintenance: largest.maintenanceMargin,
            ...(largest.inverse ? { inverse: true } : {}),
          },
          v.fillablePrice.bankruptcyAdjustment,
          v.fillablePrice.spreadToMaintenanceMarginRatio,
        )
      : v.marginShortage
        ? feeFillPrice(largest.mark, position.qty, liquidatorFee, largest.inverse)
        : liquidationFillPrice(largest.mark, position.qty, slippage);
    const notional = tradeNotional(closeQty, price, largest.multiplier, largest.inverse);

    let fee: Fixed;
    let draw = 0n;
    if (v.maxLiquidationFee !== undefined) {
      const rest = positionRisk(ctx.ledger, ctx.rules, { ...position, qty: position.qty + delta });
      const released = max(largest.maintenanceMargin - rest.maintenanceMargin, 0n);
      const bankruptcy = bankruptcyQuote(closeQty, position.qty, largest.mark, largest.multiplier, risk.equity, risk.maintenanceMargin, released, largest.inverse);
      // what the account receives for the fill (inverse: a long pays the closed part's coin value to close it)
      const fillQuote = position.qty > 0n !== largest.inverse ? notional : -notional;
      const fundDelta = insuranceFundDelta(fillQuote, bankruptcy, v.maxLiquidationFee);
      fee = max(fundDelta, 0n);
      draw = max(-fundDelta, 0n);
      const fundCash = ctx.ledger.accounts.get(insurance)?.cash ?? 0n;
      const maxLost = v.accountBlockLimits?.maxInsuranceLost;
      if (draw > fundCash || (maxLost !== undefined && budget.insuranceLost + inQuote(draw) > maxLost)) {
        // the fund cannot take this fill: a unit below zero at liquidation prices goes through the bankruptcy
        // waterfall (deleveraging); one above it waits for the next input, as dYdX places no such order
        if (equityAtLiquidationPrices(ctx, account, unit) < 0n) settleBankruptcy(ctx, account, unit, positions);
        else budget.blocked = true;
        return;
      }
    } else {
      // the fee takes at most the equity left after the fill (a fee never makes the unit bankrupt)
      const loss = abs(notional - tradeNotional(closeQty, largest.mark, largest.multiplier, largest.inverse));
      const rate = v.marginShortage ? driftInsuranceFee(v, goal(risk) - risk.equity, largest, liquidatorFee) : feeRate;
      fee = min(mul(notional, rate, 'ceil'), max(risk.equity - loss, 0n));
    }
    ctx.emit({ type: 'PositionLiquidated', ts: ctx.ts, account: account.id, instrument: position.instrument, qty: delta, price, counterparty: ctx.rules.accounts.backstop, fee });
    if (draw > 0n) ctx.emit({ type: 'InsuranceFundDrawn', ts: ctx.ts, ...unitFields(unit), fund: insurance, amount: draw });
    budget.notional += largest.inverse ? faceValue(closeQty, largest.multiplier) : notional;
    budget.insuranceLost += inQuote(draw);
    if (limited) budget.done.add(position.instrument);
    const now = computeRisk(ctx.ledger, ctx.rules, account, unit);
    if (openPositions(account, unit).length > 0 && now.equity >= goal(now)) return;
  }
}

/**
 * Hyperliquid's backstop liquidation (`backstopBelow`): every open position of the unit closes at its mark to
 * the backstop account (the liquidator vault), in instrument order; the last fill's fee is the unit's cash margin
 * left after it (never below zero), so the unit ends with nothing — "the maintenance margin is not returned".
 */
function backstopTakeover(ctx: SagaContext, account: Account, unit: MarginUnit, positions: Position[]): void {
  const ordered = [...positions].sort((a, b) => (a.instrument < b.instrument ? -1 : 1));
  ordered.forEach((position, i) => {
    const instrument = ctx.ledger.instruments.get(position.instrument)!;
    const mark = instrument.mark!;
    const delta = -position.qty;
    let fee = 0n;
    if (i === ordered.length - 1) {
      const notional = tradeNotional(delta, mark, instrument.multiplier, instrument.inverse);
      const { realized } = applyFill(position.qty, position.cost, delta, mark, instrument.multiplier, notional, instrument.inverse);
      fee = max(unitBalance(account, unit.instrument) + (instrument.premiumStyle ? (delta > 0n ? -notional : notional) : realized), 0n);
    }
    ctx.emit({ type: 'PositionLiquidated', ts: ctx.ts, account: account.id, instrument: position.instrument, qty: delta, price: mark, counterparty: ctx.rules.accounts.backstop, fee });
  });
}

/** Drift's buffer on a unit's positions: Σ ⌊notionalᵢ × buffer⌋ (margin_requirement_plus_buffer less the requirement). */
function bufferRequirement(ctx: SagaContext, account: Account, unit: MarginUnit, buffer: Fixed): Fixed {
  let total = 0n;
  for (const position of openPositions(account, unit)) total += mul(positionRisk(ctx.ledger, ctx.rules, position).notional, buffer, 'floor');
  return total;
}
