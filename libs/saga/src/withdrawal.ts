import type { WithdrawalRequested } from '@clearsim/events';
import { getAccount } from '@clearsim/ledger';
import { computeRisk, freeCollateral } from '@clearsim/margin';
import type { SagaContext } from './saga.context';
import { hasOpenCall } from './saga.state';

/**
 * A withdrawal is approved only up to free collateral (equity − IM) and the
 * cash actually held, and never while the account has an open margin call.
 * An isolated account's free collateral is its cash: its positions carry
 * their own margin.
 */
export function decideWithdrawal(ctx: SagaContext, request: WithdrawalRequested): void {
  const account = getAccount(ctx.ledger, request.account);
  const free = account.isolated ? account.cash : freeCollateral(computeRisk(ctx.ledger, ctx.rules, account));
  const { requestId, asset, amount } = request;
  const base = { ts: ctx.ts, requestId, account: account.id, asset, amount };
  const called = hasOpenCall(ctx.saga, account.id);
  if (called) {
    ctx.emit({ type: 'WithdrawalRejected', ...base, reason: 'account-under-margin-call', freeCollateral: free });
  } else if (amount > free) {
    ctx.emit({ type: 'WithdrawalRejected', ...base, reason: 'insufficient-free-collateral', freeCollateral: free });
  } else if (amount > account.cash) {
    ctx.emit({ type: 'WithdrawalRejected', ...base, reason: 'insufficient-balance', freeCollateral: free });
  } else {
    ctx.emit({ type: 'WithdrawalApproved', ...base });
  }
}
