import { divRound, mul3, SCALE, type Fixed } from '@clearsim/money';
import type { Account, LedgerState } from '@clearsim/ledger';
import type { Rules } from '@clearsim/rules';

/**
 * What one unit of a collateral asset counts for: its price (the mark of the
 * instrument named like the asset) × (1 − haircut), per unit. Zero without a
 * price. A stablecoin depeg is a PriceUpdated on it.
 */
export function collateralUnitValue(ledger: LedgerState, rules: Rules, asset: string): { price: Fixed; haircut: Fixed } {
  const price = ledger.instruments.get(asset)?.mark ?? 0n;
  return { price, haircut: rules.collateral[asset]?.haircut ?? SCALE };
}

/** Σ balance × price × (1 − haircut) over an account's non-cash collateral, rounded down (a value the account holds). */
export function collateralValue(ledger: LedgerState, rules: Rules, account: Account): Fixed {
  let value = 0n;
  for (const [asset, balance] of account.collateral) {
    const { price, haircut } = collateralUnitValue(ledger, rules, asset);
    value += mul3(balance, price, SCALE - haircut, 'floor');
  }
  return value;
}

/** The concentration add-on of a position: rate × max(0, notional − threshold), rounded up (a requirement). */
export function concentrationAddOn(rules: Rules, underlying: string, notional: Fixed): Fixed {
  const c = rules.concentration[underlying];
  if (!c || notional <= c.threshold) return 0n;
  return divRound((notional - c.threshold) * c.rate, SCALE, 'ceil');
}
