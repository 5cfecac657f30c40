import { accountTotals, statusOf, type ClearingEngine, type ClearingState, type RunSummary } from '@clearsim/clearing';
import { isInput, type ClearingEvent, type DecisionEvent, type DecisionType } from '@clearsim/events';
import { healthFactorFixed } from '@clearsim/margin';
import { formatFixed, toNumber, type Fixed } from '@clearsim/money';
import { isSystemAccount, yamlLibrary } from '@clearsim/rules';
import { lttb } from './lttb';

/**
 * The data of a run's report, assembled in one place (the page, report-page.ts,
 * only draws it): every series the report shows is a field of `RunReportData`,
 * filled by `RunReportCollector` while the log replays. A new series is a new
 * field here and a new chart there.
 *
 * Bounded by design, so a 10^6-event run's report stays a few MB:
 * - time series are kept whole while the log replays, then reduced by LTTB to
 *   `SERIES_POINTS` points each (lttb.ts);
 * - the aggregate figures (equity, margin, open interest) are sampled on a grid
 *   of ≤ `AGGREGATE_TICKS` instants over the run's span (fewer with many accounts:
 *   each instant prices every account);
 * - per-account timelines are kept for at most `TIMELINE_ACCOUNTS` accounts (see
 *   `InterestingAccounts`), sampled on a grid of ≤ `ACCOUNT_TICKS` instants and
 *   just before and after every decision about them, then — repeats dropped —
 *   reduced by LTTB to their share of `TIMELINE_POINT_BUDGET`;
 * - the accounts table holds at most `ACCOUNT_ROWS` accounts (worst first).
 */

export const SERIES_POINTS = 2000;
/** Points of all per-account timelines together (each gets its share, TIMELINE_POINTS at most), after dropping repeats. */
export const TIMELINE_POINT_BUDGET = 100_000;
export const TIMELINE_POINTS = 400;
export const AGGREGATE_TICKS = 2000;
/** accountTotals calls the aggregate grid may take per run (ticks × accounts): a 10,000-account run gets 100 instants. */
const AGGREGATE_SAMPLE_BUDGET = 1_000_000;
/**
 * The fewest instants of the aggregate grid, whatever the accounts: 10 × 10^6 accounts = 10^7 valuations (~25 s),
 * where a floor of 100 made a million-account run's report price 10^8 (minutes).
 */
const AGGREGATE_MIN_TICKS = 10;
export const ACCOUNT_TICKS = 3000;
/** accountTotals calls the account timelines may take per run (ticks × accounts). */
const ACCOUNT_SAMPLE_BUDGET = 600_000;
export const TIMELINE_ACCOUNTS = 500;
/** Of TIMELINE_ACCOUNTS: the largest accounts by maintenance margin at the end, decisions or not. */
export const TIMELINE_LARGEST = 50;
export const ACCOUNT_ROWS = 20_000;
/** Liquidation / ADL markers drawn per instrument and kind (the first of each time slice when there are more). */
export const MARKERS_PER_INSTRUMENT = 500;
export const DECISION_ROWS = 400_000;

/** The decisions stacked in the "decisions over time" chart, bottom to top. */
export const STACKED_DECISIONS = ['MarginCallIssued', 'LiquidationStarted', 'AccountBankrupted', 'PositionAutoDeleveraged'] as const satisfies readonly DecisionType[];

/** Timestamps (ms) as the first one then the differences: most are seconds apart, so the JSON stays short. */
export type DeltaTimes = number[];

export interface InstrumentSeries {
  id: string;
  t: DeltaTimes;
  price: number[];
  first: string;
  last: string;
  low: string;
  high: string;
  /** Points recorded before downsampling. */
  points: number;
  liquidations: Markers;
  adl: Markers;
}

export interface Markers {
  t: DeltaTimes;
  price: number[];
  /** How many there were (more than shown when thinned to MARKERS_PER_INSTRUMENT). */
  total: number;
}

export interface Timeline {
  t: DeltaTimes;
  equity: number[];
  mm: number[];
  im: number[];
}

export interface SystemAccountSeries {
  role: 'insurance' | 'backstop' | 'fees';
  id: string;
  t: DeltaTimes;
  cash: number[];
  final: string;
}

/** One row of the accounts table; amounts as exact decimal strings. */
export interface AccountRow {
  id: string;
  status: string;
  equity: string;
  cash: string;
  mm: string;
  im: string;
  netDeposits: string;
  pnl: string;
  /** What its bankruptcies could not pay ('0' if none). */
  deficit: string;
  positions: string[];
  /** `model: lending`: the health factor; null without debt (∞). */
  healthFactor?: string | null;
}

export interface AdlCounterparty {
  account: string;
  fills: number;
  /** instrument → the signed change to its position, summed. */
  qty: Record<string, string>;
  /** The bankrupt accounts it was matched against. */
  against: string[];
  first: number;
  last: number;
}

export interface Bankruptcy {
  account: string;
  instrument?: string;
  ts: number;
  deficit: string;
  drawn: string;
  adlFills: number;
  socialized: string;
}

export interface RunReportData {
  rules: string;
  rulesText: { ts: number; text: string }[];
  summary: RunSummary;
  span: [number, number] | null;
  lending: boolean;
  instruments: InstrumentSeries[];
  /** STACKED_DECISIONS type → every one's time. */
  decisionTimes: Record<string, DeltaTimes>;
  fund: { id: string | null; t: DeltaTimes; balance: number[]; draws: { t: DeltaTimes; amount: number[]; account: string[] } };
  system: SystemAccountSeries[];
  aggregate: { t: DeltaTimes; equity: number[]; mm: number[]; im: number[]; accounts: number };
  openInterest: { t: DeltaTimes; instruments: string[]; notional: number[][] };
  accountCount: number;
  accounts: AccountRow[];
  timelines: Record<string, Timeline>;
  /** Every decision about an account (columnar): time, type (index into `types`), account and counterparty (indices into `names`, −1 for none), details. */
  decisions: { types: string[]; names: string[]; t: DeltaTimes; type: number[]; account: number[]; counterparty: number[]; text: string[]; total: number };
  bankruptcies: Bankruptcy[];
  adlCounterparties: AdlCounterparty[];
  /** The rule that chose the accounts with a timeline, for the page to state. */
  timelineRule: string;
}

/**
 * Which accounts get a timeline: fed every decision of the run as it is
 * decided (`note`), then `select` ranks them — bankrupt (largest deficit
 * first), then liquidated, then margin-called (most calls first) — after the
 * TIMELINE_LARGEST largest accounts by maintenance margin at the end, up to
 * TIMELINE_ACCOUNTS in all.
 */
export class InterestingAccounts {
  private readonly severity = new Map<string, { rank: number; deficit: Fixed; calls: number }>();

  note(decisions: Iterable<ClearingEvent>): void {
    for (const d of decisions) {
      if (d.type !== 'AccountBankrupted' && d.type !== 'LiquidationStarted' && d.type !== 'MarginCallIssued') continue;
      const rank = d.type === 'AccountBankrupted' ? 3 : d.type === 'LiquidationStarted' ? 2 : 1;
      const entry = this.severity.get(d.account) ?? { rank: 0, deficit: 0n, calls: 0 };
      entry.rank = Math.max(entry.rank, rank);
      if (d.type === 'AccountBankrupted') entry.deficit += d.deficit;
      if (d.type === 'MarginCallIssued') entry.calls++;
      this.severity.set(d.account, entry);
    }
  }

  select(engine: ClearingEngine, limit = TIMELINE_ACCOUNTS, largest = TIMELINE_LARGEST): string[] {
    const state = engine.state;
    const big: { id: string; mm: Fixed }[] = [];
    for (const account of state.ledger.accounts.values()) {
      if (state.rules && isSystemAccount(state.rules, account.id)) continue;
      if (account.positions.size === 0) continue;
      big.push({ id: account.id, mm: accountTotals(state, account).maintenanceMargin });
    }
    big.sort((a, b) => (a.mm !== b.mm ? (a.mm > b.mm ? -1 : 1) : a.id < b.id ? -1 : 1));
    const chosen = new Set(big.slice(0, Math.min(largest, limit)).map((a) => a.id));
    const troubled = [...this.severity].sort(([a, x], [b, y]) => y.rank - x.rank || (x.deficit !== y.deficit ? (x.deficit > y.deficit ? -1 : 1) : 0) || y.calls - x.calls || (a < b ? -1 : 1));
    for (const [id] of troubled) {
      if (chosen.size >= limit) break;
      chosen.add(id);
    }
    return [...chosen].sort();
  }
}

export function timelineRule(limit = TIMELINE_ACCOUNTS, largest = TIMELINE_LARGEST): string {
  return `timelines are kept for up to ${limit.toLocaleString('en-US')} accounts: the ${largest} largest by maintenance margin at the end, then those with a bankruptcy (largest deficit first), a liquidation or a margin call`;
}

/** A time series recorded as the log replays. */
class Recorder {
  readonly t: number[] = [];
  readonly v: number[] = [];

  push(ts: number, value: number): void {
    this.t.push(ts);
    this.v.push(value);
  }

  get last(): number | undefined {
    return this.v[this.v.length - 1];
  }
}

interface PriceRecord {
  series: Recorder;
  first: Fixed;
  last: Fixed;
  low: Fixed;
  high: Fixed;
  liquidations: Recorder;
  adl: Recorder;
}

/**
 * Fed every event of a run in log order (`observe`, with the state after
 * `apply`/`handle` has folded it; decisions also `beforeDecision`), then
 * `finish` gives the report's data. `lastTs` is the run's last timestamp
 * (the sampling grids spread from the first event to it); `tracked` the
 * accounts with a timeline (InterestingAccounts).
 */
export class RunReportCollector {
  private readonly tracked: Set<string>;
  private readonly prices = new Map<string, PriceRecord>();
  private readonly decisionTimes = new Map<string, number[]>(STACKED_DECISIONS.map((type) => [type, []]));
  private readonly fund = new Recorder();
  private readonly draws = { t: [] as number[], amount: [] as number[], account: [] as string[] };
  private readonly system = new Map<string, { role: SystemAccountSeries['role']; rec: Recorder }>();
  private readonly aggregate = { t: [] as number[], equity: [] as number[], mm: [] as number[], im: [] as number[] };
  private readonly oi = { t: [] as number[], byInstrument: new Map<string, number[]>() };
  /** sampleAggregate's scratch: long quantity per instrument. */
  private readonly longQty = new Map<string, Fixed>();
  private readonly timelines = new Map<string, { t: number[]; equity: number[]; mm: number[]; im: number[] }>();
  private readonly decisions = { t: [] as number[], type: [] as number[], account: [] as number[], counterparty: [] as number[], text: [] as string[], total: 0 };
  private readonly typeIndex = new Map<string, number>();
  private readonly nameIndex = new Map<string, number>();
  private readonly rulesText: { ts: number; text: string }[] = [];
  private readonly bankruptcies: (Omit<Bankruptcy, 'deficit' | 'drawn' | 'socialized'> & { deficit: Fixed; drawn: Fixed; socialized: Fixed })[] = [];
  private readonly openBankruptcy = new Map<string, (typeof this.bankruptcies)[number]>();
  private readonly adl = new Map<string, { fills: number; qty: Map<string, Fixed>; against: Set<string>; first: number; last: number }>();
  private readonly netDeposits = new Map<string, Fixed>();
  private readonly deficits = new Map<string, Fixed>();
  /** The rules and system accounts' balances (insurance, backstop, fees) at the last sampleSystem that recorded. */
  private systemRules: ClearingState['rules'] = undefined;
  private readonly systemCash: Fixed[] = [-1n, -1n, -1n];
  private firstTs: number | undefined;
  private latestTs: number | undefined;
  private nextAggregate = -Infinity;
  private nextAccounts = -Infinity;
  private aggregateStep = 0;
  private accountStep = 0;

  constructor(
    tracked: Iterable<string>,
    private readonly lastTs: number | undefined,
    /** About how many accounts the run has (sizes the aggregate grid). */
    private readonly expectedAccounts = 1000,
  ) {
    this.tracked = new Set(tracked);
  }

  /** A decision about to be folded: its accounts' figures just before it (e.g. equity under MM at a margin call). */
  beforeDecision(event: DecisionEvent, state: ClearingState): void {
    const account = 'account' in event ? event.account : undefined;
    if (account !== undefined && this.tracked.has(account)) this.sampleAccount(account, event.ts, state);
  }

  observe(event: ClearingEvent, state: ClearingState): void {
    const ts = event.ts;
    if (this.firstTs === undefined) {
      this.firstTs = ts;
      const width = Math.max((this.lastTs ?? ts) - ts, 1);
      this.aggregateStep = Math.max(1, width / Math.min(AGGREGATE_TICKS, Math.max(AGGREGATE_MIN_TICKS, Math.floor(AGGREGATE_SAMPLE_BUDGET / Math.max(1, this.expectedAccounts)))));
      this.accountStep = Math.max(1, width / Math.min(ACCOUNT_TICKS, Math.max(100, Math.floor(ACCOUNT_SAMPLE_BUDGET / Math.max(1, this.tracked.size)))));
    }
    this.latestTs = ts;
    if (isInput(event)) {
      switch (event.type) {
        case 'RulesActivated':
          this.rulesText.push({ ts, text: yamlLibrary().stringify(event.rules, { lineWidth: 0 }) });
          break;
        case 'Deposited':
          this.netDeposits.set(event.account, (this.netDeposits.get(event.account) ?? 0n) + event.amount);
          break;
        case 'PriceUpdated':
        case 'InstrumentSettled':
          this.addPrice(event.instrument, ts, event.price);
          break;
        case 'MarketMoved':
          for (const mark of event.marks) this.addPrice(mark.instrument, ts, mark.price);
          break;
        default:
          break;
      }
    } else {
      this.addDecision(event, state);
    }
    this.sampleSystem(ts, state);
    if (ts >= this.nextAggregate) {
      this.sampleAggregate(ts, state);
      this.nextAggregate = this.gridAfter(ts, this.aggregateStep);
    }
    if (ts >= this.nextAccounts && this.tracked.size > 0) {
      for (const id of this.tracked) if (state.ledger.accounts.has(id)) this.sampleAccount(id, ts, state);
      this.nextAccounts = this.gridAfter(ts, this.accountStep);
    }
  }

  private gridAfter(ts: number, step: number): number {
    const origin = this.firstTs!;
    return origin + (Math.floor((ts - origin) / step) + 1) * step;
  }

  private addPrice(instrument: string, ts: number, price: Fixed): void {
    const record = this.priceOf(instrument, price);
    record.series.push(ts, toNumber(price));
    record.last = price;
    if (price < record.low) record.low = price;
    if (price > record.high) record.high = price;
  }

  private priceOf(instrument: string, price: Fixed): PriceRecord {
    let record = this.prices.get(instrument);
    if (!record) {
      record = { series: new Recorder(), first: price, last: price, low: price, high: price, liquidations: new Recorder(), adl: new Recorder() };
      this.prices.set(instrument, record);
    }
    return record;
  }

  private addDecision(d: DecisionEvent, state: ClearingState): void {
    this.decisionTimes.get(d.type)?.push(d.ts);
    switch (d.type) {
      case 'WithdrawalApproved':
        this.netDeposits.set(d.account, (this.netDeposits.get(d.account) ?? 0n) - d.amount);
        break;
      case 'MarkImpacted':
        this.addPrice(d.instrument, d.ts, d.to);
        break;
      case 'PositionLiquidated':
        this.priceOf(d.instrument, d.price).liquidations.push(d.ts, toNumber(d.price));
        break;
      case 'PositionAutoDeleveraged': {
        this.priceOf(d.instrument, d.price).adl.push(d.ts, toNumber(d.price));
        const entry = this.adl.get(d.account) ?? { fills: 0, qty: new Map<string, Fixed>(), against: new Set<string>(), first: d.ts, last: d.ts };
        entry.fills++;
        entry.qty.set(d.instrument, (entry.qty.get(d.instrument) ?? 0n) + d.qty);
        entry.against.add(d.counterparty);
        entry.last = d.ts;
        this.adl.set(d.account, entry);
        const record = this.openBankruptcy.get(d.counterparty);
        if (record) record.adlFills++;
        break;
      }
      case 'AccountBankrupted': {
        const record = { account: d.account, instrument: d.instrument, ts: d.ts, deficit: d.deficit, drawn: 0n, adlFills: 0, socialized: 0n };
        this.bankruptcies.push(record);
        this.openBankruptcy.set(d.account, record);
        this.deficits.set(d.account, (this.deficits.get(d.account) ?? 0n) + d.deficit);
        break;
      }
      case 'InsuranceFundDrawn': {
        const record = this.openBankruptcy.get(d.account);
        if (record) record.drawn += d.amount;
        this.draws.t.push(d.ts);
        this.draws.amount.push(toNumber(d.amount));
        this.draws.account.push(d.account);
        break;
      }
      case 'LossSocialized':
        for (const loss of d.losses) {
          const record = this.openBankruptcy.get(loss.account);
          if (record) record.socialized += loss.amount;
        }
        break;
      default:
        break;
    }
    if ('account' in d) {
      this.decisions.total++;
      if (this.decisions.t.length < DECISION_ROWS) {
        this.decisions.t.push(d.ts);
        this.decisions.type.push(this.indexOf(this.typeIndex, d.type));
        this.decisions.account.push(this.indexOf(this.nameIndex, d.account));
        this.decisions.counterparty.push('counterparty' in d ? this.indexOf(this.nameIndex, d.counterparty) : -1);
        this.decisions.text.push(describeDecision(d));
      }
      if (this.tracked.has(d.account)) this.sampleAccount(d.account, d.ts, state);
    }
  }

  private indexOf(index: Map<string, number>, key: string): number {
    let i = index.get(key);
    if (i === undefined) {
      i = index.size;
      index.set(key, i);
    }
    return i;
  }

  private sampleSystem(ts: number, state: ClearingState): void {
    const rules = state.rules;
    if (!rules) return;
    // every event comes here: compare the exact balances first, so an event that moves none of them costs three lookups
    const accounts = state.ledger.accounts;
    const { insurance, backstop, fees } = rules.accounts;
    const cash = this.systemCash;
    const a = accounts.get(insurance)?.cash ?? 0n;
    const b = accounts.get(backstop)?.cash ?? 0n;
    const c = accounts.get(fees)?.cash ?? 0n;
    if (rules === this.systemRules && a === cash[0] && b === cash[1] && c === cash[2]) return;
    this.systemRules = rules;
    cash[0] = a;
    cash[1] = b;
    cash[2] = c;
    for (const role of ['insurance', 'backstop', 'fees'] as const) {
      const id = rules.accounts[role];
      const value = toNumber(accounts.get(id)?.cash ?? 0n);
      let entry = this.system.get(id);
      if (!entry) {
        entry = { role, rec: new Recorder() };
        this.system.set(id, entry);
      }
      if (entry.rec.last !== value) entry.rec.push(ts, value);
      if (role === 'insurance' && this.fund.last !== value) this.fund.push(ts, value);
    }
  }

  private sampleAggregate(ts: number, state: ClearingState): void {
    const rules = state.rules;
    // summed exactly (Fixed) and converted once: one bigint addition per account instead of a float conversion each
    let equity = 0n;
    let mm = 0n;
    let im = 0n;
    // open interest: the long quantities per instrument, valued once at the mark (Σ qty × mark × multiplier = mark × multiplier × Σ qty)
    const longs = this.longQty;
    longs.clear();
    for (const account of state.ledger.accounts.values()) {
      if (rules && isSystemAccount(rules, account.id)) continue;
      const totals = accountTotals(state, account);
      equity += totals.equity;
      mm += totals.maintenanceMargin;
      im += totals.initialMargin;
      for (const position of account.positions.values()) {
        if (position.qty <= 0n) continue;
        longs.set(position.instrument, (longs.get(position.instrument) ?? 0n) + position.qty);
      }
    }
    const oi = new Map<string, number>();
    for (const [id, qty] of longs) {
      const instrument = state.ledger.instruments.get(id);
      if (!instrument?.mark) continue;
      // in the cash asset: an inverse instrument's open interest is worth qty × face ÷ mark coins
      const value = instrument.inverse ? (toNumber(qty) * toNumber(instrument.multiplier)) / toNumber(instrument.mark) : toNumber(qty) * toNumber(instrument.mark) * toNumber(instrument.multiplier);
      oi.set(id, value);
    }
    this.aggregate.t.push(ts);
    this.aggregate.equity.push(toNumber(equity));
    this.aggregate.mm.push(toNumber(mm));
    this.aggregate.im.push(toNumber(im));
    const samples = this.oi.t.length;
    this.oi.t.push(ts);
    for (const id of oi.keys()) if (!this.oi.byInstrument.has(id)) this.oi.byInstrument.set(id, new Array<number>(samples).fill(0));
    for (const [id, values] of this.oi.byInstrument) values.push(oi.get(id) ?? 0);
  }

  private sampleAccount(id: string, ts: number, state: ClearingState): void {
    const account = state.ledger.accounts.get(id);
    if (!account) return;
    const totals = accountTotals(state, account);
    let line = this.timelines.get(id);
    if (!line) {
      line = { t: [], equity: [], mm: [], im: [] };
      this.timelines.set(id, line);
    }
    line.t.push(ts);
    line.equity.push(toNumber(totals.equity));
    line.mm.push(toNumber(totals.maintenanceMargin));
    line.im.push(toNumber(totals.initialMargin));
  }

  finish(engine: ClearingEngine): RunReportData {
    const state = engine.state;
    const summary = engine.summary({ accounts: false });
    const lending = state.rules?.model === 'lending';
    const rows: AccountRow[] = [];
    let accountCount = 0;
    for (const account of state.ledger.accounts.values()) {
      const status = statusOf(state, account.id);
      if (status === 'system') continue;
      accountCount++;
      const totals = accountTotals(state, account);
      const net = this.netDeposits.get(account.id) ?? 0n;
      const open = [...account.positions.values()].filter((p) => p.qty !== 0n).sort((a, b) => (a.instrument < b.instrument ? -1 : 1));
      rows.push({
        id: account.id,
        status,
        equity: formatFixed(totals.equity),
        cash: formatFixed(account.cash),
        mm: formatFixed(totals.maintenanceMargin),
        im: formatFixed(totals.initialMargin),
        netDeposits: formatFixed(net),
        pnl: formatFixed(totals.equity - net),
        deficit: formatFixed(this.deficits.get(account.id) ?? 0n),
        positions: open.map((p) => `${p.instrument} ${formatFixed(p.qty)}`),
        ...(lending ? { healthFactor: healthFactorOrNull(state, account) } : {}),
      });
    }
    // bankrupt first by deficit, then the lowest equity; among equals the biggest loss first
    const fixedOf = (text: string): number => Number(text);
    const rank: Record<string, number> = { bankrupt: 0, liquidated: 1, 'margin-call': 2, healthy: 3 };
    rows.sort(
      (a, b) =>
        (rank[a.status] ?? 4) - (rank[b.status] ?? 4) ||
        fixedOf(b.deficit) - fixedOf(a.deficit) ||
        fixedOf(a.equity) - fixedOf(b.equity) ||
        fixedOf(a.pnl) - fixedOf(b.pnl) ||
        (a.id < b.id ? -1 : 1),
    );

    const instruments: InstrumentSeries[] = [...this.prices.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([id, r]) => {
        const reduced = lttb(r.series.t, { price: r.series.v }, 'price', SERIES_POINTS);
        return {
          id,
          t: deltas(reduced.xs),
          price: reduced.price.map(round),
          first: formatFixed(r.first),
          last: formatFixed(r.last),
          low: formatFixed(r.low),
          high: formatFixed(r.high),
          points: r.series.t.length,
          liquidations: thin(r.liquidations),
          adl: thin(r.adl),
        };
      });

    const timelines: Record<string, Timeline> = {};
    const share = Math.max(60, Math.min(TIMELINE_POINTS, Math.floor(TIMELINE_POINT_BUDGET / Math.max(1, this.timelines.size))));
    for (const [id, whole] of [...this.timelines].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const line = dropRepeats(whole);
      const reduced = lttb(line.t, { equity: line.equity, mm: line.mm, im: line.im }, 'equity', share);
      timelines[id] = { t: deltas(reduced.xs), equity: reduced.equity.map(round5), mm: reduced.mm.map(round5), im: reduced.im.map(round5) };
    }

    const fund = lttb(this.fund.t, { balance: this.fund.v }, 'balance', SERIES_POINTS);
    const rulesAccounts = state.rules?.accounts;
    const system: SystemAccountSeries[] = [...this.system.entries()].map(([id, { role, rec }]) => {
      const reduced = lttb(rec.t, { cash: rec.v }, 'cash', SERIES_POINTS);
      return { role, id, t: deltas(reduced.xs), cash: reduced.cash.map(round), final: formatFixed(state.ledger.accounts.get(id)?.cash ?? 0n) };
    });
    const oiInstruments = [...this.oi.byInstrument.keys()].sort();

    return {
      rules: summary.rules ?? state.rules?.name ?? '—',
      rulesText: this.rulesText,
      summary,
      span: this.firstTs === undefined ? null : [this.firstTs, this.latestTs!],
      lending,
      instruments,
      decisionTimes: Object.fromEntries([...this.decisionTimes].map(([type, times]) => [type, deltas(times)])),
      fund: { id: rulesAccounts?.insurance ?? null, t: deltas(fund.xs), balance: fund.balance.map(round), draws: { t: deltas(this.draws.t), amount: this.draws.amount.map(round), account: this.draws.account } },
      system,
      aggregate: { t: deltas(this.aggregate.t), equity: this.aggregate.equity.map(round), mm: this.aggregate.mm.map(round), im: this.aggregate.im.map(round), accounts: accountCount },
      openInterest: { t: deltas(this.oi.t), instruments: oiInstruments, notional: oiInstruments.map((id) => this.oi.byInstrument.get(id)!.map(round)) },
      accountCount,
      accounts: rows.slice(0, ACCOUNT_ROWS),
      timelines,
      decisions: { types: [...this.typeIndex.keys()], names: [...this.nameIndex.keys()], ...this.decisions, t: deltas(this.decisions.t) },
      bankruptcies: this.bankruptcies.map((b) => ({ ...b, deficit: formatFixed(b.deficit), drawn: formatFixed(b.drawn), socialized: formatFixed(b.socialized) })),
      adlCounterparties: [...this.adl.entries()]
        .map(([account, e]) => ({ account, fills: e.fills, qty: Object.fromEntries([...e.qty].map(([k, v]) => [k, formatFixed(v)])), against: [...e.against].sort(), first: e.first, last: e.last }))
        .sort((a, b) => b.fills - a.fills || (a.account < b.account ? -1 : 1)),
      timelineRule: timelineRule(),
    };
  }
}

function healthFactorOrNull(state: ClearingState, account: Parameters<typeof accountTotals>[1]): string | null {
  const hf = healthFactorFixed(state.ledger, state.rules!, account);
  return hf === undefined ? null : formatFixed(hf);
}

/**
 * A timeline without the points that repeat both neighbours' values (a flat
 * stretch keeps its two ends): most accounts are flat most of the time.
 */
export function dropRepeats(line: { t: number[]; equity: number[]; mm: number[]; im: number[] }): { t: number[]; equity: number[]; mm: number[]; im: number[] } {
  const same = (i: number, j: number): boolean => line.equity[i] === line.equity[j] && line.mm[i] === line.mm[j] && line.im[i] === line.im[j];
  const keep: number[] = [];
  const n = line.t.length;
  for (let i = 0; i < n; i++) if (i === 0 || i === n - 1 || !same(i, i - 1) || !same(i, i + 1)) keep.push(i);
  return { t: keep.map((i) => line.t[i]!), equity: keep.map((i) => line.equity[i]!), mm: keep.map((i) => line.mm[i]!), im: keep.map((i) => line.im[i]!) };
}

/** Markers thinned to MARKERS_PER_INSTRUMENT: the first of each equal time slice. */
function thin(rec: Recorder): Markers {
  const total = rec.t.length;
  if (total <= MARKERS_PER_INSTRUMENT) return { t: deltas(rec.t), price: rec.v.map(round), total };
  const from = rec.t[0]!;
  const width = (rec.t[total - 1]! - from) / MARKERS_PER_INSTRUMENT || 1;
  const t: number[] = [];
  const price: number[] = [];
  let slice = -1;
  for (let i = 0; i < total; i++) {
    const s = Math.min(MARKERS_PER_INSTRUMENT - 1, Math.floor((rec.t[i]! - from) / width));
    if (s === slice) continue;
    slice = s;
    t.push(rec.t[i]!);
    price.push(round(rec.v[i]!));
  }
  return { t: deltas(t), price, total };
}

/** The first timestamp, then the differences to the previous one. */
export function deltas(times: readonly number[]): DeltaTimes {
  return times.map((t, i) => (i === 0 ? t : t - times[i - 1]!));
}

/** The inverse of `deltas`. */
export function undeltas(d: readonly number[]): number[] {
  const out: number[] = [];
  let t = 0;
  for (const v of d) out.push((t += v));
  return out;
}

/** A chart value: 7 significant digits are more than a pixel needs, and keep the JSON short (exact figures are in the tables). */
function round(v: number): number {
  return Number(v.toPrecision(7));
}

/** A per-account timeline's value: 5 significant digits (0.01 % of the value, under a pixel of its chart). */
function round5(v: number): number {
  return Number(v.toPrecision(5));
}

/** One line about a decision, for an account's list. */
export function describeDecision(d: DecisionEvent): string {
  const f = formatFixed;
  const on = 'instrument' in d && d.instrument !== undefined ? ` on ${d.instrument}` : '';
  switch (d.type) {
    case 'MarginCallIssued':
      return `equity ${f(d.equity)}, MM ${f(d.maintenanceMargin)}, IM ${f(d.initialMargin)}: call for ${f(d.amount)}${on}`;
    case 'MarginCallMet':
      return `equity ${f(d.equity)} ≥ ${f(d.cureLevel)}${on}`;
    case 'GracePeriodExpired':
      return `grace period expired${on}`;
    case 'LiquidationStarted':
      return `${d.reason}: equity ${f(d.equity)}, MM ${f(d.maintenanceMargin)}${on}`;
    case 'PositionLiquidated':
      return `${f(d.qty)} ${d.instrument} @ ${f(d.price)} with ${d.counterparty}, fee ${f(d.fee)}`;
    case 'CollateralLiquidated':
      return `${f(d.amount)} ${d.asset} @ ${f(d.price)} to ${d.counterparty}, repaid ${f(d.repaid)}`;
    case 'InsuranceFundDrawn':
      return `${f(d.amount)} from ${d.fund}${on}`;
    case 'AccountBankrupted':
      return `deficit ${f(d.deficit)}${on}`;
    case 'PositionAutoDeleveraged':
      return `${f(d.qty)} ${d.instrument} @ ${f(d.price)} against bankrupt ${d.counterparty} (rank ${d.rank})`;
    case 'LossSocialized':
      return `${f(d.amount)} shared over ${d.shares.length} positions`;
    case 'WithdrawalApproved':
      return `${f(d.amount)} ${d.asset}`;
    case 'WithdrawalRejected':
      return `${f(d.amount)} ${d.asset}: ${d.reason} (free ${f(d.freeCollateral)})`;
    case 'FundingSettled':
      return `${f(d.amount)} on ${d.instrument} at rate ${f(d.rate)}`;
    case 'MarkImpacted':
      return `${d.instrument} ${f(d.from)} → ${f(d.to)} (${d.cause})`;
    case 'TokenRebalanced':
      return `token ${d.token} (${d.reason}): ${f(d.qty)} ${d.instrument} @ ${f(d.price)} with ${d.counterparty}, NAV ${f(d.nav)}, leverage ${f(d.leverage)}`;
  }
}
