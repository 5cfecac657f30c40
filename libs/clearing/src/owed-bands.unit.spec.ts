import fc from 'fast-check';
import { decodeEvent, type InputEvent } from '@clearsim/events';
import { ClearingEngine } from './clearing-engine';
import { expectFastPathsChangeNothing, expectSnapshotResumesLive, runLive } from './testing/run-live';
import { at } from './testing/given';
import { bookInputs, bookOpening, bookStep, freshlyBanded } from './testing/banding-book';

/**
 * A trade, a deposit or a withdrawal moves no mark: it leaves the bands of the
 * accounts it changed owed (PriceBands.owed) and the next input that reads the
 * bands bands them first (handle-input.ts, bandOwed). A market maker on the
 * other side of a run of trades is banded once for the run. Until then its old
 * bands stay in the heaps: nothing may read them.
 */

const RUNS = Number(process.env.PROPERTY_RUNS ?? 1);
const ACCOUNTS = ['alice', 'bob', 'mm'];
const handle = (engine: ClearingEngine, raw: Record<string, unknown>) => engine.handle(decodeEvent(raw, 'input') as InputEvent);

describe('bands owed by inputs that move no mark', () => {
  it('worked example: a tick inside alice\'s old band but below her new one (a second trade narrowed it) finds her', () => {
    // tiers 2.5 % MM up to 50,000 notional, call level = MM. alice deposits 2,500 and buys 100 A at 100 (MM 250):
    // her slack 2,250 gives a lower bound ≈ 100 − 2,250 / (100 × 1.025) ≈ 78.05. She buys 300 more (400 A, notional
    // 40,000, MM 1,000, slack 1,500): her band is now ≈ 100 − 1,500 / (400 × 1.025) ≈ 96.34, but it is owed: the
    // heaps still hold the old one. A at 96: 2,500 − 1,600 = 900 < MM 960, so she must be liquidated (grace 0):
    // only the banding of the owed accounts before the tick's crossings finds her.
    const inputs = [
      ...bookOpening(ACCOUNTS, [2500, 1, 1000000], 0),
      { ts: at(1), type: 'TradeExecuted', tradeId: 't1', instrument: 'A-PERP', buyer: 'alice', seller: 'mm', qty: '100', price: '100' },
    ];
    const engine = ClearingEngine.create();
    for (const raw of inputs) handle(engine, raw);
    // the deposits and the trade left their accounts owed (the opening's ticks came before them)
    expect([...engine.state.bands.owed].sort()).toEqual(['alice', 'backstop', 'bob', 'mm']);
    handle(engine, { ts: at(1), type: 'PriceUpdated', instrument: 'B-PERP', price: '100' });
    expect(engine.state.bands.owed.size).toBe(0);
    expect(engine.state.bands.bandsOfAccount('alice')[0]!.lower).toBeCloseTo(78.05, 1);

    const second = { ts: at(2), type: 'TradeExecuted', tradeId: 't2', instrument: 'A-PERP', buyer: 'alice', seller: 'mm', qty: '300', price: '100' };
    expect(handle(engine, second).decisions).toEqual([]);
    expect([...engine.state.bands.owed].sort()).toEqual(['alice', 'mm']);
    // the heaps still hold the band of 100 A
    expect(engine.state.bands.bandsOfAccount('alice')[0]!.lower).toBeCloseTo(78.05, 1);

    const tick = { ts: at(3), type: 'PriceUpdated', instrument: 'A-PERP', price: '96' };
    const decided = handle(engine, tick).decisions;
    expect(decided.map((d) => [d.type, (d as { account?: string }).account])).toContainEqual(['LiquidationStarted', 'alice']);
    expect(engine.state.bands.owed.size).toBe(0);

    const live = runLive([...inputs, { ts: at(1), type: 'PriceUpdated', instrument: 'B-PERP', price: '100' }, second, tick]);
    expect(live.engine.outputHash).toBe(engine.outputHash);
    expectFastPathsChangeNothing(live);
  });

  it('worked example: a run of 5,000 deposits owes at most 4,096 accounts at a time (memory bounded), and a tick bands them all', () => {
    const engine = ClearingEngine.create();
    for (const raw of bookOpening(ACCOUNTS, [2500, 2500, 1000000], 0)) handle(engine, raw);
    handle(engine, { ts: at(1), type: 'TradeExecuted', tradeId: 't1', instrument: 'A-PERP', buyer: 'alice', seller: 'mm', qty: '10', price: '100' });
    let most = 0;
    for (let i = 0; i < 5000; i++) {
      handle(engine, { ts: at(2), type: 'Deposited', account: `d${i}`, asset: 'USD', amount: '10' });
      most = Math.max(most, engine.state.bands.owed.size);
    }
    // the opening's deposits and the trade owe alice, bob, mm and backstop; with 4,093 depositors 4,097 are owed and
    // banded at once: 4 + 5,000 − 4,097 = 907 are owed at the end
    expect(most).toBe(4096);
    expect(engine.state.bands.owed.size).toBe(907);
    // the tick bands the owed accounts at the marks before it (as a trade banded its sides at its own): a banding
    // from scratch then gives the same bands, and 100 → 101 crosses none of them
    const fresh = freshlyBanded(engine);
    handle(engine, { ts: at(3), type: 'PriceUpdated', instrument: 'A-PERP', price: '101' });
    expect(engine.state.bands.owed.size).toBe(0);
    for (const account of ACCOUNTS) expect(engine.state.bands.bandsOfAccount(account)).toEqual(fresh.state.bands.bandsOfAccount(account));
    expect(engine.state.bands.bandsOfAccount('mm')).toHaveLength(1);
  });

  it('property: runs of trades between ticks (bands owed across them) decide as the exact path, and resume from a snapshot mid-stream', () => {
    // trades drawn four times as often as ticks: most ticks come after several trades, whose sides are all owed
    const step = fc.oneof({ weight: 4, arbitrary: bookStep(fc, ACCOUNTS.length, false).filter((s) => s.kind === 'trade') }, { weight: 1, arbitrary: bookStep(fc, ACCOUNTS.length, true) });
    fc.assert(
      fc.property(
        fc.tuple(fc.integer({ min: 500, max: 20000 }), fc.integer({ min: 500, max: 20000 }), fc.integer({ min: 100000, max: 2000000 })),
        fc.constantFrom(0, 2),
        fc.array(step, { minLength: 1, maxLength: 60 }),
        fc.nat(),
        (cash, graceSeconds, steps, cutAt) => {
          const live = runLive(bookInputs(ACCOUNTS, cash, graceSeconds, steps));
          expectFastPathsChangeNothing(live);
          expectSnapshotResumesLive(live, cutAt);
        },
      ),
      { numRuns: 100 * RUNS },
    );
  });
});
