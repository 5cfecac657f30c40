import fc from 'fast-check';
import { decodeEvent, type InputEvent } from '@clearsim/events';
import { ClearingEngine } from './clearing-engine';
import { expectFastPathsChangeNothing, runLive } from './testing/run-live';
import { at } from './testing/given';
import { BOOK_INSTRUMENTS, bookInputs, bookOpening, bookStep, bandsNow, freshlyBanded, type BookStep } from './testing/banding-book';
import { InputRejected } from './validate';

/**
 * A trade that decides nothing re-bands its two sides; each side whose screen
 * passed in the settle loop takes the bands that screen cut instead of being
 * screened again (handle-input.ts, PassedScreens; before B1 round 35 only the
 * side screened last, the later id). Right after such
 * a trade both sides' bands must be the ones a fresh banding of the same state
 * gives, and the fast paths must decide as the exact path does.
 */

const RUNS = Number(process.env.PROPERTY_RUNS ?? 1);
const INSTRUMENTS = BOOK_INSTRUMENTS;
const ACCOUNTS = ['alice', 'bob', 'mm'];
const opening = (cash: readonly number[]) => bookOpening(ACCOUNTS, cash, 0);
const step = bookStep(fc, ACCOUNTS.length, false);
const inputsOf = (cash: readonly number[], steps: readonly BookStep[]) => bookInputs(ACCOUNTS, cash, 0, steps);

describe('a trade that decides nothing re-bands its sides as a fresh banding would', () => {
  it('worked example: the market maker (the later id) holding three positions keeps the bands its screen cut', () => {
    // mm sells 100 A, 100 B and 100 C at 100 to alice: each leg 10,000 notional, IM 5 % = 500 each; alice's 5,000
    // covers 1,500 of IM, mm's 1,000,000 covers anything: no call, no decision, both sides re-banded
    const inputs = opening([5000, 1, 1000000]);
    INSTRUMENTS.forEach((instrument, i) => inputs.push({ ts: at(1 + i), type: 'TradeExecuted', tradeId: `t${i}`, instrument, buyer: 'alice', seller: 'mm', qty: '100', price: '100' }));
    const live = runLive(inputs, {
      afterEach: (engine) => {
        const fresh = freshlyBanded(engine);
        for (const account of ['alice', 'mm']) expect(bandsNow(engine, account)).toEqual(fresh.state.bands.bandsOfAccount(account));
      },
    });
    expect(live.log.filter((e) => e.type !== 'TradeExecuted' && e.type !== 'Deposited' && e.type !== 'PriceUpdated' && e.type !== 'InstrumentListed' && e.type !== 'RulesActivated')).toEqual([]);
    // three bands each, one per instrument; a short's band is bounded above (a rising price hurts it)
    const mm = bandsNow(live.engine, 'mm');
    expect(mm.map((b) => b.instrument)).toEqual(INSTRUMENTS);
    for (const band of mm) expect(band.upper).toBeLessThan(Infinity);
  });

  it('property: after every trade that decides nothing, both sides hold the bands of a fresh banding; the fast paths decide as the exact path', () => {
    fc.assert(
      fc.property(fc.tuple(fc.integer({ min: 500, max: 20000 }), fc.integer({ min: 500, max: 20000 }), fc.integer({ min: 100000, max: 2000000 })), fc.array(step, { minLength: 1, maxLength: 40 }), (cash, steps) => {
        const inputs = inputsOf(cash, steps);
        const engine = ClearingEngine.create();
        for (const raw of inputs) {
          const input = decodeEvent(raw, 'input') as InputEvent;
          let decided: boolean;
          try {
            decided = engine.handle(input).decisions.length > 0;
          } catch (error) {
            if (error instanceof InputRejected) continue;
            throw error;
          }
          if (input.type !== 'TradeExecuted' || decided) continue;
          const fresh = freshlyBanded(engine);
          for (const account of [input.buyer, input.seller]) expect(bandsNow(engine, account)).toEqual(fresh.state.bands.bandsOfAccount(account));
        }
        expectFastPathsChangeNothing(runLive(inputs));
      }),
      { numRuns: 150 * RUNS },
    );
  });
});

