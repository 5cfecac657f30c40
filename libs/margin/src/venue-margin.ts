import { abs, divRound, mul, mul3, SCALE, toNumber, type Fixed } from '@clearsim/money';
import type { Rules, SizeScaling, Tier, VenueInstrumentMargin } from '@clearsim/rules';
import type { Instrument, LedgerState } from '@clearsim/ledger';

/**
 * Venue margin mechanics (docs/rules.md §15): the rates of a position's tier,
 * scaled by its size (Drift v2, Coinbase International, Deribit), by the
 * instrument's open interest (dYdX v4) and floored by the leverage its owner
 * chose (dYdX 2025, Drift's max margin ratio). Each venue's own units and
 * rounding where it publishes them: dYdX in parts per million, its scaled IMF
 * floored; Drift in 10^-4, every division floored; elsewhere rates at the
 * ledger's 10^-8, rounded up. The amounts are then rounded up (requirements).
 *
 * Inverse (coin-margined) instruments: a position's "size" is its value in the
 * settlement coin, face × |qty| / mark (its notional, rounded up), which for a
 * contract on BTC margined in BTC is the size in the base asset the venues' rules
 * speak of (Deribit's "position size in BTC", Drift's base asset amount, Coinbase's size
 * against the volume in the underlying); dYdX's open-interest caps, in the quote
 * currency, compare the open interest's face value OI × face (USD, whatever the mark);
 * the requirements are in the coin (docs/rules.md, "Venue mechanics on inverse instruments").
 */

const PPM = 1_000_000n;
/** A ppm is 100 ledger units of a rate (10^-6 / 10^-8). */
const LEDGER_PER_PPM = 100n;
/** Drift's MARGIN_PRECISION is 10^4: one unit is 10^4 ledger units of a rate. */
const LEDGER_PER_DRIFT_RATIO = 10_000n;

/** The venue block of an instrument: its own, else "*"; undefined when the rules have none. */
export function venueInstrumentMargin(rules: Rules, instrument: string): VenueInstrumentMargin | undefined {
  const instruments = rules.venueMargin?.instruments;
  return instruments && (instruments[instrument] ?? instruments['*']);
}

/**
 * Whether a position's maintenance margin in this instrument may differ from
 * its tier's linear rate (size scaling, high-leverage mode): the price bands
 * and the float screen cannot bound it and leave such units to the exact check.
 */
export function venueScalesMaintenance(rules: Rules, instrument: string): boolean {
  return venueInstrumentMargin(rules, instrument)?.sizeScaling !== undefined;
}

/** ⌊√n⌋ of a non-negative bigint (Newton's method from above, exact). */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (let y = (x + n / x) / 2n; y < x; y = (x + n / x) / 2n) x = y;
  return x;
}

/** ⌈√n⌉ of a non-negative bigint. */
function ceilSqrt(n: bigint): bigint {
  const root = isqrt(n);
  return root * root === n ? root : root + 1n;
}

/**
 * The open interest of an instrument (Σ long qty), as the ledger keeps it; for
 * a state restored from a snapshot older than that field, counted once from
 * the holders and kept from then on.
 */
export function openInterestOf(ledger: LedgerState, instrument: Instrument): Fixed {
  if (instrument.openInterest === undefined) {
    let total = 0n;
    for (const id of ledger.holders.get(instrument.id) ?? []) {
      const qty = ledger.accounts.get(id)?.positions.get(instrument.id)?.qty ?? 0n;
      if (qty > 0n) total += qty;
    }
    instrument.openInterest = total;
  }
  return instrument.openInterest;
}

/** Initial and maintenance rates of a position after size scaling, and whether MM is fixed as a share of IM. */
interface ScaledRates {
  initialRate: Fixed;
  maintenanceRate: Fixed;
  /** Coinbase International: MM = IM × numerator / denominator (the tier's maintenance rate unused). */
  maintenanceOfInitial?: { numerator: bigint; denominator: bigint };
}

/**
 * Drift v2 `calculate_size_premium_liability_weight` in its units: ratios in
 * 10^-4, size in 10^-9 of the base asset, imf_factor in 10^-6. The premium is
 * ⌊⌊√(size·10 + 1)⌋ · imf / 10^7⌋ and the ratio MR − ⌊MR/5⌋ + premium;
 * `bounded` takes the max with MR.
 */
export function driftSizePremiumRatio(size9: bigint, imf6: bigint, ratio4: bigint, bounded: boolean): bigint {
  if (imf6 === 0n) return ratio4;
  const premium = (isqrt(size9 * 10n + 1n) * imf6) / 10_000_000n;
  const scaled = ratio4 - ratio4 / 5n + premium;
  return bounded && ratio4 > scaled ? ratio4 : scaled;
}

/**
 * Drift v2 high-leverage mode (`calc_high_leverage_mode_initial_margin_ratio_from_size`):
 * the normal initial ratio's size premium decides how much of the gap between
 * the normal and the high-leverage ratio is given back. With the size-adjusted
 * normal ratio `adjusted` below the normal `normal`, the discount factor is
 * 1 − (normal − adjusted)/⌊normal/5⌋ (in 10^-6, floored) and the ratio
 * hl + ⌊max(normal − hl, 1) × factor⌋; equal: hl; above: the adjusted ratio.
 */
export function driftHighLeverageInitialRatio(normal4: bigint, adjusted4: bigint, highLeverage4: bigint): bigint {
  if (adjusted4 === normal4) return highLeverage4;
  if (adjusted4 > normal4) return adjusted4;
  const fifth = normal4 / 5n;
  const given = fifth === 0n ? PPM : ((normal4 - adjusted4) * PPM) / fifth;
  const factor = given >= PPM ? 0n : PPM - given;
  const delta = normal4 > highLeverage4 ? normal4 - highLeverage4 : 1n;
  return (delta * factor) / PPM + highLeverage4;
}

/**
 * A position's size in units of the underlying, at the ledger scale (rounded up): |qty| × multiplier; inverse:
 * its value in the coin, |qty| × face / mark.
 */
function sizeOf(qty: Fixed, instrument: Instrument): Fixed {
  if (instrument.inverse) return divRound(abs(qty) * instrument.multiplier, instrument.mark ?? 1n, 'ceil');
  return mul(abs(qty), instrument.multiplier, 'ceil');
}

/** The size at 10^-9 (Drift's base_asset_amount), floored: |qty| × multiplier; inverse: |qty| × face / mark in the coin. */
function sizeIn9(qty: Fixed, instrument: Instrument): bigint {
  // linear: the exact product |qty| × multiplier (10^-16) floored to 10^-9; inverse: (|qty| × face / mark) × 10
  if (instrument.inverse) return (abs(qty) * instrument.multiplier * 10n) / (instrument.mark ?? 1n);
  return (abs(qty) * instrument.multiplier) / 10_000_000n;
}

function sizeScaledRates(scaling: SizeScaling, tier: Tier, qty: Fixed, instrument: Instrument, highLeverage: boolean): ScaledRates {
  switch (scaling.kind) {
    case 'sqrt-premium': {
      // Drift's base_asset_amount is in 10^-9
      const size9 = sizeIn9(qty, instrument);
      const imf6 = scaling.imfFactor / LEDGER_PER_PPM;
      const normalInitial = tier.initialRate / LEDGER_PER_DRIFT_RATIO;
      const hl = highLeverage ? scaling.highLeverage : undefined;
      let initial: bigint;
      let maintenance: bigint;
      if (hl) {
        const adjusted = driftSizePremiumRatio(size9, imf6, normalInitial, false);
        initial = driftHighLeverageInitialRatio(normalInitial, adjusted, hl.initialRate / LEDGER_PER_DRIFT_RATIO);
        maintenance = driftSizePremiumRatio(size9, imf6, hl.maintenanceRate / LEDGER_PER_DRIFT_RATIO, true);
      } else {
        initial = driftSizePremiumRatio(size9, imf6, normalInitial, true);
        maintenance = driftSizePremiumRatio(size9, imf6, tier.maintenanceRate / LEDGER_PER_DRIFT_RATIO, true);
      }
      return { initialRate: initial * LEDGER_PER_DRIFT_RATIO, maintenanceRate: maintenance * LEDGER_PER_DRIFT_RATIO };
    }
    case 'sqrt-volume': {
      // √(size / ADV) at 10^-8, rounded up: ⌈√(size/ADV × 10^16)⌉
      const share = divRound(sizeOf(qty, instrument) * SCALE, scaling.averageDailyVolume, 'ceil');
      const root = ceilSqrt(share * SCALE);
      const rate = mul(scaling.riskParameter, root, 'ceil');
      return {
        initialRate: rate > tier.initialRate ? rate : tier.initialRate,
        maintenanceRate: tier.maintenanceRate,
        maintenanceOfInitial: { numerator: BigInt(scaling.maintenanceNumerator), denominator: BigInt(scaling.maintenanceDenominator) },
      };
    }
    case 'linear': {
      const size = sizeOf(qty, instrument);
      return { initialRate: tier.initialRate + mul(size, scaling.initialPerUnit, 'ceil'), maintenanceRate: tier.maintenanceRate + mul(size, scaling.maintenancePerUnit, 'ceil') };
    }
  }
}

/**
 * dYdX v4 `GetAdjustedInitialMarginPpm`: base IMF below the lower cap of the
 * open notional, 1 at or above the upper cap, linear between, in ppm floored:
 * base + ⌊(1 − base) × (open notional − lower) / (upper − lower)⌋.
 */
export function openInterestScaledPpm(basePpm: bigint, openNotional: Fixed, lowerCap: Fixed, upperCap: Fixed): bigint {
  if (openNotional <= lowerCap) return basePpm;
  if (openNotional >= upperCap) return PPM;
  return basePpm + ((PPM - basePpm) * (openNotional - lowerCap)) / (upperCap - lowerCap);
}

/** The leverage an account chose for an instrument (its own entry, else "*"), if any. */
function chosenLeverage(rules: Rules, account: string | undefined, instrument: string): Fixed | undefined {
  if (account === undefined) return undefined;
  const byInstrument = rules.venueMargin?.leverage[account];
  return byInstrument && (byInstrument[instrument] ?? byInstrument['*']);
}

/**
 * A position's IM and MM under the venue mechanics of its instrument, or
 * undefined when the rules have none for it (the tiers alone decide).
 * IM = ⌈N × initial rate⌉, MM = max(0, ⌈N × maintenance rate − A⌉) with A the
 * tier's maintenance amount (or ⌈IM × num / den⌉ for Coinbase's ⅔).
 */
export function venuePositionMargin(
  ledger: LedgerState,
  rules: Rules,
  account: string | undefined,
  instrument: Instrument,
  qty: Fixed,
  tier: Tier,
  notional: Fixed,
): { initialMargin: Fixed; maintenanceMargin: Fixed } | undefined {
  const venue = venueInstrumentMargin(rules, instrument.id);
  const leverage = chosenLeverage(rules, account, instrument.id);
  if (!venue && leverage === undefined) return undefined;
  const highLeverage = account !== undefined && (rules.venueMargin?.highLeverageAccounts.includes(account) ?? false);
  const scaled: ScaledRates = venue?.sizeScaling
    ? sizeScaledRates(venue.sizeScaling, tier, qty, instrument, highLeverage)
    : { initialRate: tier.initialRate, maintenanceRate: tier.maintenanceRate };
  let maintenanceMargin: Fixed;
  if (scaled.maintenanceOfInitial) {
    const sizeInitial = divRound(notional * scaled.initialRate, SCALE, 'ceil');
    maintenanceMargin = divRound(sizeInitial * scaled.maintenanceOfInitial.numerator, scaled.maintenanceOfInitial.denominator, 'ceil');
  } else {
    const mm = divRound(notional * scaled.maintenanceRate - tier.maintenanceAmount * SCALE, SCALE, 'ceil');
    maintenanceMargin = mm > 0n ? mm : 0n;
  }
  let initialRate = scaled.initialRate;
  const oi = venue?.openInterestScaling;
  if (oi) {
    const mark = instrument.mark ?? 0n;
    // the caps are in the quote currency: an inverse contract's quote notional is its face, OI × face (in USD, at any mark)
    const openNotional = instrument.inverse ? mul(openInterestOf(ledger, instrument), instrument.multiplier, 'ceil') : mul3(openInterestOf(ledger, instrument), mark, instrument.multiplier, 'ceil');
    const basePpm = divRound(initialRate, LEDGER_PER_PPM, 'ceil');
    initialRate = openInterestScaledPpm(basePpm, openNotional, oi.lowerCap, oi.upperCap) * LEDGER_PER_PPM;
  }
  if (leverage !== undefined) {
    // the chosen leverage's IMF, 1/leverage, rounded up: a floor, never a discount
    const floor = divRound(SCALE * SCALE, leverage, 'ceil');
    if (floor > initialRate) initialRate = floor;
  }
  const initialMargin = divRound(notional * initialRate, SCALE, 'ceil');
  // IM never below MM (a size premium on MM alone, or a high-leverage IM under the normal MM, cannot invert them)
  return { initialMargin: initialMargin > maintenanceMargin ? initialMargin : maintenanceMargin, maintenanceMargin };
}

/**
 * For the price bands: the slope of a size-scaled position's MM in its notional
 * (MM = N × slope for a fixed size), as a float a little above the exact rate;
 * undefined where MM is not one line in the mark (several tiers: the tier, and
 * so the scaled rate, changes with the notional; an inverse position, whose size in the coin moves with the mark)
 * and the exact check must decide.
 */
export function venueMaintenanceSlope(rules: Rules, account: string, instrument: Instrument, qty: Fixed, tiers: readonly Tier[]): number | undefined {
  const scaling = venueInstrumentMargin(rules, instrument.id)?.sizeScaling;
  if (!scaling || tiers.length !== 1 || instrument.inverse) return undefined;
  const highLeverage = rules.venueMargin?.highLeverageAccounts.includes(account) ?? false;
  const scaled = sizeScaledRates(scaling, tiers[0]!, qty, instrument, highLeverage);
  const { maintenanceOfInitial: share } = scaled;
  const rate = share ? (toNumber(scaled.initialRate) * Number(share.numerator)) / Number(share.denominator) : toNumber(scaled.maintenanceRate);
  return rate * (1 + 1e-9);
}
