import { divRound, fromNumber, SCALE, toNumber, type Fixed } from '@clearsim/money';
import { black76Price, volatilityFor, yearsToExpiry } from '@clearsim/options';
import { underlyingOf, type Account, type Instrument, type LedgerState, type Position } from '@clearsim/ledger';
import type { PortfolioRules, Rules, UnderlyingScan } from '@clearsim/rules';

/**
 * SPAN-style scenario margin (`model: portfolio`).
 *
 * The classic 16 scenarios per underlying: the price moves by 0, ±1/3, ±2/3
 * and ±3/3 of the price scan range, each with the volatility up and down by
 * the vol scan range (14), plus two extreme moves of ±extremeMove × the scan
 * range with the volatility unchanged, of which only `extremeCover` of the
 * loss counts. Every instrument on an underlying moves by the same relative
 * amount: a future or perpetual gains qty × mark × move × multiplier; an
 * option is repriced by Black-76 at the shocked forward and volatility.
 *
 * The requirement of a margin unit (its maintenance margin):
 *   risk(U)      = max(0, worst scenario loss of the positions on U)
 *   group G      = Σ risk(U∈G) − offset × (Σ risk(U∈G) − joint risk of G),
 *                  the joint risk taking the same scenario for every member
 *   scan risk    = Σ groups + Σ underlyings in no group
 *   requirement  = max(scan risk, Σ short option minimum), rounded up;
 *   IM           = requirement × initialToMaintenance, rounded up.
 *
 * For speed, the P&L per unit of each instrument in the 16 scenarios is a
 * Float64Array computed once per mark (and vol and time, for options) and
 * shared by every account: an account's requirement is then 16 multiply-adds
 * per position.
 */
export const SCENARIO_COUNT = 16;

interface Scenario {
  /** Fraction of the price scan range (extremes: ±1, scaled by extremeMove). */
  price: number;
  vol: -1 | 0 | 1;
  extreme: boolean;
}

export const SCAN_SCENARIOS: readonly Scenario[] = [
  { price: 0, vol: 1, extreme: false },
  { price: 0, vol: -1, extreme: false },
  { price: 1 / 3, vol: 1, extreme: false },
  { price: 1 / 3, vol: -1, extreme: false },
  { price: -1 / 3, vol: 1, extreme: false },
  { price: -1 / 3, vol: -1, extreme: false },
  { price: 2 / 3, vol: 1, extreme: false },
  { price: 2 / 3, vol: -1, extreme: false },
  { price: -2 / 3, vol: 1, extreme: false },
  { price: -2 / 3, vol: -1, extreme: false },
  { price: 1, vol: 1, extreme: false },
  { price: 1, vol: -1, extreme: false },
  { price: -1, vol: 1, extreme: false },
  { price: -1, vol: -1, extreme: false },
  { price: 1, vol: 0, extreme: true },
  { price: -1, vol: 0, extreme: true },
];

export function scanParameters(rules: Rules, underlying: string): UnderlyingScan {
  const scan = rules.portfolio?.underlyings[underlying];
  if (!scan) throw new Error(`rules "${rules.name}" have no scan parameters for underlying "${underlying}" (portfolio.underlyings)`);
  return scan;
}

/** A cached vector and what it was computed from (compared by identity: marks are bigints, the surface and rules objects are replaced on change). */
interface CachedVector {
  mark: Fixed;
  underlyingMark: Fixed | undefined;
  surface: LedgerState['volatility'] | undefined;
  markedAt: number;
  rules: Rules;
  pnl: Float64Array;
  underlying: string;
  multiplier: number;
  shortOptionMinimum: number;
}
const vectors = new WeakMap<LedgerState, Map<string, CachedVector>>();

/** Whether a cached vector was computed from the instrument's current mark, underlying mark, surface, time and rules. */
function isFresh(cached: CachedVector, ledger: LedgerState, rules: Rules, instrument: Instrument): boolean {
  if (cached.mark !== instrument.mark || cached.rules !== rules || cached.markedAt !== (instrument.markedAt ?? instrument.expiry ?? 0)) return false;
  if (!instrument.premiumStyle) return true;
  return cached.surface === ledger.volatility && cached.underlyingMark === ledger.instruments.get(underlyingOf(instrument))?.mark;
}

function vectorOf(ledger: LedgerState, rules: Rules, instrument: Instrument): CachedVector {
  const mark = instrument.mark;
  if (mark === undefined) throw new Error(`no mark price for ${instrument.id}`);
  let cache = vectors.get(ledger);
  if (!cache) vectors.set(ledger, (cache = new Map()));
  const option = instrument.premiumStyle && instrument.strike !== undefined && instrument.expiry !== undefined;
  const underlyingId = underlyingOf(instrument);
  const underlyingMark = option ? ledger.instruments.get(underlyingId)?.mark : undefined;
  const surface = option ? ledger.volatility : undefined;
  const markedAt = instrument.markedAt ?? instrument.expiry ?? 0;
  const cached = cache.get(instrument.id);
  if (cached && isFresh(cached, ledger, rules, instrument)) return cached;

  const scan = scanParameters(rules, underlyingId);
  const forward = option ? toNumber(underlyingMark ?? 0n) : 0;
  const volatility = option ? (volatilityFor(ledger.volatility, underlyingId, toNumber(instrument.strike!), instrument.expiry!) ?? 0) : 0;
  const range = toNumber(scan.priceScanRange);
  const volRange = toNumber(scan.volScanRange);
  const cover = toNumber(scan.extremeCover);
  const multiplier = toNumber(instrument.multiplier);
  const markNumber = toNumber(mark);
  const pnl = new Float64Array(SCENARIO_COUNT);
  SCAN_SCENARIOS.forEach((s, i) => {
    const move = s.price * range * (s.extreme ? scan.extremeMove : 1);
    const weight = s.extreme ? cover : 1;
    if (!option) {
      // a price cannot fall below 0: an extreme move past −100 % loses the whole mark
      pnl[i] = markNumber * Math.max(move, -1) * multiplier * weight;
      return;
    }
    const repriced = black76Price({
      forward: Math.max(0, forward * (1 + move)), // an extreme move beyond −100 % floors the price at 0
      strike: toNumber(instrument.strike!),
      years: yearsToExpiry(instrument.expiry!, markedAt),
      volatility: volatility * (1 + s.vol * volRange),
      rate: toNumber(rules.riskFreeRate),
      type: instrument.optionType ?? 'call',
    });
    pnl[i] = (repriced - markNumber) * multiplier * weight;
  });
  const entry: CachedVector = { mark, underlyingMark, surface, markedAt, rules, pnl, underlying: underlyingId, multiplier, shortOptionMinimum: toNumber(scan.shortOptionMinimum) };
  cache.set(instrument.id, entry);
  return entry;
}

/** P&L per unit of quantity of `instrument` in each scenario (multiplier included, extremes already weighted). */
export function scenarioPnlPerUnit(ledger: LedgerState, rules: Rules, instrument: Instrument): Float64Array {
  return vectorOf(ledger, rules, instrument).pnl;
}

/** The rules' group numbers, once per rules object. */
const preparedGroups = new WeakMap<Rules, { groups: { members: readonly string[]; offset: number }[]; grouped: Set<string> }>();
function groupsOf(rules: Rules) {
  let prepared = preparedGroups.get(rules);
  if (!prepared) {
    const groups = (rules.portfolio as PortfolioRules).groups.map((g) => ({ members: g.members, offset: toNumber(g.offset) }));
    prepared = { groups, grouped: new Set(groups.flatMap((g) => g.members)) };
    preparedGroups.set(rules, prepared);
  }
  return prepared;
}

// Scratch space reused by every call (one writer per shard, and the calls do not nest): the P&L of each
// underlying in each scenario, side by side, so an account's requirement allocates nothing.
let scratch = new Float64Array(SCENARIO_COUNT * 16);
const scratchIds: string[] = [];
let scratchWorst = new Float64Array(16);
const joint = new Float64Array(SCENARIO_COUNT);

function worstAt(pnl: Float64Array, offset: number): number {
  let worst = 0;
  for (let s = 0; s < SCENARIO_COUNT; s++) if (-pnl[offset + s]! > worst) worst = -pnl[offset + s]!;
  return worst;
}

/** Adds `qty` units of an instrument's vector into its underlying's scratch slot (opened when new); returns the slot count. */
function addToScratch(n: number, vector: CachedVector, qty: number): number {
  let slot = 0;
  while (slot < n && scratchIds[slot] !== vector.underlying) slot++;
  if (slot === n) {
    if ((n + 1) * SCENARIO_COUNT > scratch.length) {
      const bigger = new Float64Array(scratch.length * 2);
      bigger.set(scratch);
      scratch = bigger;
      scratchWorst = new Float64Array(scratch.length / SCENARIO_COUNT);
    }
    scratchIds[n++] = vector.underlying;
    scratch.fill(0, slot * SCENARIO_COUNT, slot * SCENARIO_COUNT + SCENARIO_COUNT);
  }
  const offset = slot * SCENARIO_COUNT;
  for (let s = 0; s < SCENARIO_COUNT; s++) scratch[offset + s]! += qty * vector.pnl[s]!;
  return n;
}

/** The short option minimum `qty` units of an instrument add (0 unless a short option). */
const shortOptionCharge = (instrument: Instrument, vector: CachedVector, qty: number): number =>
  instrument.premiumStyle && qty < 0 ? -qty * vector.multiplier * vector.shortOptionMinimum : 0;

/** Each slot's worst scenario loss, once every position is in. */
function closeScratch(n: number): void {
  for (let slot = 0; slot < n; slot++) scratchWorst[slot] = worstAt(scratch, slot * SCENARIO_COUNT);
}

/** Folds the positions into the scratch per-underlying P&L; returns how many underlyings and the short option minimum. */
function accumulate(ledger: LedgerState, rules: Rules, positions: readonly Position[]): { underlyings: number; shortOptionMinimum: number } {
  let n = 0;
  let shortOptionMinimum = 0;
  for (const position of positions) {
    if (position.qty === 0n) continue;
    const instrument = ledger.instruments.get(position.instrument)!;
    const vector = vectorOf(ledger, rules, instrument);
    const qty = toNumber(position.qty);
    n = addToScratch(n, vector, qty);
    shortOptionMinimum += shortOptionCharge(instrument, vector, qty);
  }
  closeScratch(n);
  return { underlyings: n, shortOptionMinimum };
}

/** Scan risk from the accumulated scratch: group credits, then the underlyings in no group. */
function scanRiskOf(rules: Rules, n: number): number {
  const { groups, grouped } = groupsOf(rules);
  let scanRisk = 0;
  for (const group of groups) {
    let present = false;
    let separate = 0;
    for (const member of group.members) {
      let slot = 0;
      while (slot < n && scratchIds[slot] !== member) slot++;
      if (slot === n) continue;
      if (!present) {
        joint.fill(0);
        present = true;
      }
      const offset = slot * SCENARIO_COUNT;
      for (let s = 0; s < SCENARIO_COUNT; s++) joint[s]! += scratch[offset + s]!;
      separate += scratchWorst[slot]!;
    }
    if (present) scanRisk += separate - group.offset * (separate - worstAt(joint, 0));
  }
  for (let slot = 0; slot < n; slot++) if (!grouped.has(scratchIds[slot]!)) scanRisk += scratchWorst[slot]!;
  return scanRisk;
}

function requirementOf(rules: Rules, scanRisk: number, shortOptionMinimum: number): { maintenanceMargin: Fixed; initialMargin: Fixed } {
  const maintenanceMargin = fromNumber(Math.max(scanRisk, shortOptionMinimum), 'ceil');
  return { maintenanceMargin, initialMargin: divRound(maintenanceMargin * (rules.portfolio as PortfolioRules).initialToMaintenance, SCALE, 'ceil') };
}

/** MM and IM of a set of positions (the saga's hot path: allocates nothing). */
export function portfolioMargin(ledger: LedgerState, rules: Rules, positions: readonly Position[]): { maintenanceMargin: Fixed; initialMargin: Fixed } {
  const { underlyings, shortOptionMinimum } = accumulate(ledger, rules, positions);
  return requirementOf(rules, scanRiskOf(rules, underlyings), shortOptionMinimum);
}

export interface PortfolioRequirement {
  maintenanceMargin: Fixed;
  initialMargin: Fixed;
  /** Scan risk by underlying, before group credits. */
  byUnderlying: Map<string, number>;
  scanRisk: number;
  shortOptionMinimum: number;
  /** The portfolio's P&L in each scenario (summed over underlyings, joint moves). */
  scenarioPnl: Float64Array;
}

/** The requirement of a set of positions with its breakdown (the same numbers as portfolioMargin). */
export function portfolioRequirement(ledger: LedgerState, rules: Rules, positions: readonly Position[]): PortfolioRequirement {
  const { underlyings, shortOptionMinimum } = accumulate(ledger, rules, positions);
  const byUnderlying = new Map<string, number>();
  const scenarioPnl = new Float64Array(SCENARIO_COUNT);
  for (let slot = 0; slot < underlyings; slot++) {
    byUnderlying.set(scratchIds[slot]!, scratchWorst[slot]!);
    for (let s = 0; s < SCENARIO_COUNT; s++) scenarioPnl[s]! += scratch[slot * SCENARIO_COUNT + s]!;
  }
  const scanRisk = scanRiskOf(rules, underlyings);
  return { ...requirementOf(rules, scanRisk, shortOptionMinimum), byUnderlying, scanRisk, shortOptionMinimum, scenarioPnl };
}

/*
 * The flat book: for the whole-account (cross) requirement on the hot path,
 * each account's positions as two typed arrays — instrument index and float
 * quantity, in instrument-id order (the order unitPositions gives, so the
 * float sums are the same) — rebuilt only when the ledger bumps the account's
 * version (a fill or a settlement). Instruments are numbered in listing order
 * (never removed), with their vectors held by index. Caches over the state,
 * not state: nothing here is logged or snapshotted.
 */
interface InstrumentTable {
  ids: Map<string, number>;
  list: Instrument[];
  vectors: (CachedVector | undefined)[];
}
const tables = new WeakMap<LedgerState, InstrumentTable>();

function tableOf(ledger: LedgerState): InstrumentTable {
  let table = tables.get(ledger);
  if (!table) tables.set(ledger, (table = { ids: new Map(), list: [], vectors: [] }));
  if (table.list.length !== ledger.instruments.size) {
    for (const instrument of ledger.instruments.values()) {
      if (table.ids.has(instrument.id)) continue;
      table.ids.set(instrument.id, table.list.length);
      table.list.push(instrument);
    }
  }
  return table;
}

interface FlatBook {
  version: number;
  n: number;
  index: Int32Array;
  qty: Float64Array;
}
const books = new WeakMap<Account, FlatBook>();

function bookOf(table: InstrumentTable, account: Account): FlatBook {
  const version = account.version ?? 0;
  const cached = books.get(account);
  if (cached && cached.version === version) return cached;
  const open = [...account.positions.values()].filter((p) => p.qty !== 0n).sort((a, b) => (a.instrument < b.instrument ? -1 : 1));
  const book: FlatBook = { version, n: open.length, index: new Int32Array(open.length), qty: new Float64Array(open.length) };
  open.forEach((p, i) => {
    book.index[i] = table.ids.get(p.instrument)!;
    book.qty[i] = toNumber(p.qty);
  });
  books.set(account, book);
  return book;
}

/**
 * MM and IM of a cross account's whole portfolio from its flat book: the same
 * numbers as portfolioMargin over its positions in instrument order, without a
 * map lookup or a bigint conversion per position.
 */
export function portfolioMarginOfAccount(ledger: LedgerState, rules: Rules, account: Account): { maintenanceMargin: Fixed; initialMargin: Fixed } {
  const table = tableOf(ledger);
  const book = bookOf(table, account);
  let n = 0;
  let shortOptionMinimum = 0;
  for (let i = 0; i < book.n; i++) {
    const k = book.index[i]!;
    const instrument = table.list[k]!;
    let vector = table.vectors[k];
    if (!vector || !isFresh(vector, ledger, rules, instrument)) table.vectors[k] = vector = vectorOf(ledger, rules, instrument);
    const qty = book.qty[i]!;
    n = addToScratch(n, vector, qty);
    shortOptionMinimum += shortOptionCharge(instrument, vector, qty);
  }
  closeScratch(n);
  return requirementOf(rules, scanRiskOf(rules, n), shortOptionMinimum);
}

