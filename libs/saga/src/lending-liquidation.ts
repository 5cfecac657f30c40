import { divRound, min, mul, SCALE, type Fixed } from '@clearsim/money';
import type { Account } from '@clearsim/ledger';
import { computeRisk, type MarginUnit } from '@clearsim/margin';
import type { SagaContext } from './saga.context';
import { settleBankruptcy } from './bankruptcy';

/**
 * A lending liquidation (Aave v3 style), repeated while the health factor is
 * below 1: the liquidator (the backstop account) repays `closeFactor` of the
 * debt (rounded up) and takes the collateral asset of largest value (ties by
 * asset id) worth repaid × (1 + liquidationBonus) at its price, rounded up
 * against the account; when that asset cannot cover it, all of it is taken
 * and the repayment shrinks to its value ÷ (1 + bonus), rounded down. Debt
 * left with no collateral is a bankruptcy (insurance fund, then socialized).
 */
export function liquidateLoan(ctx: SagaContext, account: Account, unit: MarginUnit): void {
  const lending = ctx.rules.lending!;
  const bonus = SCALE + lending.liquidationBonus;
  for (let guard = 0; guard < 1000; guard++) {
    const debt = account.cash < 0n ? -account.cash : 0n;
    const risk = computeRisk(ctx.ledger, ctx.rules, account, unit);
    if (debt === 0n || risk.equity >= risk.maintenanceMargin) return;
    const largest = largestCollateral(ctx, account);
    if (!largest) {
      settleBankruptcy(ctx, account, unit, []);
      return;
    }
    let repaid = mul(debt, lending.closeFactor, 'ceil');
    // collateral units worth repaid × (1 + bonus) at the price, rounded up
    let amount = divRound(repaid * bonus, largest.price, 'ceil');
    if (amount > largest.balance) {
      amount = largest.balance;
      repaid = divRound(mul(amount, largest.price, 'floor') * SCALE, bonus, 'floor');
    }
    if (repaid <= 0n || amount <= 0n) {
      settleBankruptcy(ctx, account, unit, []);
      return;
    }
    ctx.emit({
      type: 'CollateralLiquidated',
      ts: ctx.ts,
      account: account.id,
      asset: largest.asset,
      amount,
      price: largest.price,
      repaid: min(repaid, debt),
      counterparty: ctx.rules.accounts.backstop,
    });
  }
}

function largestCollateral(ctx: SagaContext, account: Account): { asset: string; balance: Fixed; price: Fixed } | undefined {
  let best: { asset: string; balance: Fixed; price: Fixed; value: Fixed } | undefined;
  for (const [asset, balance] of [...account.collateral].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const price = ctx.ledger.instruments.get(asset)?.mark ?? 0n;
    if (balance <= 0n || price <= 0n) continue;
    const value = mul(balance, price, 'floor');
    if (!best || value > best.value) best = { asset, balance, price, value };
  }
  return best;
}
