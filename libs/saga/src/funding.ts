import type { FundingRateApplied } from '@clearsim/events';
import { fundingPayment, getAccount, getInstrument, holdersOf } from '@clearsim/ledger';
import type { SagaContext } from './saga.context';

/**
 * Funding: each holder of the perpetual pays or receives
 * `−qty × mark × rate × multiplier` (longs pay shorts when the rate is
 * positive), rounded down — against the account, whichever side it is on.
 * The rounding residual, never negative, goes to the fee collector in a
 * `FundingSettled` of its own, so funding conserves money exactly.
 */
export function decideFunding(ctx: SagaContext, input: FundingRateApplied): void {
  const instrument = getInstrument(ctx.ledger, input.instrument);
  const mark = instrument.mark!;
  let residual = 0n;
  for (const id of holdersOf(ctx.ledger, instrument.id)) {
    const position = getAccount(ctx.ledger, id).positions.get(instrument.id)!;
    const amount = fundingPayment(position, instrument, mark, input.rate);
    residual -= amount;
    if (amount !== 0n) {
      ctx.emit({ type: 'FundingSettled', ts: ctx.ts, account: id, instrument: instrument.id, rate: input.rate, amount });
      ctx.touch(id);
    }
  }
  if (residual !== 0n) {
    ctx.emit({ type: 'FundingSettled', ts: ctx.ts, account: ctx.rules.accounts.fees, instrument: instrument.id, rate: input.rate, amount: residual });
  }
}
