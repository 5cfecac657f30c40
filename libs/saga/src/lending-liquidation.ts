import { min, mul, SCALE, type Fixed } from '@clearsim/money';
import type { Account } from '@clearsim/ledger';
import { ownEntry, type LendingRules } from '@clearsim/rules';
import { computeRisk, lendingRisk, type MarginUnit } from '@clearsim/margin';
import type { SagaContext } from './saga.context';
import { settleBankruptcy } from './bankruptcy';

/** n ÷ d rounded half up (n ≥ 0, d > 0): Aave's PercentageMath rounding. */
const halfUp = (n: bigint, d: bigint): bigint => (2n * n + d) / (2n * d);

/**
 * A lending liquidation (Aave v3.3's LiquidationLogic), repeated while the
 * health factor is below 1. The liquidator (the backstop account) repays debt
 * and takes the collateral asset of largest value (ties by asset id):
 * 1. how much debt it may repay: all of it when HF ≤ `closeFactorHfThreshold`
 *    (Aave 0.95), or when the asset's collateral value or the debt is below
 *    `minBaseMaxCloseFactorThreshold` (Aave 2,000); else `closeFactor` (50 %)
 *    of the debt, rounded half up;
 * 2. the collateral for it: base = repaid ÷ price (rounded down), seized =
 *    base × (1 + bonus) (half up); when the asset cannot cover that, all of it
 *    is seized and repaid = its value (down) ÷ (1 + bonus) (half up);
 * 3. dust (Aave's MUST_NOT_LEAVE_DUST): a liquidation that clears neither the
 *    debt nor the asset must leave at least `minLeftoverBase` (Aave 1,000) of
 *    each; where it would not, the liquidator repays the whole debt instead
 *    (capped by the asset as in 2);
 * 4. the protocol fee: of the bonus part of the seized collateral, seized −
 *    seized ÷ (1 + bonus) (half up), the asset's `liquidationProtocolFee`
 *    share (half up) goes to the `fees` account, the rest to the liquidator.
 * Debt left with no collateral is a bankruptcy (insurance fund, then socialized).
 */
export function liquidateLoan(ctx: SagaContext, account: Account, unit: MarginUnit): void {
  const lending = ctx.rules.lending!;
  for (let guard = 0; guard < 1000; guard++) {
    const debt = account.cash < 0n ? -account.cash : 0n;
    const risk = computeRisk(ctx.ledger, ctx.rules, account, unit);
    if (debt === 0n || risk.equity >= risk.maintenanceMargin) return;
    const largest = largestCollateral(ctx, account);
    if (!largest) {
      settleBankruptcy(ctx, account, unit, []);
      return;
    }
    const weighted = lendingRisk(ctx.ledger, ctx.rules, account).weightedForLiquidation;
    let seizure = seize(lending, largest, debt, maxRepayable(lending, largest, debt, weighted));
    if (seizure && isDust(lending, largest, debt, seizure)) seizure = seize(lending, largest, debt, debt);
    if (!seizure) {
      settleBankruptcy(ctx, account, unit, []);
      return;
    }
    ctx.emit({
      type: 'CollateralLiquidated',
      ts: ctx.ts,
      account: account.id,
      asset: largest.asset,
      amount: seizure.seized - seizure.protocolFee,
      price: largest.price,
      repaid: seizure.repaid,
      counterparty: ctx.rules.accounts.backstop,
      ...(seizure.protocolFee > 0n ? { protocolFee: seizure.protocolFee } : {}),
    });
  }
}

interface Collateral {
  asset: string;
  balance: Fixed;
  price: Fixed;
  value: Fixed;
}

/**
 * The debt one liquidation may repay: the whole debt at HF ≤ the threshold
 * (weighted collateral × 1 ≤ threshold × debt, exactly) or below the minimum
 * base amounts; else closeFactor × debt, half up.
 */
export function maxRepayable(lending: LendingRules, collateral: Collateral, debt: Fixed, weightedCollateral: Fixed): Fixed {
  // a threshold of 0 is "never" (not HF ≤ 0, which an account with only zero-weight collateral would meet)
  const atOrBelowThreshold = lending.closeFactorHfThreshold > 0n && weightedCollateral * SCALE <= lending.closeFactorHfThreshold * debt;
  const small = collateral.value < lending.minBaseMaxCloseFactorThreshold || debt < lending.minBaseMaxCloseFactorThreshold;
  if (atOrBelowThreshold || small) return debt;
  return min(debt, halfUp(debt * lending.closeFactor, SCALE));
}

interface Seizure {
  /** Collateral units leaving the account (liquidator's amount + protocol fee). */
  seized: Fixed;
  repaid: Fixed;
  protocolFee: Fixed;
}

/** Aave's _calculateAvailableCollateralToLiquidate for a repayment of `repay` (undefined if nothing can be seized). */
function seize(lending: LendingRules, collateral: Collateral, debt: Fixed, repay: Fixed): Seizure | undefined {
  const bonus = SCALE + lending.liquidationBonus;
  const base = (repay * SCALE) / collateral.price;
  let seized = halfUp(base * bonus, SCALE);
  let repaid = repay;
  if (seized > collateral.balance) {
    seized = collateral.balance;
    repaid = halfUp(mul(seized, collateral.price, 'floor') * SCALE, bonus);
  }
  repaid = min(repaid, debt);
  if (seized <= 0n || repaid <= 0n) return undefined;
  const feeRate = ownEntry(lending.assets, collateral.asset)?.liquidationProtocolFee ?? 0n;
  const bonusPart = seized - halfUp(seized * SCALE, bonus);
  const protocolFee = feeRate > 0n ? halfUp(bonusPart * feeRate, SCALE) : 0n;
  return { seized, repaid, protocolFee };
}

/** Would the seizure clear neither the debt nor the asset and leave less than minLeftoverBase of either? */
function isDust(lending: LendingRules, collateral: Collateral, debt: Fixed, seizure: Seizure): boolean {
  if (lending.minLeftoverBase === 0n || seizure.repaid >= debt || seizure.seized >= collateral.balance) return false;
  const debtLeft = debt - seizure.repaid;
  const collateralLeft = mul(collateral.balance - seizure.seized, collateral.price, 'floor');
  return debtLeft < lending.minLeftoverBase || collateralLeft < lending.minLeftoverBase;
}

function largestCollateral(ctx: SagaContext, account: Account): Collateral | undefined {
  let best: Collateral | undefined;
  for (const [asset, balance] of [...account.collateral].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const price = ctx.ledger.instruments.get(asset)?.mark ?? 0n;
    if (balance <= 0n || price <= 0n) continue;
    const value = mul(balance, price, 'floor');
    if (!best || value > best.value) best = { asset, balance, price, value };
  }
  return best;
}
