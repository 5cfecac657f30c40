import fc from 'fast-check';
import { decodeEvent, type InputEvent } from '@clearsim/events';
import { ClearingEngine } from './clearing-engine';
import { rebandAll } from './handle-input';
import { expectFastPathsChangeNothing, runLive } from './testing/run-live';
import { at, rulesFor } from './testing/given';
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
const INSTRUMENTS = ['A-PERP', 'B-PERP', 'C-PERP'];
const ACCOUNTS = ['alice', 'bob', 'mm'];
const TIERS = { tiers: [{ upToNotional: '50000', initialRate: '0.05', maintenanceRate: '0.025' }, { initialRate: '0.2', maintenanceRate: '0.1', maintenanceAmount: '3750' }] };

function opening(cash: readonly number[]): Record<string, unknown>[] {
  return [
    { ts: at(0), type: 'RulesActivated', rules: rulesFor({ marginCall: { graceSeconds: 0 }, instruments: { '*': TIERS } }) },
    ...INSTRUMENTS.flatMap((instrument) => [
      { ts: at(0), type: 'InstrumentListed', instrument, kind: 'perpetual', underlying: instrument.slice(0, 1) },
      { ts: at(0), type: 'PriceUpdated', instrument, price: '100' },
    ]),
    ...ACCOUNTS.map((account, i) => ({ ts: at(0), type: 'Deposited', account, asset: 'USD', amount: String(cash[i]) })),
    { ts: at(0), type: 'Deposited', account: 'backstop', asset: 'USD', amount: '100000000' },
  ];
}

/** A fresh engine at the same state, banded from scratch: the bands a check of each account would give it now. */
function freshlyBanded(engine: ClearingEngine): ClearingEngine {
  const fresh = ClearingEngine.fromSnapshot(engine.snapshot())!;
  rebandAll(fresh.state);
  return fresh;
}

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('trade' as const), buyer: fc.nat(2), seller: fc.nat(2), instrument: fc.nat(2), qty: fc.integer({ min: 1, max: 400 }), off: fc.integer({ min: -5, max: 5 }) }),
  fc.record({ kind: fc.constant('price' as const), instrument: fc.nat(2), move: fc.integer({ min: -15, max: 15 }) }),
);

type Step = { kind: 'trade'; buyer: number; seller: number; instrument: number; qty: number; off: number } | { kind: 'price'; instrument: number; move: number };

function inputsOf(cash: readonly number[], steps: readonly Step[]): Record<string, unknown>[] {
  const marks = INSTRUMENTS.map(() => 100);
  const inputs = opening(cash);
  steps.forEach((s, i) => {
    const ts = at(1 + i);
    const k = s.instrument;
    const instrument = INSTRUMENTS[k]!;
    if (s.kind === 'price') {
      marks[k] = Math.max(1, marks[k]! + s.move);
      inputs.push({ ts, type: 'PriceUpdated', instrument, price: String(marks[k]) });
    } else if (s.buyer !== s.seller) {
      const price = Math.max(1, marks[k]! + s.off);
      inputs.push({ ts, type: 'TradeExecuted', tradeId: `t${i}`, instrument, buyer: ACCOUNTS[s.buyer], seller: ACCOUNTS[s.seller], qty: String(s.qty), price: String(price) });
    }
  });
  return inputs;
}

describe('a trade that decides nothing re-bands its sides as a fresh banding would', () => {
  it('worked example: the market maker (the later id) holding three positions keeps the bands its screen cut', () => {
    // mm sells 100 A, 100 B and 100 C at 100 to alice: each leg 10,000 notional, IM 5 % = 500 each; alice's 5,000
    // covers 1,500 of IM, mm's 1,000,000 covers anything: no call, no decision, both sides re-banded
    const inputs = opening([5000, 1, 1000000]);
    INSTRUMENTS.forEach((instrument, i) => inputs.push({ ts: at(1 + i), type: 'TradeExecuted', tradeId: `t${i}`, instrument, buyer: 'alice', seller: 'mm', qty: '100', price: '100' }));
    const live = runLive(inputs, {
      afterEach: (engine) => {
        const fresh = freshlyBanded(engine);
        for (const account of ['alice', 'mm']) expect(engine.state.bands.bandsOfAccount(account)).toEqual(fresh.state.bands.bandsOfAccount(account));
      },
    });
    expect(live.log.filter((e) => e.type !== 'TradeExecuted' && e.type !== 'Deposited' && e.type !== 'PriceUpdated' && e.type !== 'InstrumentListed' && e.type !== 'RulesActivated')).toEqual([]);
    // three bands each, one per instrument; a short's band is bounded above (a rising price hurts it)
    const mm = live.engine.state.bands.bandsOfAccount('mm');
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
          for (const account of [input.buyer, input.seller]) expect(engine.state.bands.bandsOfAccount(account)).toEqual(fresh.state.bands.bandsOfAccount(account));
        }
        expectFastPathsChangeNothing(runLive(inputs));
      }),
      { numRuns: 150 * RUNS },
    );
  });
});

