import Table from 'cli-table3';
import { ClearingEngine } from '@clearsim/clearing';
import { decodeEvent, type InputEvent } from '@clearsim/events';
import { deposit, ensureAccount, refreshOptionMarks, trade, withdraw, type Account, type Instrument, type Position } from '@clearsim/ledger';
import { computeRisk, marginFromScanRisk, portfolioMargin, portfolioMarginOfAccount, portfolioRequirement, SCENARIO_COUNT, scenarioPnlPerUnit, scenarioRequirements } from '@clearsim/margin';
import { fromNumber, parseFixed, SCALE, toNumber, type Fixed } from '@clearsim/money';
import { isSystemAccount, type Rules } from '@clearsim/rules';
import { hasOpenCall } from '@clearsim/saga';

/**
 * The portfolio (SPAN-style scenario) margin benchmark, part of `npm run
 * bench` and runnable alone (`node --expose-gc dist/bench/portfolio-bench.js`).
 *
 * A `model: portfolio` shard with 10 underlyings (index instruments), each
 * with a perpetual, a future and 4 options (put 90 %, put and call 100 %,
 * call 110 %, one expiry): 60 tradable instruments, 16 scenarios each.
 * PORTFOLIO_ACCOUNTS (100,000) accounts hold 5 positions each (seeded): 4 on a
 * "home" underlying drawn with weights 30 % … 1 %, one on a second underlying
 * drawn with the same weights, long or short, options included; a market maker
 * takes the other side of every trade. The trades are booked with the
 * ledger's own functions: through ClearingEngine.handle (PORTFOLIO_SETUP=engine)
 * each margin-checks the market maker's 60 positions too, about a minute for
 * 500,000 trades.
 *
 * Measured (median of PORTFOLIO_RUNS runs, a GC and a 50 ms pause before each):
 * a. the full recompute (the target): `scenarioRequirements`, every account's
 *    requirement in one pass over the scenario book — with the vectors and
 *    ranges current, after invalidating every vector (every mark moved by
 *    10^-8), and after every account's version moved (every range rebuilt
 *    from its positions); it is checked against portfolioMarginOfAccount for
 *    every account, to the bit, before it is timed;
 * b. the per-account paths: portfolioMarginOfAccount (exact MM and IM),
 *    portfolioMargin over Position objects, portfolioRequirement (with its
 *    breakdown), and computeRisk (what the saga calls when the float screen
 *    cannot clear an account: equity, notional, requirement) of every
 *    account; portfolioRequirement again after invalidating every vector, and
 *    the 60 instruments' repricing (Black-76 for options) alone;
 * c. the floor: a bare Float64Array loop doing the same multiply-adds
 *    (accounts × 5 × 16) over the same vectors and quantities;
 * d. a price tick of one underlying's index through `ClearingEngine.handle`,
 *    for every underlying: time per tick against the accounts it re-checks;
 * e. a storm: every account's equity set near its MM, then five ticks of U0
 *    falling 1 % each, with the calls they issue (called accounts are checked
 *    exactly on every later tick).
 */
const ACCOUNTS = Number(process.env.PORTFOLIO_ACCOUNTS ?? 100_000);
const RUNS = Number(process.env.PORTFOLIO_RUNS ?? 7);
const TICKS = Number(process.env.PORTFOLIO_TICKS ?? 5);
/** `engine`: Deposited + TradeExecuted through ClearingEngine.handle; `ledger`: the ledger's own deposit/trade. */
const SETUP = process.env.PORTFOLIO_SETUP === 'engine' ? 'engine' : 'ledger';
const TARGET_MS = 50;
const SETTLE_MS = 50;
const POSITIONS = 5;
const SEED = 20260101;

const T0 = Date.parse('2026-01-01T00:00:00Z');
const DAY = 86_400_000;
const iso = (ms: number): string => new Date(ms).toISOString();

/** Index prices of the 10 underlyings and the weights with which an account picks them. */
const INDEX_PRICES = ['60000', '3000', '150', '25', '2.5', '600', '90', '7.5', '0.5', '40'];
const WEIGHTS = [0.3, 0.2, 0.14, 0.1, 0.08, 0.06, 0.05, 0.04, 0.02, 0.01];
const VOLS = ['0.55', '0.7', '0.8', '0.9', '1.0', '0.6', '0.85', '0.95', '1.1', '0.75'];
const GROUPS = [
  { members: ['U0', 'U1', 'U2'], offset: '0.5' },
  { members: ['U3', 'U4', 'U5'], offset: '0.3' },
];
/** Per underlying: suffix, kind, option type, strike as a fraction of the index. */
const PRODUCTS = [
  { suffix: 'PERP', kind: 'perpetual' },
  { suffix: 'F', kind: 'future' },
  { suffix: 'P90', kind: 'option', optionType: 'put', moneyness: 0.9 },
  { suffix: 'P100', kind: 'option', optionType: 'put', moneyness: 1 },
  { suffix: 'C100', kind: 'option', optionType: 'call', moneyness: 1 },
  { suffix: 'C110', kind: 'option', optionType: 'call', moneyness: 1.1 },
] as const;
const UNDERLYINGS = INDEX_PRICES.map((_, u) => `U${u}`);
const MM = 'mm';

/** mulberry32: a small seeded generator (the bench is deterministic). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pickWeighted(random: () => number): number {
  let x = random();
  for (let u = 0; u < WEIGHTS.length; u++) if ((x -= WEIGHTS[u]!) < 0) return u;
  return WEIGHTS.length - 1;
}

let sink = 0;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const pause = new Int32Array(new SharedArrayBuffer(4));
/**
 * A full GC, then a pause: the GC of a heap this size leaves background sweeping behind, which (measured) slows
 * a timed loop that follows it 2–6× on a 2-core machine; 50 ms lets it finish.
 */
function settle(): void {
  if (!global.gc) return;
  global.gc();
  Atomics.wait(pause, 0, 0, SETTLE_MS);
}

/** Median ms of `runs` runs of `fn`, `before` (untimed) and a settled GC before each, after one untimed warm-up. */
function measure(runs: number, fn: () => void, before: () => void = () => {}): { ms: number; all: number[] } {
  before();
  fn();
  const all: number[] = [];
  for (let i = 0; i < runs; i++) {
    before();
    settle();
    const start = performance.now();
    fn();
    all.push(performance.now() - start);
  }
  return { ms: median(all), all };
}

export interface PortfolioBook {
  engine: ClearingEngine;
  rules: Rules;
  accounts: Account[];
  tradables: Instrument[];
  setupSeconds: number;
  setupHow: string;
  ts: number;
}

function setupEvents(): InputEvent[] {
  const raw: Record<string, unknown>[] = [];
  const scan = (u: number) => ({ priceScanRange: u < 5 ? '0.10' : '0.15', volScanRange: '0.25', extremeMove: 2, extremeCover: '0.35', shortOptionMinimum: '0.01' });
  raw.push({
    type: 'RulesActivated',
    rules: {
      name: 'portfolio-bench',
      model: 'portfolio',
      riskFreeRate: '0.03',
      marginCall: { graceSeconds: 3600 },
      accounts: { insurance: 'insurance', fees: 'fees', backstop: 'backstop' },
      portfolio: { underlyings: Object.fromEntries(UNDERLYINGS.map((id, u) => [id, scan(u)])), initialToMaintenance: '1.2', groups: GROUPS },
    },
  });
  UNDERLYINGS.forEach((id, u) => {
    raw.push({ type: 'InstrumentListed', instrument: id, kind: 'index' });
    raw.push({ type: 'PriceUpdated', instrument: id, price: INDEX_PRICES[u] });
    raw.push({ type: 'VolatilityUpdated', underlying: id, volatility: VOLS[u] });
    const index = Number(INDEX_PRICES[u]);
    for (const p of PRODUCTS) {
      const instrument = `${id}-${p.suffix}`;
      if (p.kind === 'option') {
        const strike = (index * p.moneyness).toFixed(8).replace(/\.?0+$/, '');
        raw.push({ type: 'InstrumentListed', instrument, kind: 'option', underlying: id, optionType: p.optionType, strike, expiry: iso(T0 + 30 * DAY) });
      } else {
        raw.push({ type: 'InstrumentListed', instrument, kind: p.kind, underlying: id, ...(p.kind === 'future' ? { expiry: iso(T0 + 90 * DAY) } : {}) });
        const mark = p.kind === 'future' ? index * 1.005 : index;
        raw.push({ type: 'PriceUpdated', instrument, price: mark.toFixed(8).replace(/\.?0+$/, '') });
      }
    }
  });
  return raw.map((r) => decodeEvent({ ts: iso(T0), ...r }, 'input') as InputEvent);
}

/** The 5 (instrument, signed qty) of each account, seeded. */
function portfolios(count: number): { instrument: string; qty: Fixed }[][] {
  const random = rng(SEED);
  const out: { instrument: string; qty: Fixed }[][] = [];
  for (let a = 0; a < count; a++) {
    const home = pickWeighted(random);
    const other = pickWeighted(random);
    const homeProducts = PRODUCTS.map((_, i) => i);
    for (let i = homeProducts.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [homeProducts[i], homeProducts[j]] = [homeProducts[j]!, homeProducts[i]!];
    }
    const picks: [number, number][] = homeProducts.slice(0, POSITIONS - 1).map((p) => [home, p]);
    // the fifth on another underlying (or, when the draw gives the home one, another product of it)
    const rest = other === home ? homeProducts.slice(POSITIONS - 1) : PRODUCTS.map((_, i) => i);
    picks.push([other, rest[Math.floor(random() * rest.length)]!]);
    out.push(
      picks.map(([u, p]) => {
        const lots = 1 + Math.floor(random() * 50); // 0.1 … 5.0
        const sign = random() < 0.5 ? -1n : 1n;
        return { instrument: `U${u}-${PRODUCTS[p]!.suffix}`, qty: (sign * BigInt(lots) * SCALE) / 10n };
      }),
    );
  }
  return out;
}

/** The shard of the bench: rules, instruments, marks and vols, and the accounts with their positions. */
export function buildPortfolioBook(): PortfolioBook {
  const engine = ClearingEngine.create();
  for (const event of setupEvents()) engine.handle(event);
  const { state } = engine;
  const ledger = state.ledger;
  const rules = state.rules!;
  const tradables = [...ledger.instruments.values()].filter((i) => i.kind !== 'index');
  const books = portfolios(ACCOUNTS);
  const ts = T0 + 60_000;
  const cash = parseFixed('10000000');
  const start = performance.now();
  if (SETUP === 'engine') {
    engine.handle({ type: 'Deposited', ts, account: MM, asset: 'USD', amount: parseFixed('1000000000000') });
    let n = 0;
    books.forEach((positions, a) => {
      const account = `a${String(a).padStart(6, '0')}`;
      engine.handle({ type: 'Deposited', ts, account, asset: 'USD', amount: cash });
      for (const { instrument, qty } of positions) {
        const price = ledger.instruments.get(instrument)!.mark!;
        const [buyer, seller] = qty > 0n ? [account, MM] : [MM, account];
        engine.handle({ type: 'TradeExecuted', ts, tradeId: `t${++n}`, instrument, buyer, seller, qty: qty > 0n ? qty : -qty, price, buyerFee: 0n, sellerFee: 0n });
      }
    });
  } else {
    const mm = ensureAccount(ledger, MM, false);
    deposit(ledger, mm, parseFixed('1000000000000'));
    books.forEach((positions, a) => {
      const account = ensureAccount(ledger, `a${String(a).padStart(6, '0')}`, false);
      deposit(ledger, account, cash);
      for (const { instrument: id, qty } of positions) {
        const instrument = ledger.instruments.get(id)!;
        if (qty > 0n) trade(ledger, account, mm, instrument, qty, instrument.mark!);
        else trade(ledger, mm, account, instrument, -qty, instrument.mark!);
      }
    });
  }
  const setupSeconds = (performance.now() - start) / 1000;
  const accounts = [...ledger.accounts.values()].filter((a) => a.id !== MM && !isSystemAccount(rules, a.id));
  const setupHow =
    SETUP === 'engine'
      ? `ClearingEngine.handle: ${accounts.length.toLocaleString('en-US')} Deposited + ${(accounts.length * POSITIONS).toLocaleString('en-US')} TradeExecuted (each margin-checked)`
      : `the ledger's own ensureAccount/deposit/trade (${(accounts.length * POSITIONS).toLocaleString('en-US')} trades, no margin checks); rules, instruments, marks and vols through ClearingEngine.handle`;
  return { engine, rules, accounts, tradables, setupSeconds, setupHow, ts };
}

/** Moves every non-option mark by `bump` ledger units (0 or 1) and re-marks the options: every cached vector is stale. */
function remark(book: PortfolioBook, base: Map<string, Fixed>, bump: bigint): void {
  const ledger = book.engine.state.ledger;
  for (const [id, mark] of base) ledger.instruments.get(id)!.mark = mark + bump;
  refreshOptionMarks(ledger, book.engine.state.clock, book.rules.riskFreeRate);
}

/**
 * The floor: per account, Σ qty × vector over its positions for the 16 scenarios and the worst loss, over flat
 * typed arrays (positions of account a at offsets[a] … offsets[a + 1]; inst holds the vector's offset).
 */
function floorLoop(accounts: number, offsets: Int32Array, qty: Float64Array, inst: Int32Array, vectors: Float64Array, acc: Float64Array, worst: Float64Array): void {
  // a local constant: `SCENARIO_COUNT` read through the package's `export *` re-export is a getter call per use
  // (tsc's CommonJS __createBinding), which alone made this loop 6–9× slower
  const S = 16;
  for (let a = 0; a < accounts; a++) {
    for (let s = 0; s < S; s++) acc[s] = 0;
    for (let p = offsets[a]!, end = offsets[a + 1]!; p < end; p++) {
      const q = qty[p]!;
      const o = inst[p]!;
      for (let s = 0; s < S; s++) acc[s]! += q * vectors[o + s]!;
    }
    let w = 0;
    for (let s = 0; s < S; s++) if (-acc[s]! > w) w = -acc[s]!;
    worst[a] = w;
  }
}

/** The accounts (system ones aside) holding any instrument on the underlying: the accounts its tick re-checks. */
function holdersOfUnderlying({ engine, rules, tradables }: PortfolioBook, underlying: string): Set<string> {
  const holders = new Set<string>();
  for (const i of tradables) if (i.underlying === underlying) for (const h of engine.state.ledger.holders.get(i.id) ?? []) if (!isSystemAccount(rules, h)) holders.add(h);
  return holders;
}

/** Sets every account's equity to 1.02–1.32 × its MM, then times 5 ticks of U0 and its futures falling 1 % each (see e. above). */
function stormTicks(built: PortfolioBook, accounts: Account[]): { ms: number; holders: number; called: number; decisions: number; bankruptcies: number }[] {
  const { engine, rules, tradables } = built;
  const ledger = engine.state.ledger;
  const random = rng(SEED + 1);
  for (const account of accounts) {
    const risk = computeRisk(ledger, rules, account);
    const target = (risk.maintenanceMargin * BigInt(Math.round((1.02 + 0.3 * random()) * 1e8))) / SCALE;
    const delta = target - risk.equity;
    if (delta > 0n) deposit(ledger, account, delta);
    else if (delta < 0n) withdraw(ledger, account, -delta);
  }
  const holders = holdersOfUnderlying(built, 'U0');
  let ts = Math.max(built.ts, engine.state.clock);
  // the index and the futures on it move together (moving the index alone would re-mark only the options and
  // break every option/future hedge); the options follow the index
  const moving = ['U0', ...tradables.filter((i) => i.underlying === 'U0' && !i.premiumStyle).map((i) => i.id)];
  const out: { ms: number; holders: number; called: number; decisions: number; bankruptcies: number }[] = [];
  for (let tick = 0; tick < 5; tick++) {
    let called = 0;
    for (const h of holders) if (hasOpenCall(engine.state.saga, h)) called++;
    const prices = moving.map((id) => fromNumber(toNumber(ledger.instruments.get(id)!.mark!) * 0.99, 'floor'));
    settle();
    const start = performance.now();
    ts += 1000;
    const decided = moving.flatMap((id, i) => engine.handle({ type: 'PriceUpdated', ts, instrument: id, price: prices[i]! }).decisions);
    const ms = performance.now() - start;
    out.push({ ms, holders: holders.size, called, decisions: decided.length, bankruptcies: decided.filter((d) => d.type === 'AccountBankrupted').length });
  }
  return out;
}

/** The runs behind the headline figure (for bench/results/latest.json). */
export interface PortfolioFigures {
  accounts: number;
  /** ms of each run of the full recompute (scenarioRequirements). */
  recomputeMs: number[];
  /** ms of each run of the bare Float64Array loop. */
  baselineMs: number[];
}

/** Runs the benchmark and prints its tables (the figures are read off them: docs/performance.md). */
export function runPortfolioBench(): PortfolioFigures {
  const built = buildPortfolioBook();
  const { engine, rules, accounts, tradables } = built;
  const ledger = engine.state.ledger;
  const positions: Position[][] = accounts.map((a) => [...a.positions.values()]);
  const positionCount = positions.reduce((n, p) => n + p.length, 0);
  const macs = positionCount * SCENARIO_COUNT;
  const nsPerMac = (ms: number) => ((ms * 1e6) / macs).toFixed(1);

  // a'. the per-account paths, every vector cached
  const requirementAll = () => {
    let s = 0;
    for (const p of positions) s += portfolioRequirement(ledger, rules, p).scanRisk;
    sink += s;
  };
  const computeRiskAll = () => {
    let below = 0;
    for (const a of accounts) {
      const r = computeRisk(ledger, rules, a);
      if (r.equity < r.maintenanceMargin) below++;
    }
    sink += below;
  };
  const marginAll = () => {
    let s = 0n;
    for (const p of positions) s += portfolioMargin(ledger, rules, p).maintenanceMargin;
    sink += Number(s % 7n);
  };
  const flatAll = () => {
    let s = 0n;
    for (const a of accounts) s += portfolioMarginOfAccount(ledger, rules, a).maintenanceMargin;
    sink += Number(s % 7n);
  };
  // a. the full recompute: every account's requirement in one pass over the scenario book
  const batchAll = () => {
    const { requirement } = scenarioRequirements(ledger, rules);
    sink += requirement[0]!;
  };
  const batch = measure(RUNS, batchAll);
  // the pass agrees with the per-account path to the bit (MM and IM of every account)
  {
    const { accounts: booked, requirement } = scenarioRequirements(ledger, rules);
    const byId = new Map(booked.map((a, i) => [a.id, i]));
    for (const a of accounts) {
      const one = portfolioMarginOfAccount(ledger, rules, a);
      const all = marginFromScanRisk(rules, requirement[byId.get(a.id)!]!, 0);
      if (one.maintenanceMargin !== all.maintenanceMargin || one.initialMargin !== all.initialMargin) throw new Error(`the one-pass requirement of ${a.id} differs from portfolioMarginOfAccount`);
    }
  }
  const flat = measure(RUNS, flatAll);
  const lean = measure(RUNS, marginAll);
  const cached = measure(RUNS, requirementAll);
  const risk = measure(RUNS, computeRiskAll);

  // b. every vector invalidated first
  const base = new Map(tradables.filter((i) => !i.premiumStyle).map((i) => [i.id, i.mark!]));
  for (const u of UNDERLYINGS) base.set(u, ledger.instruments.get(u)!.mark!);
  let flip = 0n;
  const invalidate = () => remark(built, base, (flip ^= 1n));
  const repriceOnly = measure(
    RUNS,
    () => {
      for (const i of tradables) sink += scenarioPnlPerUnit(ledger, rules, i)[0]!;
    },
    invalidate,
  );
  const invalidated = measure(RUNS, requirementAll, invalidate);
  const batchInvalidated = measure(RUNS, batchAll, invalidate);
  // as if every account had traded since the last pass: every range rebuilt from its positions
  const touchEveryAccount = () => {
    for (const a of ledger.accounts.values()) a.version = (a.version ?? 0) + 1;
    ledger.positionChanges++;
  };
  const batchRebuilt = measure(RUNS, batchAll, touchEveryAccount);
  remark(built, base, 0n);

  // c. the floor: the same multiply-adds over flat typed arrays
  const index = new Map(tradables.map((i, k) => [i.id, k]));
  const vectors = new Float64Array(tradables.length * SCENARIO_COUNT);
  tradables.forEach((i, k) => vectors.set(scenarioPnlPerUnit(ledger, rules, i), k * SCENARIO_COUNT));
  const offsets = new Int32Array(accounts.length + 1);
  const qty = new Float64Array(positionCount);
  const inst = new Int32Array(positionCount);
  let k = 0;
  positions.forEach((ps, a) => {
    offsets[a] = k;
    for (const p of ps) {
      qty[k] = toNumber(p.qty);
      inst[k++] = index.get(p.instrument)! * SCENARIO_COUNT;
    }
  });
  offsets[accounts.length] = k;
  const worst = new Float64Array(accounts.length);
  const acc = new Float64Array(SCENARIO_COUNT);
  if (SCENARIO_COUNT !== 16) throw new Error(`the floor loop assumes 16 scenarios, not ${SCENARIO_COUNT}`);
  const baseline = measure(RUNS, () => {
    floorLoop(accounts.length, offsets, qty, inst, vectors, acc, worst);
    sink += worst[0]!;
  });

  // d. one underlying's price tick through the engine
  let ts = Math.max(built.ts, engine.state.clock);
  let decisions = 0;
  const ticks = UNDERLYINGS.map((u) => {
    const holders = holdersOfUnderlying(built, u);
    const price = ledger.instruments.get(u)!.mark!;
    const up = fromNumber(toNumber(price) * 1.001, 'floor');
    let n = 0;
    // up, back, up, back…: the first is a warm-up, the book ends where it started
    const t = measure(
      TICKS % 2 ? TICKS : TICKS + 1,
      () => {
        decisions += engine.handle({ type: 'PriceUpdated', ts: (ts += 1000), instrument: u, price: n++ % 2 ? price : up }).decisions.length;
      },
    );
    if (n % 2) decisions += engine.handle({ type: 'PriceUpdated', ts: (ts += 1000), instrument: u, price }).decisions.length;
    return { underlying: u, holders: holders.size, ms: t.ms };
  });

  // e. a storm: every account's equity set to 1.02–1.32 × its MM (seeded), then U0 and its futures fall 1 % a tick:
  // accounts cross MM and are called (grace 1 h), and a called account is checked exactly on every later tick
  const storm = stormTicks(built, accounts);

  const ms = (x: number) => x.toFixed(1);
  const ratio = (x: number) => `${(x / baseline.ms).toFixed(1)}×`;
  const perAccountUs = (x: number) => ((x * 1000) / accounts.length).toFixed(2);
  // the requirement is MM and IM (portfolioMargin); the breakdown is a report on top of it
  const met = batch.ms < TARGET_MS;
  const table = new Table({ head: ['full recompute', 'ms (median)', 'µs / account', 'ns / position-scenario', '× baseline'] });
  table.push(
    ['baseline: bare Float64Array multiply-add loop', ms(baseline.ms), perAccountUs(baseline.ms), nsPerMac(baseline.ms), '1.0×'],
    ['scenarioRequirements: every account in one pass over the scenario book', ms(batch.ms), perAccountUs(batch.ms), nsPerMac(batch.ms), ratio(batch.ms)],
    ['  the same, every vector invalidated (repricing included)', ms(batchInvalidated.ms), perAccountUs(batchInvalidated.ms), nsPerMac(batchInvalidated.ms), ratio(batchInvalidated.ms)],
    ['  the same, every account\'s range rebuilt (as if all had traded)', ms(batchRebuilt.ms), perAccountUs(batchRebuilt.ms), nsPerMac(batchRebuilt.ms), ratio(batchRebuilt.ms)],
    ['portfolioMarginOfAccount per account (MM and IM as Fixed)', ms(flat.ms), perAccountUs(flat.ms), nsPerMac(flat.ms), ratio(flat.ms)],
    ['portfolioMargin over Position objects', ms(lean.ms), perAccountUs(lean.ms), nsPerMac(lean.ms), ratio(lean.ms)],
    ['portfolioRequirement (with its breakdown), vectors cached', ms(cached.ms), perAccountUs(cached.ms), nsPerMac(cached.ms), ratio(cached.ms)],
    ['computeRisk (the saga\'s check), vectors cached', ms(risk.ms), perAccountUs(risk.ms), nsPerMac(risk.ms), ratio(risk.ms)],
    ['portfolioRequirement, every vector invalidated', ms(invalidated.ms), perAccountUs(invalidated.ms), nsPerMac(invalidated.ms), ratio(invalidated.ms)],
    [`  of which repricing ${tradables.length} instruments × 16 scenarios`, ms(repriceOnly.ms), '', '', ''],
    ['  of which per-account accumulation', ms(invalidated.ms - repriceOnly.ms), '', '', ''],
  );
  const tickTable = new Table({ head: ['tick of', 'accounts re-checked', '% of accounts', 'ms / tick (median)', 'µs / account re-checked'] });
  for (const t of ticks) {
    tickTable.push([t.underlying, t.holders.toLocaleString('en-US'), ((100 * t.holders) / accounts.length).toFixed(1), ms(t.ms), ((t.ms * 1000) / Math.max(1, t.holders)).toFixed(2)]);
  }
  // time per tick against accounts re-checked: least squares over the underlyings
  const n = ticks.length;
  const mx = ticks.reduce((a, t) => a + t.holders, 0) / n;
  const my = ticks.reduce((a, t) => a + t.ms, 0) / n;
  const sxy = ticks.reduce((a, t) => a + (t.holders - mx) * (t.ms - my), 0);
  const sxx = ticks.reduce((a, t) => a + (t.holders - mx) ** 2, 0);
  const syy = ticks.reduce((a, t) => a + (t.ms - my) ** 2, 0);
  const slope = sxy / sxx;
  const r2 = (sxy * sxy) / (sxx * syy);
  const out = (line: string) => process.stdout.write(line + '\n');
  out('');
  out(`portfolio margin bench — ${accounts.length.toLocaleString('en-US')} accounts × ${POSITIONS} positions, ${tradables.length} instruments on ${UNDERLYINGS.length} underlyings (${tradables.filter((i) => i.premiumStyle).length} options), ${SCENARIO_COUNT} scenarios, 2 correlation groups of 3; Node ${process.version}`);
  out(`book built in ${built.setupSeconds.toFixed(1)} s through ${built.setupHow}`);
  out(table.toString());
  const scale = accounts.length === 100_000 ? '' : ` (the target is for 100,000 accounts; this run has ${accounts.length.toLocaleString('en-US')})`;
  out(`target: a full recompute of ${accounts.length.toLocaleString('en-US')} accounts under ${TARGET_MS} ms on one core — ${met ? 'met' : 'NOT met'} (${ms(batch.ms)} ms in one pass over the scenario book, median of ${RUNS})${scale}`);
  out(tickTable.toString());
  out(`a tick = PriceUpdated of the underlying's index through ClearingEngine.handle: its options re-marked, every holder of an instrument on it re-checked (the market maker included) — the float screen clears those clearly above their call level, the rest get the exact bigint check; median of ${TICKS} ticks, ${decisions} decisions over all ticks`);
  out(`fit: ms / tick ≈ ${(slope * 1000).toFixed(1)} µs × accounts re-checked ${my - slope * mx >= 0 ? '+' : '−'} ${Math.abs(my - slope * mx).toFixed(1)} ms (R² ${r2.toFixed(3)})`);
  const stormTable = new Table({ head: ['storm: U0 −1 % a tick', 'ms', 'accounts re-checked', 'of them under a call (exact check)', 'decisions', 'of them bankruptcies', 'µs / account re-checked'] });
  storm.forEach((t, i) => stormTable.push([`tick ${i + 1}`, ms(t.ms), t.holders.toLocaleString('en-US'), t.called.toLocaleString('en-US'), t.decisions.toLocaleString('en-US'), String(t.bankruptcies), ((t.ms * 1000) / Math.max(1, t.holders)).toFixed(2)]));
  out(stormTable.toString());
  out('storm = every account\'s equity first set to 1.02–1.32 × its MM (seeded deposits and withdrawals through the ledger), then each tick U0 and its perpetual and future −1 % (three PriceUpdated, timed together; the options follow the index); a called account skips the float screen (its cure is decided exactly); each bankruptcy socializes its loss over every account in profit (bankruptcy: socialize), which weighs every account; single runs, not medians');
  out('× baseline = ms ÷ the bare loop\'s ms (the floor of what JS can do with the same multiply-adds); a GC and a 50 ms pause before every timed run');
  return { accounts: accounts.length, recomputeMs: batch.all, baselineMs: baseline.all };
}

if (require.main === module) {
  try {
    runPortfolioBench();
    if (sink === 42) process.stdout.write('\n');
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}
