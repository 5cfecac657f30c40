import { SCALE, toNumber, type Fixed } from '@clearsim/money';
import { underlyingOf, type Account, type Instrument, type LedgerState } from '@clearsim/ledger';
import type { PortfolioRules, Rules } from '@clearsim/rules';
import { marginFromScanRisk } from './scenario-margin';
import { isFresh, vectorOf, type CachedVector } from './scenario-vectors';

/*
 * The scenario book: every cross account's positions, struct-of-arrays, for
 * the whole-account scenario requirement (`model: portfolio`). It is a cache
 * over the ledger, not state: nothing in it is logged or snapshotted, and a
 * ledger object gets its own book (a snapshot restore or a what-if scratch
 * ledger starts empty).
 *
 * - Instruments are numbered in the order the book first meets them (never
 *   removed); their vectors (P&L per unit in the 16 scenarios) sit side by
 *   side in one Float64Array, with the underlying's number, multiplier and
 *   short option minimum per unit beside them.
 * - Each account owns a range of a position pool: instrument numbers
 *   (Int32Array), float quantities and float cost bases (Float64Array), in
 *   instrument-id order (the order unitPositions gives, so the float sums are
 *   those of portfolioMargin over the positions). A range is rewritten only
 *   when the ledger bumps the account's version (a fill or a settlement); one
 *   that outgrows its capacity moves to the end of the pool, and the pool is
 *   compacted when half of it is abandoned.
 * - Correlation groups are lists of underlying numbers, prepared once per
 *   rules object.
 *
 * One account's requirement (`portfolioMarginOfAccount`, the saga's path) and
 * every account's in one pass (`scenarioRequirements`) run the same
 * per-account arithmetic, so they agree to the bit.
 */

/** A local constant: SCENARIO_COUNT read through the package's re-exports is a getter call per read. */
const S = 16;
const UNSYNCED = -1;

function grown<T extends Int32Array | Float64Array | Uint8Array>(array: T, length: number): T {
  if (length <= array.length) return array;
  const bigger = new (array.constructor as new (n: number) => T)(Math.max(length, array.length * 2));
  bigger.set(array);
  return bigger;
}

export class ScenarioBook {
  // instruments
  private readonly instrumentNumbers = new Map<string, number>();
  private readonly instruments: Instrument[] = [];
  private readonly cached: (CachedVector | undefined)[] = [];
  private vectors = new Float64Array(8 * S);
  private instrumentUnderlying = new Int32Array(8);
  private premiumStyle = new Uint8Array(8);
  private multiplier = new Float64Array(8);
  private shortOptionMinimum = new Float64Array(8);
  private mark = new Float64Array(8);
  /** The pass in which an instrument's vector was last checked against the ledger (see scenarioRequirements). */
  private checkedIn = new Int32Array(8);
  private pass = 0;

  // underlyings and the per-account scratch (one slot of S per underlying)
  private readonly underlyingNumbers = new Map<string, number>();
  private acc = new Float64Array(4 * S);
  private seen = new Int32Array(4);
  private order = new Int32Array(4);
  private worst = new Float64Array(4);
  private readonly joint = new Float64Array(S);
  private stamp = 0;

  // correlation groups of the rules last prepared
  private preparedRules: Rules | undefined;
  private preparedUnderlyings = -1;
  private groupMembers: Int32Array[] = [];
  private groupOffset: number[] = [];
  private grouped = new Uint8Array(4);

  // accounts and the position pool
  private readonly accountNumbers = new Map<string, number>();
  private readonly accounts: Account[] = [];
  private accountVersion = new Float64Array(64);
  private start = new Int32Array(64);
  private count = new Int32Array(64);
  private capacity = new Int32Array(64);
  private positionInstrument = new Int32Array(256);
  private positionQty = new Float64Array(256);
  private positionCost = new Float64Array(256);
  private poolUsed = 0;
  private poolAbandoned = 0;
  /** ledger.accounts.size when every ledger account was last registered. */
  private registeredUpTo = -1;

  constructor(private readonly ledger: LedgerState) {}

  /** MM and IM of a cross account's whole portfolio. */
  marginOfAccount(rules: Rules, account: Account): { maintenanceMargin: Fixed; initialMargin: Fixed } {
    const a = this.slotOf(account);
    this.prepare(rules);
    this.freshenVectorsOf(rules, a);
    return this.marginOfSlot(rules, a);
  }

  /**
   * Every cross account's requirement in one pass: the accounts and, for each,
   * max(scan risk, short option minimum) as a float (its MM is that rounded
   * up: `marginFromScanRisk`). Each vector is checked once per pass, each
   * account's range only when its version moved.
   */
  requirements(rules: Rules): { accounts: readonly Account[]; requirement: Float64Array } {
    this.registerAll();
    this.prepare(rules);
    const pass = this.nextPass();
    const n = this.accounts.length;
    const requirement = new Float64Array(n);
    for (let a = 0; a < n; a++) {
      this.sync(a);
      for (let p = this.start[a]!, end = p + this.count[a]!; p < end; p++) {
        const k = this.positionInstrument[p]!;
        if (this.checkedIn[k] !== pass) {
          this.freshenVector(rules, k);
          this.checkedIn[k] = pass;
        }
      }
      requirement[a] = this.requirementOfSlot(a);
    }
    return { accounts: this.accounts, requirement };
  }

  /**
   * Whether a cross account's equity is, beyond any doubt, at or above
   * `fraction` × MM: the float equity, less a bound on its float error and a
   * ledger unit per position for the rounding the exact figure does, against
   * the MM the exact path derives from the same float requirement. False
   * means "compute exactly": with other collateral or a concentration add-on
   * it always is.
   */
  clearlyAbove(rules: Rules, account: Account, fraction: number): boolean {
    if (account.isolated || account.collateral.size > 0 || hasConcentrationRules(rules)) return false;
    const a = this.slotOf(account);
    this.prepare(rules);
    this.freshenVectorsOf(rules, a);
    const required = this.requirementOfSlot(a);
    const cash = toNumber(account.cash);
    let equity = cash;
    let magnitude = Math.abs(cash);
    for (let p = this.start[a]!, end = p + this.count[a]!; p < end; p++) {
      const k = this.positionInstrument[p]!;
      const value = this.positionQty[p]! * this.mark[k]! * this.multiplier[k]!;
      const cost = this.premiumStyle[k] === 1 ? 0 : this.positionCost[p]!;
      equity += value - cost;
      magnitude += Math.abs(value) + Math.abs(cost);
    }
    // exact equity ≥ float equity − float error − one ledger unit per position (each rounds down). The float
    // error of n + 1 terms, each from bigints converted (2 ulps each) and multiplied, is below (n + 10) ulps of
    // the magnitude; (n + 64) × 10⁻¹⁵ is ~4 times that. Exact MM ≤ the float requirement rounded up (+ one unit).
    const positions = this.count[a]!;
    const lowest = equity - (positions + 64) * 1e-15 * magnitude - (positions + 1) * 1e-8;
    const level = fraction * (1 + 1e-12) * (required * (1 + 1e-12) + 1e-8);
    return lowest >= level;
  }

  private marginOfSlot(rules: Rules, a: number): { maintenanceMargin: Fixed; initialMargin: Fixed } {
    // marginFromScanRisk takes max(scan risk, short option minimum): the slot's requirement is already that max
    return marginFromScanRisk(rules, this.requirementOfSlot(a), 0);
  }

  /**
   * max(scan risk, short option minimum) of one account, over its range: the
   * positions summed per underlying in instrument-id order, each
   * underlying's worst loss, the group credits in the rules' member order,
   * then the underlyings in no group in order of appearance — the order
   * portfolioMargin sums in.
   */
  private requirementOfSlot(a: number): number {
    if (this.stamp === 0x7fffffff) {
      this.seen.fill(0);
      this.stamp = 0;
    }
    const stamp = ++this.stamp;
    const { acc, seen, order, worst, vectors, instrumentUnderlying, premiumStyle, positionInstrument, positionQty } = this;
    let n = 0;
    let shortOptionMinimum = 0;
    for (let p = this.start[a]!, end = p + this.count[a]!; p < end; p++) {
      const k = positionInstrument[p]!;
      const u = instrumentUnderlying[k]!;
      const q = positionQty[p]!;
      const o = u * S;
      if (seen[u] !== stamp) {
        seen[u] = stamp;
        order[n++] = u;
        for (let s = 0; s < S; s++) acc[o + s] = 0;
      }
      const v = k * S;
      for (let s = 0; s < S; s++) acc[o + s]! += q * vectors[v + s]!;
      if (premiumStyle[k] === 1 && q < 0) shortOptionMinimum += -q * this.multiplier[k]! * this.shortOptionMinimum[k]!;
    }
    for (let j = 0; j < n; j++) worst[order[j]!] = worstLoss(acc, order[j]! * S);
    let scanRisk = 0;
    const joint = this.joint;
    for (let g = 0; g < this.groupMembers.length; g++) {
      const members = this.groupMembers[g]!;
      let present = false;
      let separate = 0;
      for (let m = 0; m < members.length; m++) {
        const u = members[m]!;
        if (seen[u] !== stamp) continue;
        if (!present) {
          joint.fill(0);
          present = true;
        }
        const o = u * S;
        for (let s = 0; s < S; s++) joint[s]! += acc[o + s]!;
        separate += worst[u]!;
      }
      if (present) scanRisk += separate - this.groupOffset[g]! * (separate - worstLoss(joint, 0));
    }
    for (let j = 0; j < n; j++) if (this.grouped[order[j]!] === 0) scanRisk += worst[order[j]!]!;
    return Math.max(scanRisk, shortOptionMinimum);
  }

  private nextPass(): number {
    if (this.pass === 0x7fffffff) {
      this.checkedIn.fill(0);
      this.pass = 0;
    }
    return ++this.pass;
  }

  /** The account's slot, its range in step with its version. */
  private slotOf(account: Account): number {
    let a = this.accountNumbers.get(account.id);
    if (a === undefined) a = this.register(account);
    else if (this.accounts[a] !== account) {
      // another object under the same id (a copy): take it, and its positions afresh
      this.accounts[a] = account;
      this.accountVersion[a] = UNSYNCED;
    }
    this.sync(a);
    return a;
  }

  private register(account: Account): number {
    const a = this.accounts.length;
    this.accountNumbers.set(account.id, a);
    this.accounts.push(account);
    this.accountVersion = grown(this.accountVersion, a + 1);
    this.start = grown(this.start, a + 1);
    this.count = grown(this.count, a + 1);
    this.capacity = grown(this.capacity, a + 1);
    this.accountVersion[a] = UNSYNCED;
    this.start[a] = this.poolUsed;
    this.count[a] = 0;
    this.capacity[a] = 0;
    return a;
  }

  /** Every cross account of the ledger has a slot (accounts are never removed from a ledger). */
  private registerAll(): void {
    if (this.registeredUpTo === this.ledger.accounts.size) return;
    for (const account of this.ledger.accounts.values()) if (!account.isolated) this.slotOf(account);
    this.registeredUpTo = this.ledger.accounts.size;
  }

  /** Rewrites an account's range from its positions if its version moved. */
  private sync(a: number): void {
    const account = this.accounts[a]!;
    const version = account.version ?? 0;
    if (this.accountVersion[a] === version) return;
    const open = [...account.positions.values()].filter((p) => p.qty !== 0n).sort((x, y) => (x.instrument < y.instrument ? -1 : 1));
    if (open.length > this.capacity[a]!) this.relocate(a, Math.max(open.length, 2 * this.capacity[a]!, 4));
    let p = this.start[a]!;
    for (const position of open) {
      this.positionInstrument[p] = this.instrumentNumber(position.instrument);
      this.positionQty[p] = toNumber(position.qty);
      this.positionCost[p++] = toNumber(position.cost);
    }
    this.count[a] = open.length;
    this.accountVersion[a] = version;
  }

  /** Moves an account's range to the end of the pool with room for `capacity` positions (compacting first if half the pool is abandoned). */
  private relocate(a: number, capacity: number): void {
    this.poolAbandoned += this.capacity[a]!;
    if (this.poolAbandoned > 1024 && this.poolAbandoned * 2 > this.poolUsed) this.compact();
    const at = this.poolUsed;
    this.poolUsed += capacity;
    this.positionInstrument = grown(this.positionInstrument, this.poolUsed);
    this.positionQty = grown(this.positionQty, this.poolUsed);
    this.positionCost = grown(this.positionCost, this.poolUsed);
    this.positionInstrument.copyWithin(at, this.start[a]!, this.start[a]! + this.count[a]!);
    this.positionQty.copyWithin(at, this.start[a]!, this.start[a]! + this.count[a]!);
    this.positionCost.copyWithin(at, this.start[a]!, this.start[a]! + this.count[a]!);
    this.start[a] = at;
    this.capacity[a] = capacity;
  }

  /** Packs every range to the front of the pool, in account order, each keeping its capacity. */
  private compact(): void {
    const instrument = new Int32Array(this.positionInstrument.length);
    const qty = new Float64Array(this.positionQty.length);
    const cost = new Float64Array(this.positionCost.length);
    let at = 0;
    for (let a = 0; a < this.accounts.length; a++) {
      const from = this.start[a]!;
      const to = from + this.count[a]!;
      instrument.set(this.positionInstrument.subarray(from, to), at);
      qty.set(this.positionQty.subarray(from, to), at);
      cost.set(this.positionCost.subarray(from, to), at);
      this.start[a] = at;
      at += this.capacity[a]!;
    }
    this.positionInstrument = instrument;
    this.positionQty = qty;
    this.positionCost = cost;
    this.poolUsed = at;
    this.poolAbandoned = 0;
  }

  private instrumentNumber(id: string): number {
    const known = this.instrumentNumbers.get(id);
    if (known !== undefined) return known;
    const instrument = this.ledger.instruments.get(id);
    if (!instrument) throw new Error(`position in unknown instrument ${id}`);
    const k = this.instruments.length;
    this.instrumentNumbers.set(id, k);
    this.instruments.push(instrument);
    this.cached.push(undefined);
    this.vectors = grown(this.vectors, (k + 1) * S);
    this.instrumentUnderlying = grown(this.instrumentUnderlying, k + 1);
    this.premiumStyle = grown(this.premiumStyle, k + 1);
    this.multiplier = grown(this.multiplier, k + 1);
    this.shortOptionMinimum = grown(this.shortOptionMinimum, k + 1);
    this.mark = grown(this.mark, k + 1);
    this.checkedIn = grown(this.checkedIn, k + 1);
    this.instrumentUnderlying[k] = this.underlyingNumber(underlyingOf(instrument));
    this.premiumStyle[k] = instrument.premiumStyle ? 1 : 0;
    return k;
  }

  private underlyingNumber(id: string): number {
    const known = this.underlyingNumbers.get(id);
    if (known !== undefined) return known;
    const u = this.underlyingNumbers.size;
    this.underlyingNumbers.set(id, u);
    this.acc = grown(this.acc, (u + 1) * S);
    this.seen = grown(this.seen, u + 1);
    this.order = grown(this.order, u + 1);
    this.worst = grown(this.worst, u + 1);
    this.grouped = grown(this.grouped, u + 1);
    return u;
  }

  /** The rules' groups as underlying numbers, once per rules object (and again when new underlyings appear). */
  private prepare(rules: Rules): void {
    if (rules === this.preparedRules && this.preparedUnderlyings === this.underlyingNumbers.size) return;
    const groups = (rules.portfolio as PortfolioRules).groups;
    // numbering a member may add an underlying: number them all before taking the count
    const members = groups.map((g) => Int32Array.from(g.members, (m) => this.underlyingNumber(m)));
    this.groupMembers = members;
    this.groupOffset = groups.map((g) => toNumber(g.offset));
    this.grouped.fill(0);
    for (const group of members) for (const u of group) this.grouped[u] = 1;
    this.preparedRules = rules;
    this.preparedUnderlyings = this.underlyingNumbers.size;
  }

  private freshenVectorsOf(rules: Rules, a: number): void {
    for (let p = this.start[a]!, end = p + this.count[a]!; p < end; p++) {
      const k = this.positionInstrument[p]!;
      const cached = this.cached[k];
      if (cached === undefined || !isFresh(cached, this.ledger, rules, this.instruments[k]!)) this.freshenVector(rules, k);
    }
  }

  /** Copies the instrument's current vector (and its numbers) into the book if it is not the one already there. */
  private freshenVector(rules: Rules, k: number): void {
    const vector = vectorOf(this.ledger, rules, this.instruments[k]!);
    if (vector === this.cached[k]) return;
    this.cached[k] = vector;
    this.vectors.set(vector.pnl, k * S);
    this.multiplier[k] = vector.multiplier;
    this.shortOptionMinimum[k] = vector.shortOptionMinimum;
    this.mark[k] = toNumber(vector.mark);
  }
}

function worstLoss(pnl: Float64Array, offset: number): number {
  let worst = 0;
  for (let s = 0; s < S; s++) if (-pnl[offset + s]! > worst) worst = -pnl[offset + s]!;
  return worst;
}

const concentrationRules = new WeakMap<Rules, boolean>();
function hasConcentrationRules(rules: Rules): boolean {
  let has = concentrationRules.get(rules);
  if (has === undefined) concentrationRules.set(rules, (has = Object.keys(rules.concentration).length > 0));
  return has;
}

const books = new WeakMap<LedgerState, ScenarioBook>();

/** The ledger's scenario book (created on first use). */
export function scenarioBookOf(ledger: LedgerState): ScenarioBook {
  let book = books.get(ledger);
  if (!book) books.set(ledger, (book = new ScenarioBook(ledger)));
  return book;
}

/**
 * MM and IM of a cross account's whole portfolio, from the scenario book: the
 * same numbers as portfolioMargin over its positions in instrument order.
 */
export function portfolioMarginOfAccount(ledger: LedgerState, rules: Rules, account: Account): { maintenanceMargin: Fixed; initialMargin: Fixed } {
  return scenarioBookOf(ledger).marginOfAccount(rules, account);
}

/** Every cross account's float requirement in one pass over the scenario book (a full recompute). */
export function scenarioRequirements(ledger: LedgerState, rules: Rules): { accounts: readonly Account[]; requirement: Float64Array } {
  return scenarioBookOf(ledger).requirements(rules);
}

/**
 * A cross account's equity is, beyond the float error, at or above
 * `fraction` × its scenario MM (`fraction` a Fixed, e.g. the call level):
 * then no margin check of it can decide anything. False means "compute
 * exactly".
 */
export function clearlyAboveMaintenanceFraction(ledger: LedgerState, rules: Rules, account: Account, fraction: Fixed): boolean {
  if (rules.model !== 'portfolio') return false;
  return scenarioBookOf(ledger).clearlyAbove(rules, account, Math.max(1, Number(fraction) / Number(SCALE)));
}
