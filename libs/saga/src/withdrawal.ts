import type { WithdrawalRequested } from '@clearsim/events';
import { getAccount, type Account } from '@clearsim/ledger';
import { computeRisk, freeCollateral } from '@clearsim/margin';
import type { SagaContext } from './saga.context';
import { hasOpenCall } from './saga.state';

/**
 * A withdrawal is approved only if the account still meets its initial margin
 * without it (free collateral after ≥ 0: one rule for cash, haircut collateral
 * and lending collateral alike) and up to the balance actually held, and never while the account has an open margin call.
 * An isolated account's free collateral is its cash: its positions carry
 * their own margin.
 */
export function decideWithdrawal(ctx: SagaContext, request: WithdrawalRequested): void {
  const account = getAccount(ctx.ledger, request.account);
  const { requestId, asset, amount } = request;
  const base = { ts: ctx.ts, requestId, account: account.id, asset, amount };
  const isCash = ctx.ledger.cashAsset === undefined || asset === ctx.ledger.cashAsset;
  const held = isCash ? account.cash : (account.collateral.get(asset) ?? 0n);
  const free = freeCollateralOf(ctx, account);
  // the account as it would be without the amount: it must still meet its initial margin
  const after: Account = isCash ? { ...account, cash: account.cash - amount } : { ...account, collateral: new Map(account.collateral).set(asset, held - amount) };
  if (hasOpenCall(ctx.saga, account.id)) {
    ctx.emit({ type: 'WithdrawalRejected', ...base, reason: 'account-under-margin-call', freeCollateral: free });
  } else if (freeCollateralOf(ctx, after) < 0n) {
    ctx.emit({ type: 'WithdrawalRejected', ...base, reason: 'insufficient-free-collateral', freeCollateral: free });
  } else if (amount > held && !(isCash && ctx.rules.model === 'lending')) {
    // (under a lending model, withdrawing cash beyond the balance is borrowing)
    ctx.emit({ type: 'WithdrawalRejected', ...base, reason: 'insufficient-balance', freeCollateral: free });
  } else {
    ctx.emit({ type: 'WithdrawalApproved', ...base });
  }
}

/** equity − IM of the account's cross unit; an isolated account's free collateral is its cash. */
function freeCollateralOf(ctx: SagaContext, account: Account): bigint {
  return account.isolated ? account.cash : freeCollateral(computeRisk(ctx.ledger, ctx.rules, account));
}
