import fc from 'fast-check';
import { ClearingEngine, evolve } from '@clearsim/clearing';
import { decodeEvent, toCanonicalJson, type DecisionEvent, type InputEvent } from '@clearsim/events';
import { trade } from '@clearsim/ledger';
import { SCALE } from '@clearsim/money';
import { rulesFor } from '../../clearing/src/testing/given';
import { rankAdlCandidates, selectFirst, shareLoss, shareLossOverIndex } from './bankruptcy';
import { bankruptcyIndex, RankedList, type AdlCandidate } from './bankruptcy-index';
import type { SagaContext } from './saga.context';

/**
 * The per-input bankruptcy index (ADL queues, accounts in profit) must give
 * exactly what the straightforward computations give — the ranking of
 * rankAdlCandidates and the shares of shareLoss — after any sequence of the
 * decisions a bankruptcy makes; and the engine with it must decide exactly
 * what the engine without it (fastPaths: false) decides.
 */
const INSTRUMENTS = ['BTC-PERP', 'ETH-PERP'];
const START: Record<string, number> = { 'BTC-PERP': 10000, 'ETH-PERP': 500 };
const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();
const input = (raw: Record<string, unknown>, seconds = 0): InputEvent => decodeEvent({ ts: iso(seconds), ...raw }, 'input') as InputEvent;
const fixed = (units: number): bigint => BigInt(units) * (SCALE / 100n); // hundredths

const accountArb = fc.record({
  isolated: fc.boolean(),
  cash: fc.integer({ min: 1, max: 500_000 }), // hundredths of USD
  usdc: fc.integer({ min: 0, max: 200_000 }),
  // signed hundredths of a contract per instrument (0: none)
  qty: fc.array(fc.integer({ min: -300, max: 300 }), { minLength: 2, maxLength: 2 }),
  entry: fc.array(fc.double({ min: 0.8, max: 1.2, noNaN: true }), { minLength: 2, maxLength: 2 }),
});

const bookArb = fc.record({
  model: fc.constantFrom('cross', 'portfolio'),
  accounts: fc.array(accountArb, { minLength: 2, maxLength: 24 }),
  moves: fc.array(fc.double({ min: -0.3, max: 0.3, noNaN: true }), { minLength: 2, maxLength: 2 }),
  usdcPrice: fc.constantFrom('1', '0.9'),
});
type Book = typeof bookArb extends fc.Arbitrary<infer T> ? T : never;

/** `bankruptcy`: socialize, adl, or adl:<policy> (an `adl` block with that policy). */
const rulesOf = (model: string, bankruptcy: string, isolated: string[]): Record<string, unknown> =>
  rulesFor({
    marginCall: { graceSeconds: 0, cureAt: 'initial' },
    bankruptcy: bankruptcy.split(':')[0],
    ...(bankruptcy.includes(':') ? { adl: { policy: bankruptcy.split(':')[1] } } : {}),
    collateral: { USDC: { haircut: '0.05' } },
    instruments: { '*': { tiers: [{ upToNotional: '20000', initialRate: '0.1', maintenanceRate: '0.05' }, { initialRate: '0.15', maintenanceRate: '0.075', maintenanceAmount: '500' }] } },
    ...(model === 'portfolio'
      ? {
          model: 'portfolio',
          portfolio: { underlyings: Object.fromEntries(INSTRUMENTS.map((i) => [i, { priceScanRange: '0.08', volScanRange: '0.25' }])), groups: [{ members: INSTRUMENTS, offset: '0.5' }] },
        }
      : { isolatedAccounts: isolated }),
  });

/** PROPERTY_RUNS=10 for a longer search (as in libs/clearing/src/clearing-properties.unit.spec.ts). */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 1);

const idOf = (i: number): string => `t${String(i).padStart(2, '0')}`;

/**
 * A shard holding the book: rules, instruments, deposits through the engine; the positions booked with the
 * ledger's own trade (against a market maker, no margin checks), then the marks moved by `moves`.
 */
function shardOf(book: Book, bankruptcy: string): ClearingEngine {
  const engine = ClearingEngine.create();
  const isolated = book.accounts.flatMap((a, i) => (a.isolated ? [idOf(i)] : []));
  engine.handle(input({ type: 'RulesActivated', rules: rulesOf(book.model, bankruptcy, isolated) }));
  for (const instrument of INSTRUMENTS) {
    engine.handle(input({ type: 'InstrumentListed', instrument, kind: 'perpetual' }));
    engine.handle(input({ type: 'PriceUpdated', instrument, price: String(START[instrument]) }));
  }
  engine.handle(input({ type: 'InstrumentListed', instrument: 'USDC', kind: 'index' }));
  engine.handle(input({ type: 'PriceUpdated', instrument: 'USDC', price: book.usdcPrice }));
  engine.handle(input({ type: 'Deposited', account: 'mm', asset: 'USD', amount: '100000000' }));
  engine.handle(input({ type: 'Deposited', account: 'insurance', asset: 'USD', amount: '1000' }));
  book.accounts.forEach((a, i) => {
    engine.handle(input({ type: 'Deposited', account: idOf(i), asset: 'USD', amount: (a.cash / 100).toFixed(2) }));
    if (a.usdc > 0) engine.handle(input({ type: 'Deposited', account: idOf(i), asset: 'USDC', amount: (a.usdc / 100).toFixed(2) }));
  });
  const { ledger } = engine.state;
  const mm = ledger.accounts.get('mm')!;
  book.accounts.forEach((a, i) => {
    const account = ledger.accounts.get(idOf(i))!;
    INSTRUMENTS.forEach((id, k) => {
      const qty = fixed(a.qty[k]!);
      if (qty === 0n) return;
      const instrument = ledger.instruments.get(id)!;
      const price = fixed(Math.max(1, Math.round(START[id]! * a.entry[k]! * 100)));
      if (qty > 0n) trade(ledger, account, mm, instrument, qty, price);
      else trade(ledger, mm, account, instrument, -qty, price);
    });
  });
  INSTRUMENTS.forEach((id, k) => {
    ledger.instruments.get(id)!.mark = fixed(Math.max(1, Math.round(START[id]! * (1 + book.moves[k]!) * 100)));
  });
  return engine;
}

/** What a bankruptcy decides in between two others, at random: ADL fills, liquidations to the backstop, insurance draws, socialized shares. */
const opArb = fc.oneof(
  fc.record({ kind: fc.constant('adl' as const), a: fc.nat(), b: fc.nat(), instrument: fc.nat(1), qty: fc.integer({ min: -200, max: 200 }).filter((q) => q !== 0), price: fc.double({ min: 0.7, max: 1.3, noNaN: true }) }),
  fc.record({ kind: fc.constant('liquidate' as const), a: fc.nat(), instrument: fc.nat(1), fraction: fc.constantFrom(0.25, 0.5, 1) }),
  fc.record({ kind: fc.constant('draw' as const), a: fc.nat(), amount: fc.integer({ min: 1, max: 50_000 }) }),
  fc.record({ kind: fc.constant('socialize' as const), a: fc.nat(), payers: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 100_000 })), { maxLength: 8 }) }),
);
type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

function decisionOf(engine: ClearingEngine, book: Book, op: Op): DecisionEvent | undefined {
  const { ledger } = engine.state;
  const ts = T0 + 1000;
  const n = book.accounts.length;
  switch (op.kind) {
    case 'adl': {
      const [a, b] = [idOf(op.a % n), idOf(op.b % n)];
      if (a === b) return undefined;
      const instrument = INSTRUMENTS[op.instrument]!;
      const price = fixed(Math.max(1, Math.round(START[instrument]! * op.price * 100)));
      return { type: 'PositionAutoDeleveraged', ts, account: a, instrument, qty: fixed(op.qty), price, counterparty: b, rank: 1 };
    }
    case 'liquidate': {
      const account = idOf(op.a % n);
      const instrument = INSTRUMENTS[op.instrument]!;
      const position = ledger.accounts.get(account)!.positions.get(instrument);
      if (!position || position.qty === 0n) return undefined;
      const closed = (position.qty * BigInt(op.fraction * 100)) / 100n;
      if (closed === 0n) return undefined;
      return { type: 'PositionLiquidated', ts, account, instrument, qty: -closed, price: ledger.instruments.get(instrument)!.mark!, counterparty: 'backstop', fee: 0n };
    }
    case 'draw':
      return { type: 'InsuranceFundDrawn', ts, account: idOf(op.a % n), fund: 'insurance', amount: fixed(op.amount) };
    case 'socialize': {
      const account = idOf(op.a % n);
      // a share is charged against one of the payer's open positions (its cost basis moves)
      const shares = new Map<string, { instrument: string; amount: bigint }>();
      for (const [p, amount] of op.payers) {
        const payer = idOf(p % n);
        const open = [...ledger.accounts.get(payer)!.positions.values()].find((position) => position.qty !== 0n);
        if (payer !== account && open) shares.set(payer, { instrument: open.instrument, amount: fixed(amount) });
      }
      if (shares.size === 0) return undefined;
      const list = [...shares].sort(([x], [y]) => (x < y ? -1 : 1)).map(([payer, share]) => ({ account: payer, ...share }));
      const amount = list.reduce((s, x) => s + x.amount, 0n);
      return { type: 'LossSocialized', ts, account, amount, losses: [{ account, amount }], shares: list };
    }
  }
}

function contextOf(engine: ClearingEngine): SagaContext {
  const { state } = engine;
  return {
    ledger: state.ledger,
    rules: state.rules!,
    saga: state.saga,
    ts: T0 + 1000,
    fastPaths: true,
    emit: (decision) => evolve(state, decision),
    touch: () => {},
  };
}

/**
 * A crash of 20 % on INSTRUMENTS[crashed] after `book`'s rules are activated, decided by two engines, one with the
 * fast paths (bands, screens, the bankruptcy index) and one without: the same decisions in the same order, the same
 * outputHash. Answers how many accounts went bankrupt.
 */
function crashDecidedAlike(book: Book, bankruptcy: string, crashed: number): number {
  const live = shardOf(book, bankruptcy);
  const exact = shardOf(book, bankruptcy);
  exact.state.fastPaths = false;
  // the marks were moved by hand: the next input re-checks every account (bands are rebuilt on it)
  live.state.bandsStale = exact.state.bandsStale = true;
  const instrument = INSTRUMENTS[crashed]!;
  const price = (ledgerMark(live, instrument) * 0.8).toFixed(2);
  const decided = [live, exact].map((engine) => {
    const out: string[] = [];
    for (const raw of [{ type: 'RulesActivated', rules: rulesOf(book.model, bankruptcy, book.accounts.flatMap((a, i) => (a.isolated ? [idOf(i)] : []))) }, { type: 'PriceUpdated', instrument, price }]) {
      out.push(...engine.handle(input(raw, 1)).decisions.map((d) => JSON.stringify(toCanonicalJson(d))));
    }
    return out;
  });
  expect(decided[0]).toEqual(decided[1]);
  expect(live.outputHash).toBe(exact.outputHash);
  return decided[0]!.filter((d) => d.includes('"AccountBankrupted"')).length;
}

describe('the bankruptcy index', () => {
  it('ranks every ADL queue and shares every loss exactly as the straightforward computations, after any decisions', () => {
    fc.assert(
      fc.property(bookArb, fc.array(opArb, { maxLength: 25 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 10_000_000 })), { minLength: 1, maxLength: 26 }), fc.constantFrom('adl', 'adl:sort-index'), (book, ops, losses, bankruptcy) => {
        const engine = shardOf(book, bankruptcy);
        const ctx = contextOf(engine);
        const check = (step: number): void => {
          for (const instrument of INSTRUMENTS) {
            for (const bankruptQty of [SCALE, -SCALE]) {
              // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the float score is the index's own
              const fast = [...bankruptcyIndex(ctx).adlQueue(ctx, instrument, bankruptQty)].map(({ approx, ...candidate }: AdlCandidate & { approx?: number }) => candidate);
              expect(fast).toEqual(rankAdlCandidates(ctx, instrument, bankruptQty, ''));
            }
          }
          const [who, loss] = losses[step % losses.length]!;
          // one or two bankrupt accounts excluded from the weights
          const bankrupt = new Set([idOf(who % book.accounts.length), idOf((who >> 1) % book.accounts.length)]);
          expect(shareLossOverIndex(ctx, bankrupt, fixed(loss))).toEqual(shareLoss(ctx, bankrupt, fixed(loss)));
        };
        check(0);
        ops.forEach((op, i) => {
          const decision = decisionOf(engine, book, op);
          if (decision) ctx.emit(decision);
          check(i + 1);
        });
      }),
      { numRuns: 150 * RUNS },
    );
  });

  it('a holder the crash did not cross, made bankrupt by an ADL fill in the first round, is checked in that round as without the bands', () => {
    // found by the property below (seed -177948633): t01 goes bankrupt on the crash of BTC-PERP and its ADL fills
    // take t02's isolated ETH-PERP unit below zero. Without the bands the first round holds every BTC-PERP holder in
    // id order, so t02 (after t01) is liquidated there, before t03; with them it held only the crossed accounts, and
    // t02 waited for the next round: the same decisions in another order, another outputHash
    const book: Book = {
      model: 'cross',
      accounts: [
        { isolated: false, cash: 1, usdc: 0, qty: [68, 1], entry: [1.1516845, 0.8] },
        { isolated: false, cash: 1, usdc: 3605, qty: [7, 1], entry: [0.9999995, 0.8] },
        { isolated: true, cash: 1, usdc: 0, qty: [-69, -3], entry: [1.0051345, 1.03483] },
        { isolated: false, cash: 1, usdc: 0, qty: [22, 0], entry: [0.8226395, 0.8] },
        { isolated: false, cash: 1, usdc: 0, qty: [0, 0], entry: [0.8, 0.8] },
        { isolated: false, cash: 1, usdc: 0, qty: [0, 0], entry: [0.8, 0.8] },
      ],
      moves: [0, 0],
      usdcPrice: '1',
    };
    expect(crashDecidedAlike(book, 'adl', 0)).toBeGreaterThanOrEqual(2);
  });

  it('the engine decides a crash with it exactly as without it (fastPaths: false), under ADL and socialization', () => {
    let bankruptcies = 0;
    let crowded = 0;
    fc.assert(
      fc.property(bookArb, fc.constantFrom('adl', 'adl:sort-index', 'adl:pro-rata', 'adl:risk-aware', 'socialize'), fc.nat(1), (book, bankruptcy, crashed) => {
        const count = crashDecidedAlike(book, bankruptcy, crashed);
        bankruptcies += count;
        if (count >= 2) crowded++;
      }),
      { numRuns: 150 * RUNS },
    );
    // guards the generator: many runs bankrupt several accounts in one input
    expect(bankruptcies).toBeGreaterThan(100);
    expect(crowded).toBeGreaterThan(10);
  });
});

const ledgerMark = (engine: ClearingEngine, instrument: string): number => Number(engine.state.ledger.instruments.get(instrument)!.mark!) / Number(SCALE);

describe('selectFirst', () => {
  it('puts the k first entries under the order in front, whatever the input (ties broken by index)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 300 }), fc.nat(), (keys, pick) => {
        const k = 1 + (pick % keys.length);
        const before = (a: number, b: number): boolean => (keys[a] !== keys[b] ? keys[a]! > keys[b]! : a < b);
        const order = Int32Array.from(keys.map((_, i) => i));
        selectFirst(order, k, before);
        const expected = keys.map((_, i) => i).sort((a, b) => (before(a, b) ? -1 : 1)).slice(0, k);
        expect([...order.slice(0, k)].sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
        // a permutation: nothing lost or repeated
        expect([...order].sort((a, b) => a - b)).toEqual(keys.map((_, i) => i));
      }),
    );
  });

  it('worked example: keys 5, 9, 9, 1 with k = 2 select the two 9s (indexes 1 and 2)', () => {
    const keys = [5, 9, 9, 1];
    const order = Int32Array.from([0, 1, 2, 3]);
    selectFirst(order, 2, (a, b) => (keys[a] !== keys[b] ? keys[a]! > keys[b]! : a < b));
    expect([...order.slice(0, 2)].sort()).toEqual([1, 2]);
  });
});

describe('RankedList', () => {
  it('stays the sorted list of what was inserted and not removed', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 800 }), fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 1000 })), { maxLength: 600 }), (initial, ops) => {
        // entries are objects (removal is by identity), ordered by value then by creation
        let created = 0;
        const entry = (value: number) => ({ value, n: created++ });
        type Entry = ReturnType<typeof entry>;
        const before = (a: Entry, b: Entry): boolean => (a.value !== b.value ? a.value < b.value : a.n < b.n);
        const model = initial.map(entry).sort((a, b) => (before(a, b) ? -1 : 1));
        const list = new RankedList(model, before);
        for (const [insert, value] of ops) {
          if (insert || model.length === 0) {
            const e = entry(value);
            list.insert(e);
            model.push(e);
            model.sort((a, b) => (before(a, b) ? -1 : 1));
          } else {
            const e = model.splice(value % model.length, 1)[0]!;
            expect(list.remove(e)).toBe(true);
            expect(list.remove(e)).toBe(false);
          }
        }
        expect([...list]).toEqual(model);
        expect(list.size).toBe(model.length);
      }),
    );
  });
});
