import { fromNumber, mul, toNumber, type Fixed } from '@clearsim/money';
import { black76Greeks, volatilityFor, yearsToExpiry } from '@clearsim/options';
import { returnsOf, underlyingOf, type Instrument, type LedgerState, type Position } from '@clearsim/ledger';
import { dynamicRate, ewmaVolatility, historicalSimulation, type Exposure } from '@clearsim/risk-models';
import type { Rules } from '@clearsim/rules';
import { notionalValue } from '../tiers';

/**
 * The series whose returns drive an instrument: its underlying's if that has
 * a price history (an index), else its own.
 */
export function historyKey(ledger: LedgerState, instrument: Instrument): string {
  const underlying = underlyingOf(instrument);
  return ledger.priceHistory.has(underlying) ? underlying : instrument.id;
}

/**
 * A position's exposure to its driving series (cash per unit return):
 * qty × mark × multiplier for futures and perpetuals; for an option its
 * Black-76 delta × forward × qty × multiplier (a first-order approximation;
 * the scenario model reprices options in full).
 */
function exposureOf(ledger: LedgerState, rules: Rules, position: Position, instrument: Instrument): number {
  const qty = toNumber(position.qty) * toNumber(instrument.multiplier);
  if (!instrument.premiumStyle || instrument.strike === undefined || instrument.expiry === undefined) return qty * toNumber(instrument.mark!);
  const underlying = ledger.instruments.get(underlyingOf(instrument));
  const forward = toNumber(underlying?.mark ?? 0n);
  const volatility = volatilityFor(ledger.volatility, underlyingOf(instrument), toNumber(instrument.strike), instrument.expiry) ?? 0;
  const { delta } = black76Greeks({
    forward,
    strike: toNumber(instrument.strike),
    years: yearsToExpiry(instrument.expiry, instrument.markedAt ?? instrument.expiry),
    volatility,
    rate: toNumber(rules.riskFreeRate),
    type: instrument.optionType ?? 'call',
  });
  return qty * delta * forward;
}

export interface VarRequirement {
  maintenanceMargin: Fixed;
  initialMargin: Fixed;
  /** True while some exposed series has fewer than `minimumHistory` returns: MM = fallbackRate × notional. */
  fallback: boolean;
  var: number;
  es: number;
  scenarios: number;
}

/**
 * Historical-simulation VaR or Expected Shortfall of a set of positions
 * (`model: var`): the portfolio's P&L in each of the last `lookback` sampled
 * periods is Σ exposure × that period's return of its series (so the
 * history carries the correlations); `filtered` first rescales each series'
 * returns to today's EWMA volatility (FHS); the loss quantile at
 * `confidence` (VaR) or the mean beyond it (ES) is scaled by √(horizon in
 * sampling periods). MM = that, rounded up; IM = MM × initialToMaintenance.
 * See libs/risk-models for the quantile convention.
 */
export function varRequirement(ledger: LedgerState, rules: Rules, positions: readonly Position[]): VarRequirement {
  const v = rules.var!;
  const exposures: Exposure[] = [];
  const histories = new Map<string, readonly number[]>();
  let notional = 0n;
  for (const position of positions) {
    if (position.qty === 0n) continue;
    const instrument = ledger.instruments.get(position.instrument)!;
    const key = historyKey(ledger, instrument);
    exposures.push({ underlying: key, exposure: exposureOf(ledger, rules, position, instrument) });
    histories.set(key, returnsOf(ledger, key));
    notional += notionalValue(position.qty, instrument.mark!, instrument.multiplier);
  }
  const ratio = v.initialToMaintenance;
  const short = [...histories.values()].some((returns) => returns.length < v.minimumHistory);
  if (exposures.length === 0 || short) {
    const maintenanceMargin = mul(notional, v.fallbackRate, 'ceil');
    return { maintenanceMargin, initialMargin: mul(maintenanceMargin, ratio, 'ceil'), fallback: exposures.length > 0, var: 0, es: 0, scenarios: 0 };
  }
  const stepsPerHorizon = Math.max(1, Math.round((v.horizonDays * 86_400) / rules.history.sampleSeconds));
  const result = historicalSimulation(exposures, histories, {
    lookback: v.lookback,
    horizonDays: stepsPerHorizon,
    confidence: toNumber(v.confidence),
    measure: v.measure,
    ...(v.method === 'filtered' ? { filter: { lambda: toNumber(v.lambda) } } : {}),
  });
  const maintenanceMargin = fromNumber(result.requirement, 'ceil');
  return { maintenanceMargin, initialMargin: mul(maintenanceMargin, ratio, 'ceil'), fallback: false, var: result.var, es: result.es, scenarios: result.scenarios };
}

/**
 * The dynamic-margin multiplier of a series (`dynamic`): its EWMA volatility,
 * annualized (× √ periods per year), over the reference, clamped to
 * [floor, cap], with the anti-procyclicality buffer or stressed weight of
 * EMIR RTS Art. 28 (libs/risk-models). 1 until there are two returns.
 */
export function dynamicMultiplier(ledger: LedgerState, rules: Rules, key: string): number {
  const d = rules.dynamic;
  if (!d) return 1;
  const returns = returnsOf(ledger, key);
  if (returns.length < 2) return 1;
  const periodsPerYear = (365 * 86_400) / rules.history.sampleSeconds;
  const ewmaVol = ewmaVolatility(returns, { lambda: toNumber(d.lambda) }) * Math.sqrt(periodsPerYear);
  const apc = d.antiProcyclicality;
  return dynamicRate({
    ewmaVol,
    referenceVol: toNumber(d.referenceVolatility),
    floor: toNumber(d.floor),
    cap: toNumber(d.cap),
    apc: apc.kind === 'none' ? apc : apc.kind === 'buffer' ? { kind: 'buffer', buffer: toNumber(apc.buffer) } : { kind: 'stressed-weight', weight: toNumber(apc.weight), stressedVol: toNumber(apc.stressedVolatility) },
  }).multiplier;
}
