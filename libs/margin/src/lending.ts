import { divRound, mul, SCALE, type Fixed } from '@clearsim/money';
import type { Account, LedgerState } from '@clearsim/ledger';
import { ownEntry, type Rules } from '@clearsim/rules';

/**
 * DeFi lending (`model: lending`, Aave v3 style). An account holds collateral
 * and owes debt in the cash asset (negative cash). With C = Σ balance × price
 * per collateral asset:
 *   health factor HF = Σ C·LT / debt   (∞ without debt)
 *   equity = cash + Σ C
 *   MM = Σ C·(1 − LT)   so that equity < MM  ⇔  cash + Σ C·LT < 0  ⇔  HF < 1
 *   IM = Σ C·(1 − LTV)  so that free collateral = equity − IM = cash + Σ C·LTV,
 *                         the borrowing power left
 * Values held round down, requirements up.
 */
export interface LendingRisk {
  collateral: Fixed;
  weightedForLiquidation: Fixed;
  maintenanceMargin: Fixed;
  initialMargin: Fixed;
}

export function lendingRisk(ledger: LedgerState, rules: Rules, account: Account): LendingRisk {
  let collateral = 0n;
  let weighted = 0n;
  let maintenance = 0n;
  let initial = 0n;
  for (const [asset, balance] of [...account.collateral].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const params = ownEntry(rules.lending?.assets, asset);
    const price = ledger.instruments.get(asset)?.mark ?? 0n;
    const value = mul(balance, price, 'floor');
    collateral += value;
    if (!params) {
      // not a lending asset: it borrows nothing and protects nothing (LT = LTV = 0)
      maintenance += value;
      initial += value;
      continue;
    }
    weighted += mul(value, params.liquidationThreshold, 'floor');
    maintenance += mul(value, SCALE - params.liquidationThreshold, 'ceil');
    initial += mul(value, SCALE - params.ltv, 'ceil');
  }
  return { collateral, weightedForLiquidation: weighted, maintenanceMargin: maintenance, initialMargin: initial };
}

/** HF = Σ collateral × LT / debt as a float for display; Infinity without debt. */
export function healthFactor(ledger: LedgerState, rules: Rules, account: Account): number {
  const debt = account.cash < 0n ? -account.cash : 0n;
  if (debt === 0n) return Infinity;
  return Number(lendingRisk(ledger, rules, account).weightedForLiquidation) / Number(debt);
}

/**
 * HF = Σ collateral × LT / debt at ledger scale, rounded down (a displayed
 * health factor never looks safer than it is); undefined without debt (HF ∞).
 */
export function healthFactorFixed(ledger: LedgerState, rules: Rules, account: Account): Fixed | undefined {
  const debt = account.cash < 0n ? -account.cash : 0n;
  if (debt === 0n) return undefined;
  return divRound(lendingRisk(ledger, rules, account).weightedForLiquidation * SCALE, debt, 'floor');
}
