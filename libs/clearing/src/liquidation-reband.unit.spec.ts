import fc from 'fast-check';
import { decodeEvent, formatTimestamp, type InputEvent } from '@clearsim/events';
import { ClearingEngine } from './clearing-engine';
import { expectFastPathsChangeNothing, expectSnapshotResumesLive, runLive } from './testing/run-live';
import { at } from './testing/given';
import { bookInputs, bookOpening, bookStep, bandsNow, freshlyBanded, type BookStep } from './testing/banding-book';
import { InputRejected } from './validate';
import { bandOwed } from './handle-input';

/**
 * An input that decides something (a liquidating tick) screens an account in
 * screenAll, in the settle loop and again to re-band it; a passing screen is
 * now kept for the input (handle-input.ts, PassedScreens) and reused while the
 * account has not changed. After every input, every account it re-banded must
 * hold the bands a fresh banding of the same state gives, and the fast paths
 * must decide as the exact path does.
 */

const RUNS = Number(process.env.PROPERTY_RUNS ?? 1);
const ACCOUNTS = ['alice', 'bob', 'carol', 'dave', 'mm'];
const opening = (cash: readonly number[], graceSeconds: number) => bookOpening(ACCOUNTS, cash, graceSeconds);
const step = bookStep(fc, ACCOUNTS.length, true);
const inputsOf = (cash: readonly number[], graceSeconds: number, steps: readonly BookStep[]) => bookInputs(ACCOUNTS, cash, graceSeconds, steps);

/**
 * The bands a fresh banding gives after the grace timers `input`'s ts passed have fired, and before the input itself:
 * the timers decide on the state before the input (its mark not yet applied; handle-input.ts), so an account they
 * re-banded and the input's mark did not cross holds the bands of that moment.
 */
function bandedBeforeInput(before: ClearingEngine, input: InputEvent): ClearingEngine {
  const engine = ClearingEngine.fromSnapshot(before.snapshot())!;
  engine.handle(decodeEvent({ ts: formatTimestamp(input.ts), type: 'ClockAdvanced' }, 'input') as InputEvent);
  return freshlyBanded(engine);
}

/**
 * Handles `input`, and answers the accounts it (re-)banded one by one (PriceBands.setFrom / set: every re-banding
 * but that of a tick whose crossings all pass screenAll, which decides nothing) and whether it decided something.
 */
function handleNoting(engine: ClearingEngine, input: InputEvent): { rebanded: Set<string>; decided: boolean; timersFired: boolean } {
  // the bands earlier inputs (trades, deposits) left owed are theirs, banded by whatever input comes next: not noted
  bandOwed(engine.state);
  const bands = engine.state.bands;
  const rebanded = new Set<string>();
  const setFrom = jest.spyOn(bands, 'setFrom');
  const set = jest.spyOn(bands, 'set');
  try {
    const result = engine.handle(input);
    for (const [account] of setFrom.mock.calls) rebanded.add(account);
    for (const [account] of set.mock.calls) rebanded.add(account);
    return { rebanded, decided: result.decisions.length > 0, timersFired: result.beforeInput > 0 };
  } finally {
    setFrom.mockRestore();
    set.mockRestore();
  }
}

/** handleNoting, or undefined when the core refuses the input (a generated day may hold inputs the core refuses). */
function handleNotingUnlessRejected(engine: ClearingEngine, input: InputEvent): ReturnType<typeof handleNoting> | undefined {
  try {
    return handleNoting(engine, input);
  } catch (error) {
    if (error instanceof InputRejected) return undefined;
    throw error;
  }
}

describe('an input that decides something re-bands the accounts it screened as a fresh banding would', () => {
  it('worked example: a tick that liquidates alice re-bands bob (alice is left with nothing), whose crossing passed the screen, from that screen', () => {
    // at 100: alice long 400 A (notional 40,000, MM 2.5 % = 1,000) on 2,500; bob long 50 A and 50 B (MM 125 + 125)
    // on 600, his slack of 350 shared by his two bands (lower bounds ~96.6 each); mm short both with 1,000,000.
    // A at 96: alice 2,500 − 1,600 = 900 < 960 (MM): liquidated at once (grace 0); bob 600 − 200 = 400 against
    // 120 + 125 = 245 passes the screen, his slack 155 shared again: A's band ≈ 96 − 77.5 / 48.75 ≈ 94.41,
    // B's ≈ 98.41 (each a little inside: the screen's error allowance)
    const inputs = opening([2500, 600, 1, 1, 1000000], 0);
    inputs.push({ ts: at(1), type: 'TradeExecuted', tradeId: 't1', instrument: 'A-PERP', buyer: 'alice', seller: 'mm', qty: '400', price: '100' });
    inputs.push({ ts: at(2), type: 'TradeExecuted', tradeId: 't2', instrument: 'A-PERP', buyer: 'bob', seller: 'mm', qty: '50', price: '100' });
    inputs.push({ ts: at(2), type: 'TradeExecuted', tradeId: 't3', instrument: 'B-PERP', buyer: 'bob', seller: 'mm', qty: '50', price: '100' });
    const engine = ClearingEngine.create();
    for (const raw of inputs) engine.handle(decodeEvent(raw, 'input') as InputEvent);
    expect(bandsNow(engine, 'bob').map((b) => b.lower)).toEqual([expect.closeTo(96.59, 2), expect.closeTo(96.59, 2)]);
    const tick = decodeEvent({ ts: at(3), type: 'PriceUpdated', instrument: 'A-PERP', price: '96' }, 'input') as InputEvent;
    const { rebanded, decided } = handleNoting(engine, tick);
    expect(decided).toBe(true);
    expect(engine.state.ledger.accounts.get('alice')!.positions.size).toBe(0);
    // alice holds nothing left: her bands are dropped; bob's come from the screen the settle loop kept
    expect([...rebanded]).toEqual(['bob']);
    expect(bandsNow(engine, 'alice')).toEqual([]);
    const fresh = freshlyBanded(engine);
    expect(bandsNow(engine, 'bob')).toEqual(fresh.state.bands.bandsOfAccount('bob'));
    const [a, b] = bandsNow(engine, 'bob');
    expect(a!.lower).toBeGreaterThan(94.41);
    expect(a!.lower).toBeLessThan(94.6);
    expect(b!.lower).toBeGreaterThan(98.41);
    expect(b!.lower).toBeLessThan(98.6);
  });

  it('property: after every input, the accounts it re-banded hold the bands of a fresh banding; fast paths and a snapshot mid-stream decide as the exact path', () => {
    fc.assert(
      fc.property(
        fc.tuple(...ACCOUNTS.map((account) => (account === 'mm' ? fc.integer({ min: 100000, max: 2000000 }) : fc.integer({ min: 500, max: 20000 })))),
        fc.constantFrom(0, 0, 2),
        fc.array(step, { minLength: 1, maxLength: 40 }),
        fc.nat(),
        (cash, graceSeconds, steps, cutAt) => {
          const inputs = inputsOf(cash, graceSeconds, steps);
          const engine = ClearingEngine.create();
          for (const raw of inputs) {
            const input = decodeEvent(raw, 'input') as InputEvent;
            const before = ClearingEngine.fromSnapshot(engine.snapshot())!;
            const noted = handleNotingUnlessRejected(engine, input);
            if (noted === undefined) continue;
            if (noted.rebanded.size === 0) continue;
            const fresh = freshlyBanded(engine);
            for (const account of noted.rebanded) {
              const live = bandsNow(engine, account);
              const after = fresh.state.bands.bandsOfAccount(account);
              // re-banded by the input's timers at the marks before it, and not crossed by its mark since: that moment's bands
              if (noted.timersFired && JSON.stringify(live) !== JSON.stringify(after)) expect(live).toEqual(bandedBeforeInput(before, input).state.bands.bandsOfAccount(account));
              else expect(live).toEqual(after);
            }
          }
          const live = runLive(inputs);
          expectFastPathsChangeNothing(live);
          expectSnapshotResumesLive(live, cutAt);
        },
      ),
      { numRuns: 150 * RUNS },
    );
  });

  it('worked example: a funding round screens each of its 24 holders once, and re-bands each from that screen', () => {
    // 24 holders long 10 A-PERP each at 100 on 5,000 (notional 1,000, MM 25: far from a call), mm short 240. A rate
    // of 0.0001: each long pays 10 × 100 × 0.0001 = 0.1, mm is paid 2.4. All 25 are checked (their cash moved) and
    // re-banded: the settle loop's screen of each is kept (PassedScreens, indexed past its first 16), so the
    // re-banding screens no one again: 25 screens, not 50
    const accounts = [...Array.from({ length: 24 }, (_, i) => `h${String(i).padStart(2, '0')}`), 'mm'];
    const steps: BookStep[] = accounts.slice(0, -1).map((_, i) => ({ kind: 'trade', buyer: i, seller: accounts.length - 1, instrument: 0, qty: 10, off: 0 }));
    const inputs = bookInputs(accounts, [...accounts.slice(0, -1).map(() => 5000), 2000000], 0, steps);
    const engine = ClearingEngine.create();
    for (const raw of inputs) engine.handle(decodeEvent(raw, 'input') as InputEvent);
    const funding = decodeEvent({ ts: at(100), type: 'FundingRateApplied', instrument: 'A-PERP', rate: '0.0001' }, 'input') as InputEvent;
    // the trades left their sides' bands owed (handle-input.ts, bandOwed): banded here, not counted as the round's
    bandOwed(engine.state);
    const screens = jest.spyOn(engine.state.bands, 'screenInto');
    let noted: ReturnType<typeof handleNoting>;
    let screenCount: number;
    try {
      noted = handleNoting(engine, funding);
      screenCount = screens.mock.calls.length;
    } finally {
      screens.mockRestore();
    }
    // 5,000 − 0.1 = 4,999.9
    expect(engine.state.ledger.accounts.get('h00')!.cash).toBe(499990000000n);
    expect(noted.rebanded.size).toBe(25);
    expect(screenCount).toBe(25);
    const fresh = freshlyBanded(engine);
    for (const account of accounts) expect(bandsNow(engine, account)).toEqual(fresh.state.bands.bandsOfAccount(account));
  });

  it('property: a funding round over more holders than the kept screens scan (an index by account finds them) re-bands each as a fresh banding; fast paths and a snapshot mid-stream decide as the exact path', () => {
    // 24 holders of a funded instrument: its round checks and re-bands them all, past the 16 screens found by a scan
    const accounts = [...Array.from({ length: 24 }, (_, i) => `h${String(i).padStart(2, '0')}`), 'mm'];
    const holdersStep = fc.oneof(
      bookStep(fc, accounts.length, false),
      fc.record({ kind: fc.constant('funding' as const), instrument: fc.nat(2), rate: fc.integer({ min: -200, max: 200 }) }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 500, max: 20000 }), { minLength: accounts.length - 1, maxLength: accounts.length - 1 }),
        fc.array(holdersStep, { minLength: 1, maxLength: 30 }),
        fc.nat(),
        (holderCash, steps, cutAt) => {
          const cash = [...holderCash, 2000000];
          // every holder long or short some of each instrument first, so that a round touches them all
          const opening: BookStep[] = accounts.slice(0, -1).flatMap((_, i) => [0, 1, 2].map((instrument) => ({ kind: 'trade' as const, buyer: i % 2 ? accounts.length - 1 : i, seller: i % 2 ? i : accounts.length - 1, instrument, qty: 1 + ((i * 7 + instrument * 13) % 40), off: 0 })));
          const inputs = bookInputs(accounts, cash, 0, [...opening, ...steps]);
          const engine = ClearingEngine.create();
          let fundingRebanded = 0;
          for (const raw of inputs) {
            const input = decodeEvent(raw, 'input') as InputEvent;
            const noted = handleNotingUnlessRejected(engine, input);
            if (noted === undefined) continue;
            if (input.type === 'FundingRateApplied') fundingRebanded = Math.max(fundingRebanded, noted.rebanded.size);
            if (noted.rebanded.size === 0) continue;
            const fresh = freshlyBanded(engine);
            for (const account of noted.rebanded) expect(bandsNow(engine, account)).toEqual(fresh.state.bands.bandsOfAccount(account));
          }
          // the rounds re-banded more accounts than the scan covers (unless no round came)
          if (steps.some((s) => s.kind === 'funding')) expect(fundingRebanded).toBeGreaterThan(16);
          const live = runLive(inputs);
          expectFastPathsChangeNothing(live);
          expectSnapshotResumesLive(live, cutAt);
        },
      ),
      { numRuns: 15 * RUNS },
    );
  });
});
