import { toNumber, type Fixed } from '@clearsim/money';
import { black76Price, volatilityFor, yearsToExpiry } from '@clearsim/options';
import { underlyingOf, type Instrument, type LedgerState } from '@clearsim/ledger';
import { ownEntry, type Rules, type UnderlyingScan } from '@clearsim/rules';

/**
 * The 16 scan scenarios and each instrument's P&L per unit in them (see
 * scenario-margin.ts for the margin built on them). A vector is a
 * Float64Array computed once per mark (and vol and time, for options) and
 * shared by every account.
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

/** The worst loss (≥ 0) in the 16 scenarios of the P&L vector at `offset`: max(0, max −pnl). */
export function worstLoss(pnl: Float64Array, offset: number): number {
  let worst = 0;
  for (let s = 0; s < SCENARIO_COUNT; s++) if (-pnl[offset + s]! > worst) worst = -pnl[offset + s]!;
  return worst;
}

export function scanParameters(rules: Rules, underlying: string): UnderlyingScan {
  const scan = ownEntry(rules.portfolio?.underlyings, underlying);
  if (!scan) throw new Error(`rules "${rules.name}" have no scan parameters for underlying "${underlying}" (portfolio.underlyings)`);
  return scan;
}

/** A cached vector and what it was computed from (compared by identity: marks are bigints, the surface and rules objects are replaced on change). */
export interface CachedVector {
  mark: Fixed;
  underlyingMark: Fixed | undefined;
  surface: LedgerState['volatility'] | undefined;
  markedAt: number;
  rules: Rules;
  pnl: Float64Array;
  underlying: string;
  multiplier: number;
  shortOptionMinimum: number;
}
const vectors = new WeakMap<LedgerState, Map<string, CachedVector>>();

/** Whether a cached vector was computed from the instrument's current mark, underlying mark, surface, time and rules. */
export function isFresh(cached: CachedVector, ledger: LedgerState, rules: Rules, instrument: Instrument): boolean {
  if (cached.mark !== instrument.mark || cached.rules !== rules || cached.markedAt !== (instrument.markedAt ?? instrument.expiry ?? 0)) return false;
  if (!instrument.premiumStyle) return true;
  return cached.surface === ledger.volatility && cached.underlyingMark === ledger.instruments.get(underlyingOf(instrument))?.mark;
}

/** The instrument's vector, recomputed only when what it was computed from changed. */
export function vectorOf(ledger: LedgerState, rules: Rules, instrument: Instrument): CachedVector {
  const mark = instrument.mark;
  if (mark === undefined) throw new Error(`no mark price for ${instrument.id}`);
  let cache = vectors.get(ledger);
  if (!cache) vectors.set(ledger, (cache = new Map()));
  const cached = cache.get(instrument.id);
  if (cached && isFresh(cached, ledger, rules, instrument)) return cached;

  const option = instrument.premiumStyle && instrument.strike !== undefined && instrument.expiry !== undefined;
  const underlyingId = underlyingOf(instrument);
  const underlyingMark = option ? ledger.instruments.get(underlyingId)?.mark : undefined;
  const surface = option ? ledger.volatility : undefined;
  const markedAt = instrument.markedAt ?? instrument.expiry ?? 0;
  const scan = scanParameters(rules, underlyingId);
  const forward = option ? toNumber(underlyingMark ?? 0n) : 0;
  const volatility = option ? (volatilityFor(ledger.volatility, underlyingId, toNumber(instrument.strike!), instrument.expiry!) ?? 0) : 0;
  const range = toNumber(scan.priceScanRange);
  const volRange = toNumber(scan.volScanRange);
  const cover = toNumber(scan.extremeCover);
  const multiplier = toNumber(instrument.multiplier);
  const markNumber = toNumber(mark);
  // an option's terms, the same in every scenario
  const strike = option ? toNumber(instrument.strike!) : 0;
  const years = option ? yearsToExpiry(instrument.expiry!, markedAt) : 0;
  const rate = toNumber(rules.riskFreeRate);
  const type = instrument.optionType ?? 'call';
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
      strike,
      years,
      volatility: volatility * (1 + s.vol * volRange),
      rate,
      type,
    });
    pnl[i] = (repriced - markNumber) * multiplier * weight;
  });
  const entry: CachedVector = { mark, underlyingMark, surface, markedAt, rules, pnl, underlying: underlyingId, multiplier, shortOptionMinimum: toNumber(scan.shortOptionMinimum) };
  cache.set(instrument.id, entry);
  return entry;
}

/** P&L per unit of quantity of `instrument` in each scenario (multiplier included, extremes already weighted). */
export function scenarioPnlPerUnit(ledger: LedgerState, rules: Rules, instrument: Instrument): Float64Array {
  return vectorOf(ledger, rules, instrument).pnl;
}
