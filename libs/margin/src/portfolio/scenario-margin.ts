import { divRound, fromNumber, SCALE, toNumber, type Fixed } from '@clearsim/money';
import { black76Price, volatilityFor, yearsToExpiry } from '@clearsim/options';
import { underlyingOf, type Instrument, type LedgerState, type Position } from '@clearsim/ledger';
import type { PortfolioRules, Rules, UnderlyingScan } from '@clearsim/rules';

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
 *   requirement  = max(scan risk, Σ short option minimum), rounded up;
 *   IM           = requirement × initialToMaintenance, rounded up.
 *
 * For speed, the P&L per unit of each instrument in the 16 scenarios is a
 * Float64Array computed once per mark (and vol and time, for options) and
 * shared by every account: an account's requirement is then 16 multiply-adds
 * per position.
 */
export const SCENARIO_COUNT = 16;

interface Scenario {
  /** Fraction of the price scan range (extremes: ±1, scaled by extremeMove). */
  price: number;
  vol: -1 | 0 | 1;
  extreme: boolean;
}

export const SCAN_SCENARIOS: readonly Scenario[] = [
  { price: 0, vol: 1, extreme: false },
  { price: 0, vol: -1, extreme: false },
  { price: 1 / 3, vol: 1, extreme: false },
  { price: 1 / 3, vol: -1, extreme: false },
  { price: -1 / 3, vol: 1, extreme: false },
  { price: -1 / 3, vol: -1, extreme: false },
  { price: 2 / 3, vol: 1, extreme: false },
  { price: 2 / 3, vol: -1, extreme: false },
  { price: -2 / 3, vol: 1, extreme: false },
  { price: -2 / 3, vol: -1, extreme: false },
  { price: 1, vol: 1, extreme: false },
  { price: 1, vol: -1, extreme: false },
  { price: -1, vol: 1, extreme: false },
  { price: -1, vol: -1, extreme: false },
  { price: 1, vol: 0, extreme: true },
  { price: -1, vol: 0, extreme: true },
];

export function scanParameters(rules: Rules, underlying: string): UnderlyingScan {
  const scan = rules.portfolio?.underlyings[underlying];
  if (!scan) throw new Error(`rules "${rules.name}" have no scan parameters for underlying "${underlying}" (portfolio.underlyings)`);
  return scan;
}

interface CachedVector {
  rules: Rules;
  key: string;
  pnl: Float64Array;
}
const vectors = new WeakMap<LedgerState, Map<string, CachedVector>>();

/** P&L per unit of quantity of `instrument` in each scenario (multiplier included, extremes already weighted). */
export function scenarioPnlPerUnit(ledger: LedgerState, rules: Rules, instrument: Instrument): Float64Array {
  const mark = instrument.mark;
  if (mark === undefined) throw new Error(`no mark price for ${instrument.id}`);
  const underlyingId = underlyingOf(instrument);
  const scan = scanParameters(rules, underlyingId);
  const underlying = ledger.instruments.get(underlyingId);
  const option = instrument.premiumStyle && instrument.strike !== undefined && instrument.expiry !== undefined;
  const forward = option ? toNumber(underlying?.mark ?? 0n) : 0;
  const volatility = option ? (volatilityFor(ledger.volatility, underlyingId, toNumber(instrument.strike!), instrument.expiry!) ?? 0) : 0;
  const markedAt = instrument.markedAt ?? instrument.expiry ?? 0;
  const key = `${mark}|${forward}|${volatility}|${markedAt}`;
  let cache = vectors.get(ledger);
  if (!cache) vectors.set(ledger, (cache = new Map()));
  const cached = cache.get(instrument.id);
  // the rules object is replaced on every RulesActivated, so new scan parameters are never served stale
  if (cached?.key === key && cached.rules === rules) return cached.pnl;

  const range = toNumber(scan.priceScanRange);
  const volRange = toNumber(scan.volScanRange);
  const cover = toNumber(scan.extremeCover);
  const multiplier = toNumber(instrument.multiplier);
  const markNumber = toNumber(mark);
  const pnl = new Float64Array(SCENARIO_COUNT);
  SCAN_SCENARIOS.forEach((s, i) => {
    const move = s.price * range * (s.extreme ? scan.extremeMove : 1);
    const weight = s.extreme ? cover : 1;
    if (!option) {
      // a price cannot fall below 0: an extreme move past −100 % loses the whole mark
      pnl[i] = markNumber * Math.max(move, -1) * multiplier * weight;
      return;
    }
    const repriced = black76Price({
      forward: Math.max(0, forward * (1 + move)), // an extreme move beyond −100 % floors the price at 0
      strike: toNumber(instrument.strike!),
      years: yearsToExpiry(instrument.expiry!, markedAt),
      volatility: volatility * (1 + s.vol * volRange),
      rate: toNumber(rules.riskFreeRate),
      type: instrument.optionType ?? 'call',
    });
    pnl[i] = (repriced - markNumber) * multiplier * weight;
  });
  cache.set(instrument.id, { rules, key, pnl });
  return pnl;
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

const worstLoss = (pnl: Float64Array): number => {
  let worst = 0;
  for (let s = 0; s < SCENARIO_COUNT; s++) if (-pnl[s]! > worst) worst = -pnl[s]!;
  return worst;
};

/** The requirement of a set of positions (a margin unit, or one position alone). */
export function portfolioRequirement(ledger: LedgerState, rules: Rules, positions: readonly Position[]): PortfolioRequirement {
  const portfolio = rules.portfolio as PortfolioRules;
  const byUnderlyingPnl = new Map<string, Float64Array>();
  let shortOptionMinimum = 0;
  const total = new Float64Array(SCENARIO_COUNT);
  for (const position of positions) {
    if (position.qty === 0n) continue;
    const instrument = ledger.instruments.get(position.instrument)!;
    const underlying = underlyingOf(instrument);
    const perUnit = scenarioPnlPerUnit(ledger, rules, instrument);
    let acc = byUnderlyingPnl.get(underlying);
    if (!acc) byUnderlyingPnl.set(underlying, (acc = new Float64Array(SCENARIO_COUNT)));
    const qty = toNumber(position.qty);
    for (let s = 0; s < SCENARIO_COUNT; s++) {
      acc[s]! += qty * perUnit[s]!;
      total[s]! += qty * perUnit[s]!;
    }
    if (instrument.premiumStyle && qty < 0) {
      shortOptionMinimum += -qty * toNumber(instrument.multiplier) * toNumber(scanParameters(rules, underlying).shortOptionMinimum);
    }
  }
  const byUnderlying = new Map([...byUnderlyingPnl].map(([u, pnl]) => [u, worstLoss(pnl)]));
  let scanRisk = 0;
  const grouped = new Set<string>();
  for (const group of portfolio.groups) {
    const members = group.members.filter((m) => byUnderlyingPnl.has(m));
    if (members.length === 0) continue;
    members.forEach((m) => grouped.add(m));
    const joint = new Float64Array(SCENARIO_COUNT);
    for (const m of members) for (let s = 0; s < SCENARIO_COUNT; s++) joint[s]! += byUnderlyingPnl.get(m)![s]!;
    const separate = members.reduce((sum, m) => sum + byUnderlying.get(m)!, 0);
    scanRisk += separate - toNumber(group.offset) * (separate - worstLoss(joint));
  }
  for (const [u, risk] of byUnderlying) if (!grouped.has(u)) scanRisk += risk;
  const maintenanceMargin = fromNumber(Math.max(scanRisk, shortOptionMinimum), 'ceil');
  return {
    maintenanceMargin,
    initialMargin: divRound(maintenanceMargin * portfolio.initialToMaintenance, SCALE, 'ceil'),
    byUnderlying,
    scanRisk,
    shortOptionMinimum,
    scenarioPnl: total,
  };
}
