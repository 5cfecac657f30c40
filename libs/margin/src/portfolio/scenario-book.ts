import { SCALE, toNumber, type Fixed } from '@clearsim/money';
import { underlyingOf, type Account, type Instrument, type LedgerState } from '@clearsim/ledger';
import type { PortfolioRules, Rules } from '@clearsim/rules';
import { marginFromScanRisk, shortOptionMinimumOf, somPerOption } from './scenario-margin';
import { isFresh, vectorOf, worstLoss, type CachedVector } from './scenario-vectors';

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
 *   that outgrows its capacity moves to the end of the pool (see relocate).
 * - Correlation groups are lists of underlying numbers, prepared once per
 *   rules object.
 *
 * One account's requirement (`portfolioMarginOfAccount`, the saga's path) and
 * every account's in one pass (`scenarioRequirements`) run the same loop
 * (requirementsOf), so they agree to the bit; the float screen
 * (`clearlyAboveMaintenanceFraction`) reads the same ranges.
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
  /** 1 a call, 2 a put, 0 not an option. */
  private optionKind = new Uint8Array(8);
  private mark = new Float64Array(8);

  // underlyings and the per-account scratch (one slot of S per underlying)
  private readonly underlyingNumbers = new Map<string, number>();
  private acc = new Float64Array(4 * S);
  private seen = new Int32Array(4);
  private order = new Int32Array(4);
  private worst = new Float64Array(4);
  /** Per underlying, for the account being summed: short calls and short puts (|qty| × multiplier) and the rate. */
  private shortCalls = new Float64Array(4);
  private shortPuts = new Float64Array(4);
  private somRate = new Float64Array(4);
  private readonly joint = new Float64Array(S);
  private stamp = 0;

  // correlation groups of the rules last prepared
  private preparedRules: Rules | undefined;
  private preparedUnderlyings = -1;
  private groupMembers: Int32Array[] = [];
  private groupOffset: number[] = [];
  private grouped = new Uint8Array(4);
  /** shortOptionMinimumMethod of the rules last prepared is `per-option`. */
  private somPerOption = false;
  /** Per underlying: the concentration threshold less its float error (Infinity without a rule); above it the screen defers. */
  private concentrationLimit = new Float64Array(4);

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
  /** ledger.accounts.size when every ledger account was last registered. */
  private registeredUpTo = -1;
  /** ledger.positionChanges when every slot was last brought in step. */
  private syncedAtChange = -1;
  private readonly one = new Float64Array(1);

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
   * account's range only when its version moved (and no version is read when
   * the ledger's position count has not moved since the last pass).
   */
  requirements(rules: Rules): { accounts: readonly Account[]; requirement: Float64Array } {
    this.registerAll();
    const n = this.accounts.length;
    if (this.syncedAtChange !== this.ledger.positionChanges) {
      for (let a = 0; a < n; a++) this.sync(a);
      this.syncedAtChange = this.ledger.positionChanges;
    }
    this.prepare(rules);
    // every range holds only open positions, so an instrument no account holds is in none
    for (let k = 0; k < this.instruments.length; k++) if (this.ledger.holders.get(this.instruments[k]!.id)?.size) this.freshenVector(rules, k);
    const requirement = new Float64Array(n);
    this.requirementsOf(0, n, requirement);
    return { accounts: this.accounts, requirement };
  }

  /**
   * Whether a cross account's equity is, beyond any doubt, at or above
   * `fraction` × MM: the float equity, less a bound on its float error and a
   * ledger unit per position for the rounding the exact figure does, against
   * the MM the exact path derives from the same float requirement. False
   * means "compute exactly": with other collateral, or a position whose
   * notional may be above its concentration threshold, it always is.
   */
  clearlyAbove(rules: Rules, account: Account, fraction: number): boolean {
    if (account.isolated || account.collateral.size > 0) return false;
    const a = this.slotOf(account);
    this.prepare(rules);
    this.freshenVectorsOf(rules, a);
    this.requirementsOf(a, a + 1, this.one);
    const required = this.one[0]!;
    const cash = toNumber(account.cash);
    let equity = cash;
    let magnitude = Math.abs(cash);
    for (let p = this.start[a]!, end = p + this.count[a]!; p < end; p++) {
      const k = this.positionInstrument[p]!;
      const value = this.positionQty[p]! * this.mark[k]! * this.multiplier[k]!;
      // a position whose notional may pass its concentration threshold carries an add-on: left to the exact path
      if (Math.abs(value) * (1 + 1e-12) + 1e-8 > this.concentrationLimit[this.instrumentUnderlying[k]!]!) return false;
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
    this.requirementsOf(a, a + 1, this.one);
    // marginFromScanRisk takes max(scan risk, short option minimum): the requirement is already that max
    return marginFromScanRisk(rules, this.one[0]!, 0);
  }

  /**
   * max(scan risk, short option minimum) of the accounts in slots from … to − 1
   * into out[0 …], each over its range: the positions summed per underlying
   * in instrument-id order, each underlying's worst loss, the group credits
   * in the rules' member order, then the underlyings in no group in order of
   * appearance — the order portfolioMargin sums in. One loop with every array
   * in a local: the full recompute's hot path.
   */
  private requirementsOf(from: number, to: number, out: Float64Array): void {
    if (this.stamp > 0x7fffffff - (to - from)) {
      this.seen.fill(0);
      this.stamp = 0;
    }
    const { acc, seen, order, worst, joint, vectors, instrumentUnderlying, premiumStyle, multiplier, positionInstrument, positionQty, start, count, groupMembers, groupOffset, grouped } = this;
    const { shortCalls, shortPuts, somRate, optionKind, somPerOption } = this;
    const shortOptionMinimumPerUnit = this.shortOptionMinimum;
    let stamp = this.stamp;
    for (let a = from; a < to; a++) {
      stamp++;
      let n = 0;
      let shorts = false;
      for (let p = start[a]!, end = p + count[a]!; p < end; p++) {
        const k = positionInstrument[p]!;
        const u = instrumentUnderlying[k]!;
        const q = positionQty[p]!;
        const o = u * S;
        if (seen[u] !== stamp) {
          seen[u] = stamp;
          order[n++] = u;
          for (let s = 0; s < S; s++) acc[o + s] = 0;
          shortCalls[u] = 0;
          shortPuts[u] = 0;
        }
        const v = k * S;
        for (let s = 0; s < S; s++) acc[o + s]! += q * vectors[v + s]!;
        if (premiumStyle[k] === 1 && q < 0) {
          if (optionKind[k] === 2) shortPuts[u]! += -q * multiplier[k]!;
          else shortCalls[u]! += -q * multiplier[k]!;
          somRate[u] = shortOptionMinimumPerUnit[k]!;
          shorts = true;
        }
      }
      // per underlying in order of appearance, as portfolioMargin sums
      let shortOptionMinimum = 0;
      if (shorts) {
        for (let j = 0; j < n; j++) {
          const u = order[j]!;
          if (shortCalls[u]! > 0 || shortPuts[u]! > 0) shortOptionMinimum += shortOptionMinimumOf(somPerOption, shortCalls[u]!, shortPuts[u]!, somRate[u]!);
        }
      }
      for (let j = 0; j < n; j++) worst[order[j]!] = worstLoss(acc, order[j]! * S);
      let scanRisk = 0;
      for (let g = 0; g < groupMembers.length; g++) {
        const members = groupMembers[g]!;
        let present = 0;
        let only = 0;
        for (let m = 0; m < members.length; m++) {
          if (seen[members[m]!] === stamp) {
            present++;
            only = members[m]!;
          }
        }
        if (present === 0) continue;
        if (present === 1) {
          // the joint P&L is that member's own: the credit is offset × 0 (the same float as the general case)
          scanRisk += worst[only]!;
          continue;
        }
        joint.fill(0);
        let separate = 0;
        for (let m = 0; m < members.length; m++) {
          const u = members[m]!;
          if (seen[u] !== stamp) continue;
          const o = u * S;
          for (let s = 0; s < S; s++) joint[s]! += acc[o + s]!;
          separate += worst[u]!;
        }
        scanRisk += separate - groupOffset[g]! * (separate - worstLoss(joint, 0));
      }
      for (let j = 0; j < n; j++) if (grouped[order[j]!] === 0) scanRisk += worst[order[j]!]!;
      out[a - from] = Math.max(scanRisk, shortOptionMinimum);
    }
    this.stamp = stamp;
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

  /**
   * Moves an account's range to the end of the pool with room for `capacity`
   * positions. The range it leaves is not reused: capacities at least double,
   * so what an account has abandoned is less than what it holds, and the pool
   * stays under twice the live ranges.
   */
  private relocate(a: number, capacity: number): void {
    const at = this.poolUsed;
    this.poolUsed += capacity;
    this.positionInstrument = grown(this.positionInstrument, this.poolUsed);
    this.positionQty = grown(this.positionQty, this.poolUsed);
    this.positionCost = grown(this.positionCost, this.poolUsed);
    this.start[a] = at;
    this.capacity[a] = capacity;
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
    this.instrumentUnderlying[k] = this.underlyingNumber(underlyingOf(instrument));
    this.premiumStyle[k] = instrument.premiumStyle ? 1 : 0;
    this.optionKind = grown(this.optionKind, k + 1);
    this.optionKind[k] = instrument.optionType === 'put' ? 2 : instrument.optionType === 'call' ? 1 : 0;
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
    this.shortCalls = grown(this.shortCalls, u + 1);
    this.shortPuts = grown(this.shortPuts, u + 1);
    this.somRate = grown(this.somRate, u + 1);
    this.grouped = grown(this.grouped, u + 1);
    // 0 until the next prepare: the screen defers for an underlying it has not prepared
    this.concentrationLimit = grown(this.concentrationLimit, u + 1);
    return u;
  }

  /** The rules' groups as underlying numbers and the concentration limits, once per rules object and again when new underlyings appear. */
  private prepare(rules: Rules): void {
    if (rules === this.preparedRules && this.preparedUnderlyings === this.underlyingNumbers.size) return;
    const groups = (rules.portfolio as PortfolioRules).groups;
    // numbering a member may add an underlying: number them all before taking the count
    const members = groups.map((g) => Int32Array.from(g.members, (m) => this.underlyingNumber(m)));
    this.groupMembers = members;
    this.groupOffset = groups.map((g) => toNumber(g.offset));
    this.grouped.fill(0);
    for (const group of members) for (const u of group) this.grouped[u] = 1;
    for (const [id, u] of this.underlyingNumbers) {
      const rule = rules.concentration[id];
      this.concentrationLimit[u] = rule ? toNumber(rule.threshold) * (1 - 1e-12) : Infinity;
    }
    this.somPerOption = somPerOption(rules);
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
