import { divRound, max, min, SCALE, type Fixed } from '@clearsim/money';
import type { FundingRateApplied } from '@clearsim/events';
import { fundingPayment, getAccount, getInstrument, holdersOf } from '@clearsim/ledger';
import type { FundingFormula, Rules } from '@clearsim/rules';
import type { SagaContext } from './saga.context';

/** The funding formula of an instrument: its own, else the "*" one, else none (the input's rate is paid as given). */
export function fundingFormulaOf(rules: Rules, instrument: string): FundingFormula | undefined {
  const formulas = rules.funding?.instruments;
  return formulas?.[instrument] ?? formulas?.['*'];
}

/** The premium index P = (mark − index) / index, rounded half-even to 10^-8. */
export function premiumIndex(mark: Fixed, index: Fixed): Fixed {
  return divRound((mark - index) * SCALE, index, 'halfEven');
}

/**
 * The rate a funding settlement pays, from the premium index P (docs/rules.md, "Funding from the premium index"):
 * - Binance: `F = P + clamp(I − P, −clamp, +clamp)` (I the interest rate per interval);
 * - Deribit: `F = max(deadBand, P) + min(−deadBand, P)` (0 within ±deadBand);
 * - neither: `F = P + I`;
 * then `F = clamp(F, −cap, +cap)`, and prorated: `F × periodSeconds / intervalSeconds`
 * (Deribit's time fraction), rounded half-even to 10^-8.
 */
export function fundingRateOf(formula: FundingFormula, premium: Fixed): Fixed {
  let rate: Fixed;
  if (formula.clamp !== undefined) {
    rate = premium + min(max(formula.interestRate - premium, -formula.clamp), formula.clamp);
  } else if (formula.deadBand !== undefined) {
    rate = max(formula.deadBand, premium) + min(-formula.deadBand, premium) + formula.interestRate;
  } else {
    rate = premium + formula.interestRate;
  }
  if (formula.cap !== undefined) rate = min(max(rate, -formula.cap), formula.cap);
  const period = formula.periodSeconds ?? formula.intervalSeconds;
  return period === formula.intervalSeconds ? rate : divRound(rate * BigInt(period), BigInt(formula.intervalSeconds), 'halfEven');
}

/**
 * Funding: each holder of the perpetual pays or receives
 * `−qty × price × rate × multiplier` (longs pay shorts when the rate is
 * positive), rounded down — against the account, whichever side it is on —
 * in the cash (margin) asset. The rate is the input's, or under rules
 * `funding` the formula's from the premium index; the price the mark, or the
 * index with `notionalAt: index`. The rounding residual, never negative, goes
 * to the fee collector in a `FundingSettled` of its own, so funding conserves money exactly.
 */
export function decideFunding(ctx: SagaContext, input: FundingRateApplied): void {
  const instrument = getInstrument(ctx.ledger, input.instrument);
  const mark = instrument.mark!;
  const formula = fundingFormulaOf(ctx.rules, instrument.id);
  let rate = input.rate;
  let price = mark;
  if (formula) {
    const index = formula.index === undefined ? undefined : indexPriceOf(ctx, formula.index, instrument.id);
    rate = fundingRateOf(formula, index === undefined ? input.rate : premiumIndex(mark, index));
    if (formula.notionalAt === 'index' && index !== undefined) price = index;
  }
  let residual = 0n;
  for (const id of holdersOf(ctx.ledger, instrument.id)) {
    const position = getAccount(ctx.ledger, id).positions.get(instrument.id)!;
    const amount = fundingPayment(position, instrument, price, rate);
    residual -= amount;
    if (amount !== 0n) {
      ctx.emit({ type: 'FundingSettled', ts: ctx.ts, account: id, instrument: instrument.id, rate, amount });
      ctx.touch(id);
    }
  }
  if (residual !== 0n) {
    ctx.emit({ type: 'FundingSettled', ts: ctx.ts, account: ctx.rules.accounts.fees, instrument: instrument.id, rate, amount: residual });
  }
}

function indexPriceOf(ctx: SagaContext, index: string, perpetual: string): Fixed {
  const mark = ctx.ledger.instruments.get(index)?.mark;
  // validated before the input is decided (see fundingInputError); kept as a guard
  if (mark === undefined) throw new Error(`funding of ${perpetual}: the index instrument ${index} has no price yet`);
  return mark;
}

/** Why a FundingRateApplied cannot be settled under the rules' funding formula (undefined: it can). */
export function fundingInputError(ledger: SagaContext['ledger'], rules: Rules | undefined, instrument: string): string | undefined {
  if (!rules) return undefined;
  const formula = fundingFormulaOf(rules, instrument);
  if (formula?.index === undefined) return undefined;
  const index = ledger.instruments.get(formula.index);
  if (!index) return `the funding formula's index instrument ${formula.index} is not listed`;
  if (index.mark === undefined) return `the funding formula's index instrument ${formula.index} has no price yet`;
  return undefined;
}
