import { SCALE, toNumber, type Fixed } from '@clearsim/money';
import { instrumentRules, type Rules, type Tier } from '@clearsim/rules';
import { underlyingOf, type Account, type Instrument, type LedgerState, type Position } from '@clearsim/ledger';
import { SlotHeap } from './band-heap';
import { callLevelOf, computeRisk, unitKey, unitsOf, unitPositions, type Risk } from './risk';
import { venueMaintenanceSlope, venueScalesMaintenance } from './venue-margin';

/**
 * Price bands: the incremental index behind "a price update re-evaluates only
 * the accounts it can change".
 *
 * When an account is evaluated exactly, its slack S = equity − c·MM (c =
 * `callBelow`: the distance to the first decision a healthy unit can get) is
 * shared among its n positions. Within one tier (maintenance rate r), MM is
 * linear in the mark, so moving a position's mark by δ lowers the slack by at
 * most |q|·k·(1 + c·r)·δ; the unit therefore stays above its call level while
 * every mark stays within
 *   δ = (S / n) / (|q|·k·(1 + c·r))
 * of its value at evaluation (and inside its current tier's notional bracket,
 * where MM is linear). A price update re-checks only the holders whose band it
 * leaves; everyone else provably needs no decision. Units with an open call
 * (they must be checked for cure) or no slack get zero-width bands.
 *
 * Bands are a cache over the state, not state: decisions never depend on them
 * beyond "who gets the exact check", and a property test proves the decisions
 * equal those of checking every holder.
 */
export interface Band {
  instrument: string;
  lower: number;
  upper: number;
}

/** One instrument's bands: slots (one per banded account) in two heaps, and the zero-width ones in a set. */
class InstrumentBands {
  /** Lower bounds, negated: the highest lower bound on top (a falling price reaches it first). */
  readonly lowers = new SlotHeap();
  /** Upper bounds: the lowest on top (a rising price reaches it first). */
  readonly uppers = new SlotHeap();
  /** Zero-width bands (called units, no slack), by account id: every move of the mark re-checks them. */
  readonly hot = new Set<number>();
  /** The account id of each slot. */
  private accountOfSlot = new Int32Array(16);
  private readonly freeSlots: number[] = [];
  private slots = 0;

  constructor(
    readonly index: number,
    /** The instrument's id (PriceBands keeps one InstrumentBands per id). */
    readonly name: string,
  ) {}

  accountOf(slot: number): number {
    return this.accountOfSlot[slot]!;
  }

  add(account: number, lower: number, upper: number): number {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.slots++;
      if (slot >= this.accountOfSlot.length) this.accountOfSlot = grown(this.accountOfSlot, 0);
    }
    this.accountOfSlot[slot] = account;
    this.rekey(slot, lower, upper);
    return slot;
  }

  /** New bounds for a slot, in place (pushed again if it was detached); an endless side (±Infinity) is kept in no heap. */
  rekey(slot: number, lower: number, upper: number): void {
    this.lowers.set(slot, -lower);
    this.uppers.set(slot, upper);
  }

  /** Takes a slot out of both heaps but keeps it its account's (rekey puts it back). */
  detach(slot: number): void {
    this.lowers.remove(slot);
    this.uppers.remove(slot);
  }

  drop(slot: number): void {
    this.detach(slot);
    this.freeSlots.push(slot);
  }
}

/** A copy of `array` twice as long, the new half filled with `fill`. */
function grown<A extends Int32Array<ArrayBuffer> | Uint8Array<ArrayBuffer>>(array: A, fill: number): A {
  const copy = new (array.constructor as new (length: number) => A)(2 * array.length);
  copy.fill(fill);
  copy.set(array);
  return copy;
}

const NONE_CROSSED: readonly string[] = Object.freeze([]);
const NOT_BANDED = -1;
/** The slot of a zero-width band (kept in the instrument's `hot` set, not in its heaps). */
const HOT = -1;

/**
 * Bands as flat columns, reused from one price update to the next (the float
 * screen writes into it; `PriceBands.setFrom` reads a range of it): no `Band`
 * object per band on the hot path.
 */
export class BandScratch {
  count = 0;
  readonly instruments: string[] = [];
  readonly lowers: number[] = [];
  readonly uppers: number[] = [];
  /** Per band, while the screen runs: its position's tier shape and |q|·k. */
  readonly shapes: TierShape[] = [];
  readonly qks: number[] = [];
  /** Per band, while the screen runs: whether its position is short (which side of the band a move only helps). */
  readonly shorts: boolean[] = [];

  push(instrument: string, lower: number, upper: number): void {
    const i = this.count++;
    this.instruments[i] = instrument;
    this.lowers[i] = lower;
    this.uppers[i] = upper;
  }

  /** Bands [from, to) as objects (tests, and the paths that keep them). */
  toBands(from = 0, to = this.count): Band[] {
    const out: Band[] = [];
    for (let i = from; i < to; i++) out.push({ instrument: this.instruments[i]!, lower: this.lowers[i]!, upper: this.uppers[i]! });
    return out;
  }
}

/**
 * Accounts get small integer ids here (their names are kept once); bands
 * live in typed-array heaps per instrument, so a price update that crosses
 * nothing reads two heap tops and allocates nothing. Where an account is
 * banded is kept in typed arrays too (its first band; any further ones in a
 * small list): most accounts of a venue hold one or two positions.
 *
 * A crossed account is *detached*, not unbanded: only the crossed band leaves
 * its heaps; its other bands stay where they are but are inert (a heap top or
 * zero-width band of a detached account is taken out and not reported, as if
 * it had gone with the crossed one). When it is banded again on the same
 * instruments (the usual case: a crossing changes no position), each band is
 * re-keyed in its slot — a sift in each heap instead of removing every band of
 * the account and pushing new ones.
 */
export class PriceBands {
  private readonly instruments = new Map<string, InstrumentBands>();
  private readonly byIndex: InstrumentBands[] = [];
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];
  /** Per account id: the instrument index and slot of its first band (NOT_BANDED: none). */
  private firstInstrument = new Int32Array(64).fill(NOT_BANDED);
  private firstSlot = new Int32Array(64);
  /** Per account id: 1 while it is detached (reported crossed, not banded again yet). */
  private detached = new Uint8Array(64);
  /** Per account id with more than one band: [instrument index, slot, …] of the others. */
  private readonly moreBands = new Map<number, number[]>();
  /** The account ids of the names the last `crossed` returned, in its order (for screenCrossedInto, setFromCrossed). */
  private crossedIds = new Int32Array(16);
  /** Per account id: what the float screen reads of it that only changes with its version (see ScreenMirror). */
  private readonly mirrors: (ScreenMirror | undefined)[] = [];
  /**
   * Accounts whose bands are owed: an input that moves no mark (a trade, a
   * deposit) may leave the accounts it changed to be banded by the next
   * input that reads the bands, which bands them first (handle-input.ts,
   * bandOwed). Until then their old bands stay in the heaps, read by no one.
   * A market maker on the other side of a run of trades is banded once for
   * the run instead of once per trade.
   */
  readonly owed = new Set<string>();

  private bandsOf(instrument: string): InstrumentBands {
    let bands = this.instruments.get(instrument);
    if (!bands) {
      bands = new InstrumentBands(this.byIndex.length, instrument);
      this.instruments.set(instrument, bands);
      this.byIndex.push(bands);
    }
    return bands;
  }

  private idOf(account: string): number {
    let id = this.ids.get(account);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(account, id);
      this.names.push(account);
      if (id >= this.firstInstrument.length) {
        this.firstInstrument = grown(this.firstInstrument, NOT_BANDED);
        this.firstSlot = grown(this.firstSlot, 0);
        this.detached = grown(this.detached, 0);
      }
    }
    return id;
  }

  /**
   * The bands an account is kept under, in the order they were set (for
   * tests): a side no price reaches is ±Infinity; a zero-width band (every
   * move re-checks it) has lower = upper = NaN. Empty when not banded.
   */
  bandsOfAccount(account: string): Band[] {
    const id = this.ids.get(account);
    if (id === undefined || this.firstInstrument[id] === NOT_BANDED) return [];
    const places = [this.firstInstrument[id]!, this.firstSlot[id]!, ...(this.moreBands.get(id) ?? [])];
    const names = [...this.instruments.keys()];
    const out: Band[] = [];
    for (let i = 0; i < places.length; i += 2) {
      const index = this.byIndex[places[i]!]!;
      const slot = places[i + 1]!;
      const instrument = names[index.index]!;
      if (slot === HOT) out.push({ instrument, lower: NaN, upper: NaN });
      else out.push({ instrument, lower: index.lowers.has(slot) ? -index.lowers.keys[slot]! : -Infinity, upper: index.uppers.has(slot) ? index.uppers.keys[slot]! : Infinity });
    }
    return out;
  }

  /** Drops an account's bands (it will be found by nothing until banded again). */
  remove(account: string): void {
    const id = this.ids.get(account);
    if (id !== undefined) this.removeId(id);
  }

  private removeId(id: number): void {
    this.detached[id] = 0;
    const first = this.firstInstrument[id]!;
    if (first === NOT_BANDED) return;
    this.unband(id, first, this.firstSlot[id]!);
    this.firstInstrument[id] = NOT_BANDED;
    const more = this.moreBands.get(id);
    if (more) {
      for (let i = 0; i < more.length; i += 2) this.unband(id, more[i]!, more[i + 1]!);
      this.moreBands.delete(id);
    }
  }

  private unband(id: number, instrument: number, slot: number): void {
    const index = this.byIndex[instrument]!;
    if (slot === HOT) index.hot.delete(id);
    else index.drop(slot);
  }

  set(account: string, bands: readonly Band[]): void {
    const scratch = SET_SCRATCH;
    scratch.count = 0;
    for (const band of bands) scratch.push(band.instrument, band.lower, band.upper);
    this.setFrom(account, scratch, 0, scratch.count);
  }

  /** `set` from the bands [from, to) of a scratch. */
  setFrom(account: string, scratch: BandScratch, from: number, to: number): void {
    this.setIdFrom(this.idOf(account), scratch, from, to);
  }

  /** `setFrom` for the account at index `k` of what the last `crossed` returned (no look-up of its name). */
  setFromCrossed(k: number, scratch: BandScratch, from: number, to: number): void {
    this.setIdFrom(this.crossedIds[k]!, scratch, from, to);
  }

  /**
   * screenBandsInto for the account at index `k` of what the last `crossed`
   * returned (`account` is that account's state), reading its float mirror:
   * rebuilt only when the account's version (or the rules, or the ledger)
   * moved since it was taken, so a crossing of an account whose positions did
   * not change converts only its balance and marks.
   */
  screenCrossedInto(k: number, ledger: LedgerState, rules: Rules, account: Account, out: BandScratch): boolean {
    return this.screenIdInto(this.crossedIds[k]!, ledger, rules, account, out, true);
  }

  /** screenBandsInto through the account's float mirror (see screenCrossedInto), found by its name. */
  screenInto(ledger: LedgerState, rules: Rules, account: Account, out: BandScratch): boolean {
    return this.screenIdInto(this.idOf(account.id), ledger, rules, account, out, true);
  }

  /**
   * screenInto's answer alone, with no bands cut: for a check whose bands are not wanted now (a trade's, which
   * leaves them owed). The same float proof, so the same answer; the bands' cut (a price solved per position:
   * twenty for a market maker on every trade) is what it spares.
   */
  screenPasses(ledger: LedgerState, rules: Rules, account: Account): boolean {
    const scratch = PASS_SCRATCH;
    scratch.count = 0;
    const passed = this.screenIdInto(this.idOf(account.id), ledger, rules, account, scratch, false);
    scratch.count = 0;
    return passed;
  }

  private screenIdInto(id: number, ledger: LedgerState, rules: Rules, account: Account, out: BandScratch, cut: boolean): boolean {
    let mirror = this.mirrors[id];
    if (mirror === undefined) {
      // an account of one position converts it as cheaply as it would check a mirror, and a mirror costs ~1 KB:
      // kept only for accounts of several positions, so a million one-position accounts hold none (B7's memory)
      if (account.positions.size < 2) return screenBandsInto(ledger, rules, account, out, cut);
      this.mirrors[id] = mirror = new ScreenMirror();
    }
    if (mirror.account !== account || mirror.version !== account.version || mirror.rules !== rules || mirror.instruments !== ledger.instruments) mirror.take(ledger, rules, account);
    return screenMirrorInto(mirror, account, rules, out, cut);
  }

  private setIdFrom(id: number, scratch: BandScratch, from: number, to: number): void {
    if (this.rekeyInPlace(id, scratch, from, to)) return;
    this.removeId(id);
    const { instruments, lowers, uppers } = scratch;
    for (let i = from; i < to; i++) {
      const index = this.bandsOf(instruments[i]!);
      let slot = HOT;
      const lower = lowers[i]!;
      const upper = uppers[i]!;
      if (lower < upper) slot = index.add(id, lower, upper);
      else index.hot.add(id);
      if (this.firstInstrument[id] === NOT_BANDED) {
        this.firstInstrument[id] = index.index;
        this.firstSlot[id] = slot;
      } else {
        let more = this.moreBands.get(id);
        if (!more) this.moreBands.set(id, (more = []));
        more.push(index.index, slot);
      }
    }
  }

  /**
   * New bounds for an account banded on the same instruments in the same
   * order, each band keeping its kind (zero-width or not): every slot is
   * re-keyed where it is. False (nothing changed) for any other layout.
   */
  private rekeyInPlace(id: number, scratch: BandScratch, from: number, to: number): boolean {
    const first = this.firstInstrument[id]!;
    if (first === NOT_BANDED || to === from) return false;
    const more = this.moreBands.get(id);
    if ((more?.length ?? 0) !== 2 * (to - from - 1)) return false;
    const { instruments, lowers, uppers } = scratch;
    for (let i = from; i < to; i++) {
      const instrument = i === from ? first : more![2 * (i - from - 1)]!;
      const slot = i === from ? this.firstSlot[id]! : more![2 * (i - from - 1) + 1]!;
      const index = this.byIndex[instrument]!;
      // the same instrument: its bands are the one InstrumentBands of that id (no look-up by name)
      if (index.name !== instruments[i]! || (slot === HOT) !== !(lowers[i]! < uppers[i]!)) return false;
    }
    for (let i = from; i < to; i++) {
      const instrument = i === from ? first : more![2 * (i - from - 1)]!;
      const slot = i === from ? this.firstSlot[id]! : more![2 * (i - from - 1) + 1]!;
      const index = this.byIndex[instrument]!;
      if (slot === HOT) index.hot.add(id);
      else index.rekey(slot, lowers[i]!, uppers[i]!);
    }
    this.detached[id] = 0;
    return true;
  }

  /**
   * The accounts whose band in `instrument` does not contain `mark` (in no
   * particular order). They are detached (found by nothing until banded
   * again): the caller checks them exactly and bands them again.
   */
  crossed(instrument: string, mark: number): readonly string[] {
    const index = this.instruments.get(instrument);
    if (!index) return NONE_CROSSED;
    let out: string[] | undefined;
    const detached = this.detached;
    if (index.hot.size > 0) {
      for (const id of [...index.hot]) {
        index.hot.delete(id);
        if (detached[id] === 1) continue;
        detached[id] = 1;
        out = this.report(out, id);
      }
    }
    const { lowers, uppers } = index;
    for (let slot = lowers.top(); slot >= 0 && mark < -lowers.keys[slot]!; slot = lowers.top()) {
      const id = index.accountOf(slot);
      index.detach(slot);
      if (detached[id] === 1) continue;
      detached[id] = 1;
      out = this.report(out, id);
    }
    for (let slot = uppers.top(); slot >= 0 && mark > uppers.keys[slot]!; slot = uppers.top()) {
      const id = index.accountOf(slot);
      index.detach(slot);
      if (detached[id] === 1) continue;
      detached[id] = 1;
      out = this.report(out, id);
    }
    return out ?? NONE_CROSSED;
  }

  /** Appends account `id` to `crossed`'s answer (and its id to crossedIds, at the same index). */
  private report(out: string[] | undefined, id: number): string[] {
    out ??= [];
    const k = out.length;
    if (k >= this.crossedIds.length) this.crossedIds = grown(this.crossedIds, 0);
    this.crossedIds[k] = id;
    out.push(this.names[id]!);
    return out;
  }
}

/** The scratch `set` copies its bands into. */
const SET_SCRATCH = new BandScratch();

/**
 * A tier table as floats for banding: each tier's notional bracket and
 * maintenance rate, and whether MM is continuous at each edge (checked
 * exactly: E·r − a is the same on both sides of the edge E). Where it is, MM
 * stays a continuous piecewise-linear function of the mark across the edge
 * with slope at most |q|·k·max(rate), so a band can span the edge at the
 * larger rate instead of stopping at it.
 */
interface TierShape {
  /** Notional upper edge of each tier but the last (Infinity for an unbounded one). */
  edges: number[];
  rates: number[];
  /** Each tier's maintenance amount (subtracted from notional × rate). */
  amounts: number[];
  /** continuousAt[i]: MM is continuous at edges[i] (between tier i and tier i + 1). */
  continuousAt: boolean[];
  /** The largest maintenance rate of the table (0 for none). */
  maxRate: number;
  /** The largest initial rate of the table (0 for none): a called unit's cure at IM moves by it. */
  maxInitialRate: number;
}

const tierShapes = new WeakMap<readonly Tier[], TierShape>();

function tierShape(tiers: readonly Tier[]): TierShape {
  let shape = tierShapes.get(tiers);
  if (!shape) {
    shape = { edges: [], rates: [], amounts: [], continuousAt: [], maxRate: 0, maxInitialRate: 0 };
    for (let i = 0; i < tiers.length; i++) {
      const tier = tiers[i]!;
      shape.rates.push(toNumber(tier.maintenanceRate));
      shape.amounts.push(toNumber(tier.maintenanceAmount));
      shape.maxRate = Math.max(shape.maxRate, toNumber(tier.maintenanceRate));
      shape.maxInitialRate = Math.max(shape.maxInitialRate, toNumber(tier.initialRate));
      if (i === tiers.length - 1) break;
      if (tier.upToNotional === undefined) {
        // an unbounded tier: the ones after it are never reached
        break;
      }
      const edge = tier.upToNotional;
      const next = tiers[i + 1]!;
      shape.edges.push(toNumber(edge));
      shape.continuousAt.push(edge * tier.maintenanceRate - tier.maintenanceAmount * SCALE === edge * next.maintenanceRate - next.maintenanceAmount * SCALE);
    }
    tierShapes.set(tiers, shape);
  }
  return shape;
}

/** An edge in notional terms as a mark bound, pulled inward a little: a notional on an edge belongs to the tier below, and is rounded. */
const upperBound = (edge: number, qk: number): number => (edge * (1 - 1e-9) - 1e-6) / qk;
const lowerBound = (edge: number, qk: number): number => (edge * (1 + 1e-9) + 1e-6) / qk;

/**
 * How far a position's mark can move up (or down) from `mark` with `budget`
 * of slack: |q|·k·(1 + c·r)·δ ≤ budget, r the largest maintenance rate (plus
 * `extraRate`) of the tiers the move spans. The move stops at the first edge
 * where MM is not continuous. On the side where a move only raises the
 * unit's slack (up for a long, down for a short: see harmlessEnd) the band
 * needs no budget and reaches that edge, or has no end.
 */
function reach(shape: TierShape, mark: number, qk: number, budget: number, callBelow: number, extraRate: number, direction: 1 | -1, short: boolean): number {
  if (direction === (short ? -1 : 1)) {
    const end = harmlessEnd(shape, mark, qk, callBelow, extraRate, direction);
    if (end !== undefined) return end;
  }
  const notional = qk * mark;
  let tier = 0;
  while (tier < shape.edges.length && notional > shape.edges[tier]!) tier++;
  let rate = (shape.rates[tier] ?? 0) + extraRate;
  for (;;) {
    const target = mark + (direction * budget) / (qk * (1 + callBelow * rate));
    if (direction === 1) {
      if (tier >= shape.edges.length) return target;
      const bound = upperBound(shape.edges[tier]!, qk);
      if (target <= bound) return target;
      if (!shape.continuousAt[tier]) return bound;
      tier++;
    } else {
      if (tier === 0) return Math.max(target, lowerBound(0, qk));
      const bound = lowerBound(shape.edges[tier - 1]!, qk);
      if (target >= bound) return target;
      if (!shape.continuousAt[tier - 1]) return bound;
      tier--;
    }
    rate = Math.max(rate, shape.rates[tier]! + extraRate);
  }
}

/**
 * The end of a position's band on its harmless side, where a move of the mark
 * only raises the unit's slack S = equity − c·MM, so no mark there can bring
 * the unit to its call level while its other marks stay in their bands
 * (which share the whole budget between them). Within a tier of rate r:
 * - a short's S falls by |q|·k·(1 + c·r) per unit of mark: a fall of the mark
 *   raises it, at any rate;
 * - a long's S rises by |q|·k·(1 − c·r) per unit of mark: a rise raises it
 *   while c·r < 1 (an add-on's rate in `extraRate` counted).
 * The side runs through every edge where MM is continuous (S stays one
 * piecewise-linear function of the mark, rising on each piece) and stops at
 * the first edge where MM jumps (pulled inward, as `reach` does); with no
 * such edge it has no end (±Infinity). Undefined: a tier on the way where a
 * long's S does not rise (c·r ≥ 1), so the side needs its budget (`reach`).
 * The rounding of the exact risk does not grow with the mark (errorAllowance
 * counts units per position), so nothing more comes off.
 */
function harmlessEnd(shape: TierShape, mark: number, qk: number, callBelow: number, extraRate: number, direction: 1 | -1): number | undefined {
  const notional = qk * mark;
  let tier = 0;
  while (tier < shape.edges.length && notional > shape.edges[tier]!) tier++;
  if (direction === -1) {
    for (; tier > 0; tier--) if (!shape.continuousAt[tier - 1]) return lowerBound(shape.edges[tier - 1]!, qk);
    return -Infinity;
  }
  for (; ; tier++) {
    if (!(callBelow * ((shape.rates[tier] ?? 0) + extraRate) < 1 - 1e-9)) return undefined;
    if (tier >= shape.edges.length) return Infinity;
    if (!shape.continuousAt[tier]) return upperBound(shape.edges[tier]!, qk);
  }
}

/**
 * Bands of one account from its exact risk now. `calledKeys`: the unit keys of
 * its open margin calls (undefined: none). A unit with no slack gets
 * zero-width bands (every move of its marks re-checks it). A called unit's
 * bands keep it between the two levels where the saga decides something about
 * it (pushCalledUnitBands): its liquidation below, its cure above. An uncalled
 * unit of an account with a call open elsewhere gets zero-width bands.
 */
export function bandsFor(ledger: LedgerState, rules: Rules, account: Account, calledKeys?: ReadonlySet<string>): Band[] {
  const bands: Band[] = [];
  const callBelow = toNumber(rules.marginCall.callBelow);
  for (const unit of unitsOf(account)) {
    const positions = unitPositions(account, unit).filter((p) => p.qty !== 0n);
    if (positions.length === 0) continue;
    if (calledKeys !== undefined) {
      if (calledKeys.has(unitKey(unit))) pushCalledUnitBands(ledger, rules, positions, computeRisk(ledger, rules, account, unit), bands, account.id);
      else pushUnitBands(ledger, rules, positions, 0, callBelow, bands, account.id);
      continue;
    }
    const risk = computeRisk(ledger, rules, account, unit);
    // the level that triggers a decision for a healthy unit: callBelow × MM
    const slack = toNumber(risk.equity - callLevelOf(risk, rules.marginCall.callBelow));
    pushUnitBands(ledger, rules, positions, slack, callBelow, bands, account.id);
  }
  return bands;
}

/**
 * The bands of a unit under an open margin call. Every check of such a unit
 * (margin-saga checkMarginUnit) either liquidates it — equity below
 * `immediateBelow` × MM, or below MM with no grace period — or finds its call
 * met — equity at its cure level, max(IM or MM by `cureAt`, callBelow × MM) —
 * or decides nothing. So its marks may move freely while neither level can be
 * reached:
 * - below, the slack above the liquidation level is shared out as an uncalled
 *   unit's is above its call level (pushUnitBands with that fraction);
 * - above, the room U = cure level − equity: a move of δ in either direction
 *   changes equity by |q|·k·δ and the cure level by at most |q|·k·δ·(rIM +
 *   callBelow·rMM + the add-on's rate), so each position, given U ÷ n, stays
 *   within U ÷ (n·|q|·k·(1 + those rates)) of its mark on both sides
 *   (conservatively: only its favourable side brings equity up), and within
 *   its tier, since IM may jump at an edge where MM does not.
 * Without this a called unit had zero-width bands, and every move of its marks
 * re-checked it exactly for as long as its grace period ran: under a
 * clearing house's hour of grace, a crash's thousands of called accounts were
 * each checked at every tick. A size-scaled MM (venueMargin) keeps zero width.
 */
function pushCalledUnitBands(ledger: LedgerState, rules: Rules, positions: readonly Position[], risk: Risk, bands: Band[], account: string): void {
  const { graceSeconds, callBelow, cureAt } = rules.marginCall;
  const { immediateBelow } = rules.liquidation;
  const start = bands.length;
  // liquidated at once below this fraction of MM: immediateBelow, and at least MM itself with no grace period
  const liquidationFraction = graceSeconds === 0 && immediateBelow < SCALE ? SCALE : immediateBelow;
  pushUnitBands(ledger, rules, positions, toNumber(risk.equity - callLevelOf(risk, liquidationFraction)), toNumber(liquidationFraction), bands, account);
  const base = cureAt === 'initial' ? risk.initialMargin : risk.maintenanceMargin;
  const callLevel = callLevelOf(risk, callBelow);
  const room = toNumber((base > callLevel ? base : callLevel) - risk.equity);
  const c = toNumber(callBelow);
  let units = 1;
  let floatError = 0;
  const shapes = positions.map((position) => tierShape(instrumentRules(rules, position.instrument)?.tiers ?? []));
  const slopes = positions.map((position, i) => {
    const concentration = rules.concentration[underlyingOf(ledger.instruments.get(position.instrument)!)];
    return shapes[i]!.maxInitialRate + c * shapes[i]!.maxRate + (concentration ? toNumber(concentration.rate) : 0);
  });
  for (const [i, position] of positions.entries()) {
    const instrument = ledger.instruments.get(position.instrument)!;
    const rate = slopes[i]!;
    // the cure level's rounding (IM, MM, the add-on, callBelow × MM: each rounded) and the equity's, in ledger units
    units += 3 + 2 * (1 + rate);
    floatError += Math.abs(toNumber(position.qty) * toNumber(instrument.multiplier) * toNumber(instrument.mark as Fixed)) * (1 + rate);
  }
  const budget = (room * 0.999 - 2 * units * UNIT - 1e-13 * floatError) / positions.length;
  positions.forEach((position, i) => {
    const band = bands[start + i]!;
    const instrument = ledger.instruments.get(position.instrument)!;
    const mark = toNumber(instrument.mark as Fixed);
    if (!(budget > 0) || rules.venueMargin !== undefined || band.lower === band.upper) {
      band.lower = band.upper = mark;
      return;
    }
    const qk = Math.abs(toNumber(position.qty)) * toNumber(instrument.multiplier);
    const reachOf = budget / (qk * (1 + slopes[i]!));
    const shape = shapes[i]!;
    let tier = 0;
    while (tier < shape.edges.length && qk * mark > shape.edges[tier]!) tier++;
    const tierTop = tier < shape.edges.length ? upperBound(shape.edges[tier]!, qk) : Infinity;
    const tierBottom = tier > 0 ? lowerBound(shape.edges[tier - 1]!, qk) : -Infinity;
    band.lower = Math.max(band.lower, mark - reachOf, tierBottom);
    band.upper = Math.min(band.upper, mark + reachOf, tierTop);
    if (!(band.lower <= mark && mark <= band.upper)) band.lower = band.upper = mark;
  });
}

/**
 * The float screen: when floats alone prove that every margin unit of the
 * account is above its call level (so a margin check of it, with no call
 * open, decides nothing), its bands from that proof; otherwise undefined and
 * the exact bigint check must run. Most band crossings are of accounts far
 * from their call level, and this spares them the exact risk twice (the
 * saga's check and the re-banding).
 *
 * The proof: `floatSlackLowerBound` is below the exact slack (equity − call
 * level) of each unit; bands are then cut from that lower bound exactly as
 * `bandsFor` cuts them from the exact slack, so they are never wider.
 * Accounts holding non-cash collateral, options or positions under a
 * concentration add-on are left to the exact check.
 */
export function floatBandsFor(ledger: LedgerState, rules: Rules, account: Account): Band[] | undefined {
  const scratch = new BandScratch();
  return screenBandsInto(ledger, rules, account, scratch) ? scratch.toBands() : undefined;
}

/**
 * floatBandsFor into `out` (appended after its `count` bands): true with the
 * account's bands appended, or false with `out` as it was (check exactly).
 */
export function screenBandsInto(ledger: LedgerState, rules: Rules, account: Account, out: BandScratch, cut = true): boolean {
  const mirror = SCRATCH_MIRROR;
  mirror.take(ledger, rules, account);
  const screened = screenMirrorInto(mirror, account, rules, out, cut);
  mirror.clear();
  return screened;
}

/**
 * What the float screen reads of an account that changes only with its
 * version (a position's quantity, cost or existence bumps it; the rules and
 * the instruments it reads are compared by identity): per open position, in
 * the order the account holds them, its instrument, |q|·k and sign, cost and
 * tier shape, converted once. Balances (cash, isolated margin), collateral
 * and marks change without a version bump and are read at each screen.
 * `screenable` false: a position the screen always declines (an option, a
 * concentration add-on, a size-scaled MM, no tiers, an unlisted instrument).
 *
 * The floats are computed by the same operations, in the same order, as when
 * they were converted at each screen, so a screen from a mirror gives the same
 * bound bit for bit: a cache, not a second model.
 */
class ScreenMirror {
  account: Account | undefined = undefined;
  version = -1;
  rules: Rules | undefined = undefined;
  instruments: LedgerState['instruments'] | undefined = undefined;
  screenable = false;
  count = 0;
  readonly positions: Position[] = [];
  readonly instrumentOf: Instrument[] = [];
  readonly qks: number[] = [];
  readonly negative: boolean[] = [];
  readonly costs: number[] = [];
  readonly shapes: TierShape[] = [];
  /** The quantity and cost each entry was converted from (a position's are changed in place by its fills). */
  readonly qtysTaken: Fixed[] = [];
  readonly costsTaken: Fixed[] = [];
  /**
   * Kept only for an account of many positions (KEPT_TERMS_POSITIONS), whose screens come at the same marks (a
   * market maker's, trade after trade): each entry's terms of screenUnit's sums (TERMS of them, from `TERMS * p`),
   * computed at the mark in `termsMark` (and the rules' callBelow: under other rules every entry is converted again,
   * which forgets its terms). A screen at the same marks adds them up instead of converting each mark again.
   * Computed by screenUnit's own operations (takeTerms) and added in the same order, so the bound is the same bit
   * for bit. Another account's screens come when one of its few marks moved: its terms are computed at each screen
   * into a scratch, and it keeps no array and no mark alive for them: both are undefined.
   */
  terms: Float64Array | undefined = undefined;
  termsMark: (Fixed | undefined)[] | undefined = undefined;

  /**
   * Converts what the screen reads of `account`'s open positions now. When it
   * re-takes the same account under the same rules and instruments (its
   * version moved: a fill), an entry whose position is the same object at the
   * same place with the same quantity and cost is kept as it is: a trade
   * re-converts one position of the market maker's twenty, not all of them.
   */
  take(ledger: LedgerState, rules: Rules, account: Account): void {
    const kept = this.account === account && this.rules === rules && this.instruments === ledger.instruments && this.screenable ? this.count : 0;
    this.account = account;
    this.version = account.version;
    this.rules = rules;
    this.instruments = ledger.instruments;
    const open = OPEN_POSITIONS;
    open.length = 0;
    account.positions.pushValuesInto(open);
    this.takePositions(ledger, rules, open, kept);
    open.length = 0;
  }

  /**
   * `take`'s conversion of `open` (positions of zero quantity are skipped);
   * the first `kept` entries were converted under the same rules and
   * instruments, and one still holding its position's quantity and cost is
   * not converted again (the same floats).
   */
  takePositions(ledger: LedgerState, rules: Rules, open: readonly Position[], kept = 0): void {
    this.screenable = false;
    this.count = 0;
    for (let p = 0; p < open.length; p++) {
      const position = open[p]!;
      if (position.qty === 0n) continue;
      const at = this.count;
      if (at < kept && this.positions[at] === position && this.qtysTaken[at] === position.qty && this.costsTaken[at] === position.cost) {
        this.count++;
        continue;
      }
      const instrument = ledger.instruments.get(position.instrument);
      if (!instrument || instrument.premiumStyle || rules.concentration[underlyingOf(instrument)]) return this.decline();
      // an inverse position's value and MM are not lines in the mark: the exact check decides
      if (instrument.inverse) return this.decline();
      // a size-scaled MM (venueMargin) is not the tier's line: the exact check decides
      if (rules.venueMargin && venueScalesMaintenance(rules, position.instrument)) return this.decline();
      const tiers = instrumentRules(rules, position.instrument)?.tiers;
      if (!tiers || tiers.length === 0) return this.decline();
      const qty = toNumber(position.qty);
      const i = this.count++;
      this.positions[i] = position;
      this.instrumentOf[i] = instrument;
      this.qks[i] = Math.abs(qty) * toNumber(instrument.multiplier);
      this.negative[i] = qty < 0;
      this.costs[i] = toNumber(position.cost);
      this.shapes[i] = tierShape(tiers);
      this.qtysTaken[i] = position.qty;
      this.costsTaken[i] = position.cost;
      if (this.termsMark !== undefined) this.termsMark[i] = undefined;
    }
    if (this.count < KEPT_TERMS_POSITIONS) {
      this.terms = this.termsMark = undefined;
    } else if (this.terms === undefined || this.terms.length < TERMS * this.count) {
      this.terms = new Float64Array(TERMS * Math.max(this.count, (2 * (this.terms?.length ?? 0)) / TERMS));
      this.termsMark = [];
    }
    this.screenable = true;
  }

  private decline(): void {
    this.count = 0;
  }

  /** Forgets the account (a scratch mirror keeps no state alive between screens). */
  clear(): void {
    this.account = undefined;
    this.rules = undefined;
    this.instruments = undefined;
    this.positions.length = this.instrumentOf.length = this.shapes.length = 0;
    this.terms = this.termsMark = undefined;
    this.count = 0;
  }
}

/** The mirror screenBandsInto and floatSlackLowerBound take afresh at each call. */
const SCRATCH_MIRROR = new ScreenMirror();

/**
 * screenBandsInto from `account`'s mirror (taken from it, and current). `cut` false: the answer alone (nothing is
 * appended to `out`).
 */
function screenMirrorInto(mirror: ScreenMirror, account: Account, rules: Rules, out: BandScratch, cut = true): boolean {
  if (account.collateral.size > 0 || !mirror.screenable) return false;
  const callBelow = toNumber(rules.marginCall.callBelow);
  const from = out.count;
  // the answer alone: no marks appended for bands no one cuts
  const sink = cut ? out : undefined;
  if (account.isolated) {
    // each open position is a unit of its own, drawing on its isolated margin
    for (let p = 0; p < mirror.count; p++) {
      const unitFrom = out.count;
      if (!(screenUnit(mirror, p, p + 1, mirror.positions[p]!.isolatedMargin, callBelow, sink) > 0)) {
        out.count = from;
        return false;
      }
      if (cut) cutScreenedBands(out, unitFrom, callBelow);
    }
    return true;
  }
  if (mirror.count === 0) return true;
  if (!(screenUnit(mirror, 0, mirror.count, account.cash, callBelow, sink) > 0)) {
    out.count = from;
    return false;
  }
  if (cut) cutScreenedBands(out, from, callBelow);
  return true;
}

/** PriceBands.screenPasses's scratch (its marks are dropped at once). */
const PASS_SCRATCH = new BandScratch();

const OPEN_POSITIONS: Position[] = [];

/** 2^-52: twice the largest relative rounding error of one float64 operation. */
const EPSILON = Number.EPSILON;

/**
 * A float lower bound of a unit's exact slack, equity − ⌈c·ΣMM⌉ (in units of
 * 1, as `toNumber` gives amounts), or −Infinity where floats cannot bound it
 * (a notional too close to a tier edge to tell the tier, an option, a
 * concentration add-on, no tiers or no mark).
 *
 * The unrounded slack B + Σ(q·m·k − cost) − c·Σ max(0, N·r − a) is computed
 * in float64 with N = |q·m·k|. Two error terms come off it:
 * - the float error: every operand is a bigint converted (Number, then ÷10^8:
 *   two roundings), each product and sum adds one rounding of relative size
 *   2^-53; with n positions the computed value is within
 *   (n + 16)·2^-52·M of the unrounded slack, M the sum of the magnitudes of
 *   every term (|B|, |q·m·k|, |cost|, c·(N·r + a)); (n + 32)·2^-52·M is taken;
 * - the exact risk's rounding, in ledger units: each value rounds down
 *   (< 1 per position), each notional up (< 1, so MM is off by < r + 1), the
 *   call level up (< 1 + c·Σ(r + 1)): E < 1 + Σ(1 + c·(2 + r)), as in
 *   `errorAllowance`.
 * Max(0, ·) is 1-Lipschitz, so it adds no error. A notional within 10^-9
 * (relative) and 10^-6 of an edge is not trusted to pick the exact tier.
 *
 * `positions` are the unit's (those of zero quantity are skipped).
 */
export function floatSlackLowerBound(ledger: LedgerState, rules: Rules, positions: readonly Position[], balance: Fixed, callBelow: number): number {
  const mirror = SCRATCH_MIRROR;
  mirror.takePositions(ledger, rules, positions);
  const bound = mirror.screenable ? screenUnit(mirror, 0, mirror.count, balance, callBelow, undefined) : -Infinity;
  mirror.clear();
  return bound > 0 ? bound : -Infinity;
}

/**
 * What screenUnit last computed, for cutScreenedBands: [0] floatSlackLowerBound of the unit it last passed,
 * [1] its errorAllowance (no concentration add-on: the screen declines those). A Float64Array, not two `let`s:
 * a double stored in a module variable is a new heap number per store.
 */
const SCREENED = new Float64Array(2);

/**
 * floatSlackLowerBound of the unit made of the mirror's positions [from, to),
 * with what banding needs, in one pass: their instrument, mark (in `lowers`),
 * |q|·k and tier shape are appended to `out`, to be cut into bands by
 * cutScreenedBands. Answers the bound; anything but a positive bound means
 * "check exactly", and then `out` holds garbage past its former count (the
 * caller resets it).
 */
function screenUnit(mirror: ScreenMirror, from: number, to: number, balance: Fixed, callBelow: number, out: BandScratch | undefined): number {
  let slack = toNumber(balance);
  let magnitude = Math.abs(slack);
  let maintenance = 0;
  let maintenanceMagnitude = 0;
  let roundingUnits = 1;
  // errorAllowance's two sums, as it computes them (largest rate of each table)
  let allowanceUnits = 1;
  let allowanceFloat = 0;
  let n = 0;
  const { positions, instrumentOf, qks, negative, shapes, termsMark } = mirror;
  // kept terms (an account of many positions), or each position's computed into the scratch
  const kept = mirror.terms;
  const terms = kept ?? SCRATCH_TERMS;
  for (let p = from; p < to; p++) {
    const markFixed = instrumentOf[p]!.mark;
    if (markFixed === undefined) return -Infinity;
    let at = 0;
    if (kept !== undefined) {
      at = TERMS * p;
      if (termsMark![p] !== markFixed) {
        takeTerms(mirror, p, markFixed, callBelow, terms, at);
        termsMark![p] = markFixed;
      }
    } else takeTerms(mirror, p, markFixed, callBelow, terms, 0);
    if (terms[at + TERM_NEAR_EDGE] !== 0) return -Infinity;
    slack += terms[at + TERM_VALUE]!;
    magnitude += terms[at + TERM_MAGNITUDE]!;
    const mm = terms[at + TERM_MAINTENANCE]!;
    if (mm > 0) maintenance += mm;
    maintenanceMagnitude += terms[at + TERM_MAINTENANCE_MAGNITUDE]!;
    roundingUnits += terms[at + TERM_ROUNDING]!;
    allowanceUnits += terms[at + TERM_ALLOWANCE_UNITS]!;
    allowanceFloat += terms[at + TERM_ALLOWANCE_FLOAT]!;
    if (out !== undefined) {
      const mark = terms[at + TERM_MARK]!;
      const i = out.count;
      out.push(positions[p]!.instrument, mark, mark);
      out.qks[i] = qks[p]!;
      out.shapes[i] = shapes[p]!;
      out.shorts[i] = negative[p]!;
    }
    n++;
  }
  slack -= callBelow * maintenance;
  magnitude += callBelow * maintenanceMagnitude;
  const lowerBound = slack - (n + 32) * EPSILON * magnitude - roundingUnits * UNIT;
  SCREENED[0] = lowerBound;
  SCREENED[1] = 2 * allowanceUnits * UNIT + 1e-13 * allowanceFloat;
  return lowerBound;
}

/** Where each of a position's terms sits among its TERMS (ScreenMirror.terms, takeTerms). */
const TERM_MARK = 0;
/** value − cost */
const TERM_VALUE = 1;
/** notional + |cost| */
const TERM_MAGNITUDE = 2;
/** notional · rate − amount: the MM before max(0, ·) */
const TERM_MAINTENANCE = 3;
/** notional · rate + |amount| */
const TERM_MAINTENANCE_MAGNITUDE = 4;
/** 1 + c·(2 + rate) */
const TERM_ROUNDING = 5;
/** 1 + c·(2 + max rate) */
const TERM_ALLOWANCE_UNITS = 6;
/** notional · (1 + c · max rate) */
const TERM_ALLOWANCE_FLOAT = 7;
/** 1 when the notional is too close to a tier edge to tell the tier from floats (the screen declines), else 0 */
const TERM_NEAR_EDGE = 8;
const TERMS = 9;

/** The terms of a position whose mirror keeps none, computed at each screen. */
const SCRATCH_TERMS = new Float64Array(TERMS);

/** screenUnit's terms of the mirror's entry `p` at the mark `markFixed`, into `terms` from `at`. */
function takeTerms(mirror: ScreenMirror, p: number, markFixed: Fixed, callBelow: number, terms: Float64Array, at: number): void {
  const shape = mirror.shapes[p]!;
  const mark = toNumber(markFixed);
  const qk = mirror.qks[p]!;
  const value = mirror.negative[p] ? -(qk * mark) : qk * mark;
  const cost = mirror.costs[p]!;
  const notional = qk * mark;
  const { edges } = shape;
  let tier = 0;
  while (tier < edges.length && notional > edges[tier]!) tier++;
  const nearEdge = (tier < edges.length && notional >= edges[tier]! * (1 - 1e-9) - 1e-6) || (tier > 0 && notional <= edges[tier - 1]! * (1 + 1e-9) + 1e-6);
  const rate = shape.rates[tier]!;
  const amount = shape.amounts[tier]!;
  terms[at + TERM_MARK] = mark;
  terms[at + TERM_VALUE] = value - cost;
  terms[at + TERM_MAGNITUDE] = notional + Math.abs(cost);
  terms[at + TERM_MAINTENANCE] = notional * rate - amount;
  terms[at + TERM_MAINTENANCE_MAGNITUDE] = notional * rate + Math.abs(amount);
  terms[at + TERM_ROUNDING] = 1 + callBelow * (2 + rate);
  terms[at + TERM_ALLOWANCE_UNITS] = 1 + callBelow * (2 + shape.maxRate);
  terms[at + TERM_ALLOWANCE_FLOAT] = notional * (1 + callBelow * shape.maxRate);
  terms[at + TERM_NEAR_EDGE] = nearEdge ? 1 : 0;
}

/** The positions from which an account's screen terms are kept (ScreenMirror.terms). */
const KEPT_TERMS_POSITIONS = 8;

/**
 * The bands of the unit screenUnit just appended to `out` from `from` (its
 * marks in `lowers` and `uppers`), cut in place as pushUnitBands cuts them:
 * slack × 0.999 − allowance shared equally, no add-on.
 */
function cutScreenedBands(out: BandScratch, from: number, callBelow: number): void {
  const { lowers, uppers, qks, shapes, shorts } = out;
  const n = out.count - from;
  const slack = SCREENED[0]! * 0.999 - SCREENED[1]!;
  if (slack <= 0) return; // zero-width: lower = upper = mark already
  const budget = slack / n;
  for (let i = from; i < out.count; i++) {
    const mark = lowers[i]!;
    lowers[i] = reach(shapes[i]!, mark, qks[i]!, budget, callBelow, 0, -1, shorts[i]!);
    uppers[i] = reach(shapes[i]!, mark, qks[i]!, budget, callBelow, 0, 1, shorts[i]!);
  }
}

/**
 * The MM slope of each position under size scaling (venueMargin), undefined for
 * the others; null when one of them is not one line in the mark (the unit then
 * gets zero-width bands: every move of its marks is checked exactly).
 */
function venueSlopes(ledger: LedgerState, rules: Rules, positions: readonly Position[], account: string): (number | undefined)[] | null {
  const slopes: (number | undefined)[] = [];
  for (const position of positions) {
    if (!venueScalesMaintenance(rules, position.instrument)) {
      slopes.push(undefined);
      continue;
    }
    const slope = venueMaintenanceSlope(rules, account, ledger.instruments.get(position.instrument)!, position.qty, instrumentRules(rules, position.instrument)?.tiers ?? []);
    if (slope === undefined) return null;
    slopes.push(slope);
  }
  return slopes;
}

/** Bands of one unit's positions from its slack (≤ 0: zero-width), shared equally among them. */
function pushUnitBands(ledger: LedgerState, rules: Rules, positions: readonly Position[], unitSlack: number, callBelow: number, bands: Band[], account: string): void {
  // a size-scaled MM (venueMargin) is a line of its own slope for a fixed size: the bands take that slope
  const slopes = rules.venueMargin === undefined ? undefined : venueSlopes(ledger, rules, positions, account);
  const slack = unitSlack <= 0 || slopes === null ? 0 : unitSlack * 0.999 - errorAllowance(ledger, rules, positions, callBelow, slopes);
  positions.forEach((position, i) => {
    const instrument = ledger.instruments.get(position.instrument)!;
    const mark = toNumber(instrument.mark as Fixed);
    // an inverse position (value −q·k/m, MM r·|q|·k/m) is not linear in its mark: zero width, every move checks exactly
    if (slack <= 0 || instrument.inverse) {
      bands.push({ instrument: position.instrument, lower: mark, upper: mark });
      return;
    }
    const qk = Math.abs(toNumber(position.qty)) * toNumber(instrument.multiplier);
    const shape = tierShape(instrumentRules(rules, position.instrument)?.tiers ?? []);
    // a concentration add-on adds its rate to the slope above its threshold, and the threshold is an edge;
    // a size-scaled MM (one tier) is steeper than the tier's rate by the venue's premium
    const concentration = rules.concentration[underlyingOf(instrument)];
    const venueSlope = slopes?.[i];
    const extraRate = (concentration ? toNumber(concentration.rate) : 0) + (venueSlope === undefined ? 0 : Math.max(0, venueSlope - shape.rates[0]!));
    // equity − c·MM moves by at most |q|·k·(1 + c·rate)·δ while the mark stays in tiers of at most that rate
    const budget = slack / positions.length;
    const short = position.qty < 0n;
    let low = reach(shape, mark, qk, budget, callBelow, extraRate, -1, short);
    let high = reach(shape, mark, qk, budget, callBelow, extraRate, 1, short);
    if (concentration) {
      const edge = toNumber(concentration.threshold) / qk;
      if (mark <= edge) high = Math.min(high, edge * (1 - 1e-9));
      else low = Math.max(low, edge * (1 + 1e-9));
    }
    bands.push({ instrument: position.instrument, lower: low, upper: high });
  });
}

/** One ledger unit (10^-8) as a float. */
const UNIT = toNumber(1n as Fixed);

/**
 * What comes off the exact slack before it is shared out: the rounding of
 * the exact risk and the error of the float arithmetic.
 *
 * Rounding, in ledger units, of one evaluation (the exact slack is at most
 * the unrounded one, and more than it minus this): each position's value is
 * rounded down (< 1); its notional is rounded up (< 1), so its MM
 * ceil(N·r − a) is off by < r + 1, and a concentration add-on
 * ceil((N − t)·ρ) by < ρ + 1; the call level ceil(c·ΣMM) by < 1 + c·Σ(those).
 * So E < 1 + Σ (1 + c·(2 + r + ρ)) per position, r its largest maintenance
 * rate. A band keeps the unrounded slack above the call level, and the
 * slack at the moved marks is exact minus less than E: taking 2E off the
 * slack at evaluation keeps it above. Float error (marks, δ, band ends) is
 * relative to the notional: 10^-13 of |q|·k·mark·(1 + c·(r + ρ)) per position
 * covers it many times over.
 *
 * This used to be a flat 10^-6 (100 ledger units) per position and one more:
 * accounts left as dust by repeated partial liquidations (positions of a few
 * ledger units, slack of tens of units) then had no slack left, got
 * zero-width bands and were checked exactly on every move of their marks,
 * for ever; on a 10^7-event day hundreds of them slowed the engine tenfold.
 */
function errorAllowance(ledger: LedgerState, rules: Rules, positions: readonly Position[], callBelow: number, venueSlopes?: readonly (number | undefined)[]): number {
  let units = 1;
  let floatError = 0;
  for (const [i, position] of positions.entries()) {
    const instrument = ledger.instruments.get(position.instrument)!;
    const concentration = rules.concentration[underlyingOf(instrument)];
    const tierRate = tierShape(instrumentRules(rules, position.instrument)?.tiers ?? []).maxRate;
    // (a size-scaled MM rounds twice at most — Coinbase's ⌈⌈N × IM rate⌉ × ⅔⌉ — within the 2 + rate units below)
    const rate = Math.max(tierRate, venueSlopes?.[i] ?? 0) + (concentration ? toNumber(concentration.rate) : 0);
    units += 1 + callBelow * (2 + rate);
    floatError += Math.abs(toNumber(position.qty) * toNumber(instrument.multiplier) * toNumber(instrument.mark as Fixed)) * (1 + callBelow * rate);
  }
  return 2 * units * UNIT + 1e-13 * floatError;
}

/** A mark as the float64 the bands are kept in. */
export const toMarkNumber = (mark: Fixed): number => toNumber(mark);
