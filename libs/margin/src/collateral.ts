import { divRound, mul, mul3, SCALE, type Fixed } from '@clearsim/money';
import type { Account, LedgerState } from '@clearsim/ledger';
import { ownEntry, type CollateralValueTier, type Rules } from '@clearsim/rules';

/**
 * What one unit of a collateral asset counts for: its price (the mark of the
 * instrument named like the asset) × (1 − haircut), per unit. Zero without a
 * price. A stablecoin depeg is a PriceUpdated on it. With a blended mark
 * (venueMargin.collateral.<asset>.blendedMark) the price is
 * max(floor, w × market + (1 − w) × redemption), rounded down (a value held).
 */
export function collateralUnitValue(ledger: LedgerState, rules: Rules, asset: string): { price: Fixed; haircut: Fixed } {
  const market = ledger.instruments.get(asset)?.mark ?? 0n;
  const blend = ownEntry(rules.venueMargin?.collateral, asset)?.blendedMark;
  const price = blend ? blendedCollateralPrice(market, blend.redemptionPrice, blend.marketWeight, blend.floor) : market;
  return { price, haircut: ownEntry(rules.collateral, asset)?.haircut ?? SCALE };
}

/** max(floor, w × market + (1 − w) × redemption), rounded down; no market price yet: the redemption price alone (still floored). */
export function blendedCollateralPrice(market: Fixed, redemption: Fixed, marketWeight: Fixed, floor: Fixed): Fixed {
  const blended = market > 0n ? divRound(market * marketWeight + redemption * (SCALE - marketWeight), SCALE, 'floor') : redemption;
  return blended > floor ? blended : floor;
}

/**
 * Binance-style tiered collateral: the held value `gross` is cut in slices at
 * each tier's `upToValue`; each slice counts at (1 − its haircut), rounded
 * down per slice; above the last bounded tier, the last tier's haircut.
 */
export function tieredCollateralValue(gross: Fixed, tiers: readonly CollateralValueTier[]): Fixed {
  let value = 0n;
  let from = 0n;
  for (let i = 0; i < tiers.length && from < gross; i++) {
    const tier = tiers[i]!;
    const last = i === tiers.length - 1;
    const to = tier.upToValue === undefined || last || tier.upToValue > gross ? gross : tier.upToValue;
    value += mul(to - from, SCALE - tier.haircut, 'floor');
    from = to;
  }
  return value;
}

/** What an account's balance of one collateral asset counts for (rounded down: a value the account holds). */
export function assetCollateralValue(ledger: LedgerState, rules: Rules, asset: string, balance: Fixed): Fixed {
  const { price, haircut } = collateralUnitValue(ledger, rules, asset);
  const tiers = ownEntry(rules.venueMargin?.collateral, asset)?.valueTiers;
  if (!tiers) return mul3(balance, price, SCALE - haircut, 'floor');
  return tieredCollateralValue(mul(balance, price, 'floor'), tiers);
}

/** Σ balance × price × (1 − haircut) over an account's non-cash collateral, rounded down (a value the account holds). */
export function collateralValue(ledger: LedgerState, rules: Rules, account: Account): Fixed {
  let value = 0n;
  for (const [asset, balance] of account.collateral) value += assetCollateralValue(ledger, rules, asset, balance);
  return value;
}

/**
 * Drift v2's deposit-scaled initial asset weight (`calculate_scaled_initial_asset_weight`):
 * once the deposits of an asset across every account are worth more than
 * `threshold` (D > T, at the collateral's price), each account's collateral in
 * it counts at T / D of its value for initial margin only. Returned as what
 * initial margin must add: V − ⌊V × T / D⌋ over the account's such assets.
 */
export function collateralInitialAddOn(ledger: LedgerState, rules: Rules, account: Account): Fixed {
  const venue = rules.venueMargin?.collateral;
  if (!venue || account.collateral.size === 0) return 0n;
  let addOn = 0n;
  for (const [asset, balance] of account.collateral) {
    const threshold = venue[asset]?.depositScaling?.threshold;
    if (threshold === undefined || balance <= 0n) continue;
    const deposits = mul(ledger.collateralNet.get(asset) ?? 0n, collateralUnitValue(ledger, rules, asset).price, 'floor');
    if (deposits <= threshold) continue;
    const held = assetCollateralValue(ledger, rules, asset, balance);
    addOn += held - divRound(held * threshold, deposits, 'floor');
  }
  return addOn;
}

/** The concentration add-on of a position: rate × max(0, notional − threshold), rounded up (a requirement). */
export function concentrationAddOn(rules: Rules, underlying: string, notional: Fixed): Fixed {
  const c = rules.concentration[underlying];
  if (!c || notional <= c.threshold) return 0n;
  return divRound((notional - c.threshold) * c.rate, SCALE, 'ceil');
}
