import { fromNumber, mul, toNumber, type Fixed } from '@clearsim/money';
import type { Instrument, LedgerState, Position } from '@clearsim/ledger';
import type { PortfolioRules, Rules } from '@clearsim/rules';
import { SCENARIO_COUNT, vectorOf, worstLoss, type CachedVector } from './scenario-vectors';

export { SCAN_SCENARIOS, SCENARIO_COUNT, scanParameters, scenarioPnlPerUnit } from './scenario-vectors';

/**
 * SPAN-style scenario margin (`model: portfolio`).
 *
 * The classic 16 scenarios per underlying: the price moves by 0, ±1/3, ±2/3
 * and ±3/3 of the price scan range, each with the volatility up and down by
 * the vol scan range (14), plus two extreme moves of ±extremeMove × the scan
 * range with the volatility unchanged, of which only `extremeCover` of the
 * loss counts. Every instrument on an underlying moves by the same relative
 * amount: a future or perpetual gains qty × mark × move × multiplier; an
 * option is repriced by Black-76 at the shocked forward and volatility.
 *
 * The requirement of a margin unit (its maintenance margin):
 *   risk(U)      = max(0, worst scenario loss of the positions on U)
 *   group G      = Σ risk(U∈G) − offset × (Σ risk(U∈G) − joint risk of G),
 *                  the joint risk taking the same scenario for every member
 *   scan risk    = Σ groups + Σ underlyings in no group
 *   SOM(U)       = rate(U) × max(short calls on U, short puts on U), each
 *                  counted as Σ |qty| × multiplier (CME SPAN, per combined
 *                  commodity); `shortOptionMinimumMethod: per-option`:
 *                  rate(U) × (short calls + short puts)
 *   requirement  = max(scan risk, Σ_U SOM(U)), rounded up;
 *   IM           = requirement × initialToMaintenance, rounded up.
 *
 * For speed, the P&L per unit of each instrument in the 16 scenarios is a
 * Float64Array computed once per mark (and vol and time, for options) and
 * shared by every account: an account's requirement is then 16 multiply-adds
 * per position (scenario-vectors.ts). A whole cross account's requirement
 * comes from the scenario book (scenario-book.ts), the same arithmetic over
 * typed arrays; this file serves any set of positions (isolated units, a
 * position alone, the breakdown) and holds the rounding both share.
 */

/** The rules' group numbers, once per rules object. */
const preparedGroups = new WeakMap<Rules, { groups: { members: readonly string[]; offset: number }[]; grouped: Set<string> }>();
function groupsOf(rules: Rules) {
  let prepared = preparedGroups.get(rules);
  if (!prepared) {
    const groups = (rules.portfolio as PortfolioRules).groups.map((g) => ({ members: g.members, offset: toNumber(g.offset) }));
    prepared = { groups, grouped: new Set(groups.flatMap((g) => g.members)) };
    preparedGroups.set(rules, prepared);
  }
  return prepared;
}

// Scratch space reused by every call (one writer per shard, and the calls do not nest): the P&L of each
// underlying in each scenario, side by side, so an account's requirement allocates nothing.
let scratch = new Float64Array(SCENARIO_COUNT * 16);
const scratchIds: string[] = [];
let scratchWorst = new Float64Array(16);
const joint = new Float64Array(SCENARIO_COUNT);

/** Adds `qty` units of an instrument's vector into its underlying's scratch slot (opened when new); returns the slot count. */
function addToScratch(n: number, vector: CachedVector, qty: number, instrument: Instrument): number {
  let slot = 0;
  while (slot < n && scratchIds[slot] !== vector.underlying) slot++;
  if (slot === n) {
    if (slot < scratchShortCalls.length) {
      scratchShortCalls[slot] = 0;
      scratchShortPuts[slot] = 0;
    }
    if ((n + 1) * SCENARIO_COUNT > scratch.length) {
      const bigger = new Float64Array(scratch.length * 2);
      bigger.set(scratch);
      scratch = bigger;
      scratchWorst = new Float64Array(scratch.length / SCENARIO_COUNT);
    }
    scratchIds[n++] = vector.underlying;
    scratch.fill(0, slot * SCENARIO_COUNT, slot * SCENARIO_COUNT + SCENARIO_COUNT);
  }
  const offset = slot * SCENARIO_COUNT;
  for (let s = 0; s < SCENARIO_COUNT; s++) scratch[offset + s]! += qty * vector.pnl[s]!;
  addShortOption(slot, instrument, vector, qty);
  return n;
}

// Per scratch slot (underlying): the short calls and short puts (|qty| × multiplier) and the underlying's rate.
let scratchShortCalls: Float64Array = new Float64Array(16);
let scratchShortPuts: Float64Array = new Float64Array(16);
let scratchRate: Float64Array = new Float64Array(16);

/** Adds a position's short options (if it is one) to its underlying's counts. */
function addShortOption(slot: number, instrument: Instrument, vector: CachedVector, qty: number): void {
  if (!instrument.premiumStyle || qty >= 0) return;
  if (slot >= scratchShortCalls.length) {
    scratchShortCalls = grownTo(scratchShortCalls, slot + 1);
    scratchShortPuts = grownTo(scratchShortPuts, slot + 1);
    scratchRate = grownTo(scratchRate, slot + 1);
  }
  if (instrument.optionType === 'put') scratchShortPuts[slot]! += -qty * vector.multiplier;
  else scratchShortCalls[slot]! += -qty * vector.multiplier;
  scratchRate[slot] = vector.shortOptionMinimum;
}

function grownTo(array: Float64Array, size: number): Float64Array {
  const bigger = new Float64Array(Math.max(size, array.length * 2));
  bigger.set(array);
  return bigger;
}

/**
 * The short option minimum of an underlying: rate × max(short calls, short
 * puts), or rate × (short calls + short puts) under `per-option`.
 */
export function shortOptionMinimumOf(perOption: boolean, shortCalls: number, shortPuts: number, rate: number): number {
  return rate * (perOption ? shortCalls + shortPuts : Math.max(shortCalls, shortPuts));
}

/** Under `shortOptionMinimumMethod: per-option`? */
export const somPerOption = (rules: Rules): boolean => (rules.portfolio as PortfolioRules).shortOptionMinimumMethod === 'per-option';

/** Each slot's worst scenario loss, once every position is in. */
function closeScratch(n: number): void {
  for (let slot = 0; slot < n; slot++) scratchWorst[slot] = worstLoss(scratch, slot * SCENARIO_COUNT);
}

/** Folds the positions into the scratch per-underlying P&L; returns how many underlyings and the short option minimum. */
function accumulate(ledger: LedgerState, rules: Rules, positions: readonly Position[]): { underlyings: number; shortOptionMinimum: number } {
  let n = 0;
  for (const position of positions) {
    if (position.qty === 0n) continue;
    const instrument = ledger.instruments.get(position.instrument)!;
    const vector = vectorOf(ledger, rules, instrument);
    n = addToScratch(n, vector, toNumber(position.qty), instrument);
  }
  closeScratch(n);
  // per underlying, in order of appearance (as the scenario book sums)
  const perOption = somPerOption(rules);
  let shortOptionMinimum = 0;
  for (let slot = 0; slot < n && slot < scratchShortCalls.length; slot++) {
    if (scratchShortCalls[slot]! > 0 || scratchShortPuts[slot]! > 0) shortOptionMinimum += shortOptionMinimumOf(perOption, scratchShortCalls[slot]!, scratchShortPuts[slot]!, scratchRate[slot]!);
  }
  return { underlyings: n, shortOptionMinimum };
}

/** Scan risk from the accumulated scratch: group credits, then the underlyings in no group. */
function scanRiskOf(rules: Rules, n: number): number {
  const { groups, grouped } = groupsOf(rules);
  let scanRisk = 0;
  for (const group of groups) {
    let present = false;
    let separate = 0;
    for (const member of group.members) {
      let slot = 0;
      while (slot < n && scratchIds[slot] !== member) slot++;
      if (slot === n) continue;
      if (!present) {
        joint.fill(0);
        present = true;
      }
      const offset = slot * SCENARIO_COUNT;
      for (let s = 0; s < SCENARIO_COUNT; s++) joint[s]! += scratch[offset + s]!;
      separate += scratchWorst[slot]!;
    }
    if (present) scanRisk += separate - group.offset * (separate - worstLoss(joint, 0));
  }
  for (let slot = 0; slot < n; slot++) if (!grouped.has(scratchIds[slot]!)) scanRisk += scratchWorst[slot]!;
  return scanRisk;
}

/** MM (the float requirement rounded up to ledger scale) and IM (MM × initialToMaintenance, rounded up). */
export function marginFromScanRisk(rules: Rules, scanRisk: number, shortOptionMinimum: number): { maintenanceMargin: Fixed; initialMargin: Fixed } {
  const maintenanceMargin = fromNumber(Math.max(scanRisk, shortOptionMinimum), 'ceil');
  return { maintenanceMargin, initialMargin: mul(maintenanceMargin, (rules.portfolio as PortfolioRules).initialToMaintenance, 'ceil') };
}

/** MM and IM of a set of positions: an isolated unit, a position alone (a whole cross account takes the scenario book). */
export function portfolioMargin(ledger: LedgerState, rules: Rules, positions: readonly Position[]): { maintenanceMargin: Fixed; initialMargin: Fixed } {
  const { underlyings, shortOptionMinimum } = accumulate(ledger, rules, positions);
  return marginFromScanRisk(rules, scanRiskOf(rules, underlyings), shortOptionMinimum);
}

export interface PortfolioRequirement {
  maintenanceMargin: Fixed;
  initialMargin: Fixed;
  /** Scan risk by underlying, before group credits. */
  byUnderlying: Map<string, number>;
  scanRisk: number;
  shortOptionMinimum: number;
  /** The portfolio's P&L in each scenario (summed over underlyings, joint moves). */
  scenarioPnl: Float64Array;
}

/** The requirement of a set of positions with its breakdown (the same numbers as portfolioMargin). */
export function portfolioRequirement(ledger: LedgerState, rules: Rules, positions: readonly Position[]): PortfolioRequirement {
  const { underlyings, shortOptionMinimum } = accumulate(ledger, rules, positions);
  const byUnderlying = new Map<string, number>();
  const scenarioPnl = new Float64Array(SCENARIO_COUNT);
  for (let slot = 0; slot < underlyings; slot++) {
    byUnderlying.set(scratchIds[slot]!, scratchWorst[slot]!);
    for (let s = 0; s < SCENARIO_COUNT; s++) scenarioPnl[s]! += scratch[slot * SCENARIO_COUNT + s]!;
  }
  const scanRisk = scanRiskOf(rules, underlyings);
  return { ...marginFromScanRisk(rules, scanRisk, shortOptionMinimum), byUnderlying, scanRisk, shortOptionMinimum, scenarioPnl };
}
