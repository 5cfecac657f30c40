import type { WithdrawalRequested } from '@clearsim/events';
import { getAccount } from '@clearsim/ledger';
import { mul3, SCALE } from '@clearsim/money';
import { collateralUnitValue, computeRisk, freeCollateral } from '@clearsim/margin';
import type { SagaContext } from './saga.context';
import { hasOpenCall } from './saga.state';

/**
 * A withdrawal is approved only up to free collateral (equity − IM; a non-cash
 * asset counts at its haircut value) and the balance actually held, and never while the account has an open margin call.
 * An isolated account's free collateral is its cash: its positions carry
 * their own margin.
 */
export function decideWithdrawal(ctx: SagaContext, request: WithdrawalRequested): void {
  const account = getAccount(ctx.ledger, request.account);
  const free = account.isolated ? account.cash : freeCollateral(computeRisk(ctx.ledger, ctx.rules, account));
  const { requestId, asset, amount } = request;
  const base = { ts: ctx.ts, requestId, account: account.id, asset, amount };
  const isCash = ctx.ledger.cashAsset === undefined || asset === ctx.ledger.cashAsset;
  // what the withdrawal takes out of equity: cash one for one, other collateral at its haircut value
  const { price, haircut } = isCash ? { price: SCALE, haircut: 0n } : collateralUnitValue(ctx.ledger, ctx.rules, asset);
  const equityImpact = isCash ? amount : mul3(amount, price, SCALE - haircut, 'ceil');
  const held = isCash ? account.cash : (account.collateral.get(asset) ?? 0n);
  if (hasOpenCall(ctx.saga, account.id)) {
    ctx.emit({ type: 'WithdrawalRejected', ...base, reason: 'account-under-margin-call', freeCollateral: free });
  } else if (equityImpact > free) {
    ctx.emit({ type: 'WithdrawalRejected', ...base, reason: 'insufficient-free-collateral', freeCollateral: free });
  } else if (amount > held && !(isCash && ctx.rules.model === 'lending')) {
    // (under a lending model, withdrawing cash beyond the balance is borrowing)
    ctx.emit({ type: 'WithdrawalRejected', ...base, reason: 'insufficient-balance', freeCollateral: free });
  } else {
    ctx.emit({ type: 'WithdrawalApproved', ...base });
  }
}
