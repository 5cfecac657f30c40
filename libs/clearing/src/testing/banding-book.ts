import type FastCheck from 'fast-check';
import { ClearingEngine } from '../clearing-engine';
import type { Band } from '@clearsim/margin';
import { bandOwed, rebandAll } from '../handle-input';
import { at, rulesFor } from './given';

/**
 * A small book for the re-banding properties (trade-reband, liquidation-reband): three perpetuals at 100 with two
 * tiers, accounts funded as given (the last one the market maker), and a backstop; steps of trades and marks.
 */
export const BOOK_INSTRUMENTS = ['A-PERP', 'B-PERP', 'C-PERP'];
const TIERS = { tiers: [{ upToNotional: '50000', initialRate: '0.05', maintenanceRate: '0.025' }, { initialRate: '0.2', maintenanceRate: '0.1', maintenanceAmount: '3750' }] };

export function bookOpening(accounts: readonly string[], cash: readonly number[], graceSeconds: number): Record<string, unknown>[] {
  return [
    { ts: at(0), type: 'RulesActivated', rules: rulesFor({ marginCall: { graceSeconds }, instruments: { '*': TIERS } }) },
    ...BOOK_INSTRUMENTS.flatMap((instrument) => [
      { ts: at(0), type: 'InstrumentListed', instrument, kind: 'perpetual', underlying: instrument.slice(0, 1) },
      { ts: at(0), type: 'PriceUpdated', instrument, price: '100' },
    ]),
    ...accounts.map((account, i) => ({ ts: at(0), type: 'Deposited', account, asset: 'USD', amount: String(cash[i]) })),
    { ts: at(0), type: 'Deposited', account: 'backstop', asset: 'USD', amount: '100000000' },
  ];
}

/** A fresh engine at the same state, banded from scratch: the bands a check of each account would give it now. */
/**
 * An account's bands as the next input that reads them finds them: the bands
 * earlier inputs left owed are banded first (handle-input.ts, bandOwed).
 */
export function bandsNow(engine: ClearingEngine, account: string): Band[] {
  bandOwed(engine.state);
  return engine.state.bands.bandsOfAccount(account);
}

export function freshlyBanded(engine: ClearingEngine): ClearingEngine {
  const fresh = ClearingEngine.fromSnapshot(engine.snapshot())!;
  rebandAll(fresh.state);
  return fresh;
}

export type BookStep =
  | { kind: 'trade'; buyer: number; seller: number; instrument: number; qty: number; off: number }
  | { kind: 'price'; instrument: number; move: number }
  /** A funding round of the instrument at `rate` / 10,000 (every holder pays or is paid, and is checked and re-banded). */
  | { kind: 'funding'; instrument: number; rate: number };

/**
 * Trades between any two of `accountCount` accounts near the mark, moves of the mark, and with `gaps` falls past the
 * longs' bankruptcy prices. fast-check comes from the spec (a dev dependency: nothing built may load it).
 */
export function bookStep(fc: typeof FastCheck, accountCount: number, gaps: boolean): FastCheck.Arbitrary<BookStep> {
  const steps: FastCheck.Arbitrary<BookStep>[] = [
    fc.record({ kind: fc.constant('trade' as const), buyer: fc.nat(accountCount - 1), seller: fc.nat(accountCount - 1), instrument: fc.nat(2), qty: fc.integer({ min: 1, max: 400 }), off: fc.integer({ min: -5, max: 5 }) }),
    fc.record({ kind: fc.constant('price' as const), instrument: fc.nat(2), move: fc.integer({ min: -15, max: 15 }) }),
  ];
  // a gap past the longs' bankruptcy prices: fills at a loss, the insurance drawn, losses shared
  if (gaps) steps.push(fc.record({ kind: fc.constant('price' as const), instrument: fc.nat(2), move: fc.integer({ min: -60, max: -20 }) }));
  return fc.oneof(...steps);
}

/** The opening and the steps as input JSON, one second apart (a trade of an account with itself is skipped). */
export function bookInputs(accounts: readonly string[], cash: readonly number[], graceSeconds: number, steps: readonly BookStep[]): Record<string, unknown>[] {
  const marks = BOOK_INSTRUMENTS.map(() => 100);
  const inputs = bookOpening(accounts, cash, graceSeconds);
  steps.forEach((s, i) => {
    const ts = at(1 + i);
    const k = s.instrument;
    const instrument = BOOK_INSTRUMENTS[k]!;
    if (s.kind === 'funding') {
      inputs.push({ ts, type: 'FundingRateApplied', instrument, rate: (s.rate / 10000).toFixed(4) });
    } else if (s.kind === 'price') {
      marks[k] = Math.max(1, marks[k]! + s.move);
      inputs.push({ ts, type: 'PriceUpdated', instrument, price: String(marks[k]) });
    } else if (s.buyer !== s.seller) {
      const price = Math.max(1, marks[k]! + s.off);
      inputs.push({ ts, type: 'TradeExecuted', tradeId: `t${i}`, instrument, buyer: accounts[s.buyer], seller: accounts[s.seller], qty: String(s.qty), price: String(price) });
    }
  });
  return inputs;
}
