import { toNumber, type Fixed } from '@clearsim/money';
import { instrumentRules, type Rules } from '@clearsim/rules';
import { underlyingOf, type Account, type LedgerState } from '@clearsim/ledger';
import { callLevelOf, computeRisk, unitsOf, unitPositions } from './risk';

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

interface Entry {
  account: string;
  version: number;
  lower: number;
  upper: number;
}

/** A binary heap over entries, ordered by `before`. */
class Heap {
  readonly items: Entry[] = [];
  constructor(private readonly before: (a: Entry, b: Entry) => boolean) {}

  push(entry: Entry): void {
    const items = this.items;
    items.push(entry);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  peek(): Entry | undefined {
    return this.items[0];
  }

  pop(): Entry | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < items.length && this.before(items[l]!, items[best]!)) best = l;
        if (r < items.length && this.before(items[r]!, items[best]!)) best = r;
        if (best === i) break;
        [items[i], items[best]] = [items[best]!, items[i]!];
        i = best;
      }
    }
    return top;
  }

  rebuild(keep: (e: Entry) => boolean): void {
    const live = this.items.filter(keep);
    this.items.length = 0;
    for (const e of live) this.push(e);
  }
}

class InstrumentBands {
  /** Zero-width bands (called units, no slack): every move of the mark re-checks them. */
  readonly hot = new Map<string, number>();
  /** Highest lower bound on top: a falling price pops it first. */
  readonly lowers = new Heap((a, b) => a.lower > b.lower);
  /** Lowest upper bound on top: a rising price pops it first. */
  readonly uppers = new Heap((a, b) => a.upper < b.upper);
  live = 0;
}

export class PriceBands {
  private readonly instruments = new Map<string, InstrumentBands>();
  private readonly versions = new Map<string, number>();
  private readonly bandedIn = new Map<string, string[]>();

  private bandsOf(instrument: string): InstrumentBands {
    let bands = this.instruments.get(instrument);
    if (!bands) {
      bands = new InstrumentBands();
      this.instruments.set(instrument, bands);
    }
    return bands;
  }

  /** Drops an account's bands (it will be found by nothing until banded again). */
  remove(account: string): void {
    this.versions.set(account, (this.versions.get(account) ?? 0) + 1);
    for (const instrument of this.bandedIn.get(account) ?? []) this.bandsOf(instrument).live--;
    this.bandedIn.delete(account);
  }

  set(account: string, bands: Band[]): void {
    this.remove(account);
    const version = this.versions.get(account)!;
    for (const band of bands) {
      const index = this.bandsOf(band.instrument);
      if (band.lower >= band.upper) {
        index.hot.set(account, version);
        continue;
      }
      const entry: Entry = { account, version, lower: band.lower, upper: band.upper };
      index.lowers.push(entry);
      index.uppers.push(entry);
      index.live++;
      // stale entries are skipped lazily; compact when they dominate
      if (index.lowers.items.length > 64 && index.lowers.items.length > 4 * index.live) {
        const valid = (e: Entry) => this.versions.get(e.account) === e.version;
        index.lowers.rebuild(valid);
        index.uppers.rebuild(valid);
      }
    }
    this.bandedIn.set(account, bands.filter((b) => b.lower < b.upper).map((b) => b.instrument));
  }

  /**
   * The accounts whose band in `instrument` does not contain `mark`. Their
   * bands are dropped: the caller checks them exactly and bands them again.
   */
  crossed(instrument: string, mark: number): string[] {
    const index = this.instruments.get(instrument);
    if (!index) return [];
    const out = new Set<string>();
    for (const [account, version] of index.hot) {
      if (this.versions.get(account) === version) out.add(account);
    }
    index.hot.clear();
    const take = (heap: Heap, outside: (e: Entry) => boolean) => {
      for (let top = heap.peek(); top && (this.versions.get(top.account) !== top.version || outside(top)); top = heap.peek()) {
        heap.pop();
        if (this.versions.get(top.account) === top.version) out.add(top.account);
      }
    };
    take(index.lowers, (e) => mark < e.lower);
    take(index.uppers, (e) => mark > e.upper);
    for (const account of out) this.remove(account);
    return [...out];
  }
}

/**
 * The current tier of a position: the price range (in mark terms) over which
 * its notional stays in that tier, and the tier's maintenance rate — within
 * that range MM is linear in the mark with slope |q|·k·rate.
 */
function currentTier(rules: Rules, instrument: string, notional: number, qtyTimesK: number): { low: number; high: number; rate: number } {
  const tiers = instrumentRules(rules, instrument)?.tiers ?? [];
  let lo = 0;
  for (let i = 0; i < tiers.length; i++) {
    const hi = i === tiers.length - 1 || tiers[i]!.upToNotional === undefined ? Infinity : toNumber(tiers[i]!.upToNotional!);
    // pulled inward a little: a notional exactly on an edge belongs to the tier below, and is rounded
    if (notional <= hi) return { low: (lo * (1 + 1e-9) + 1e-6) / qtyTimesK, high: (hi * (1 - 1e-9) - 1e-6) / qtyTimesK, rate: toNumber(tiers[i]!.maintenanceRate) };
    lo = hi;
  }
  return { low: (lo * (1 + 1e-9) + 1e-6) / qtyTimesK, high: Infinity, rate: toNumber(tiers[tiers.length - 1]?.maintenanceRate ?? 0n) };
}

/**
 * Bands of one account from its exact risk now. `called` units and units with
 * no slack get zero-width bands (every move of their marks re-checks them).
 */
export function bandsFor(ledger: LedgerState, rules: Rules, account: Account, called: boolean): Band[] {
  const bands: Band[] = [];
  for (const unit of unitsOf(account)) {
    const positions = unitPositions(account, unit).filter((p) => p.qty !== 0n);
    if (positions.length === 0) continue;
    const risk = computeRisk(ledger, rules, account, unit);
    // one ledger unit of rounding per position and requirement, and float error, come off the slack first
    // the level that triggers a decision for a healthy unit: callBelow × MM
    const callLevel = callLevelOf(risk, rules.marginCall.callBelow);
    const callBelow = toNumber(rules.marginCall.callBelow);
    const slack: number = called ? 0 : toNumber(risk.equity - callLevel) * 0.999 - 1e-6 * (1 + positions.length);
    for (const position of positions) {
      const instrument = ledger.instruments.get(position.instrument)!;
      const mark = toNumber(instrument.mark as Fixed);
      if (slack <= 0) {
        bands.push({ instrument: position.instrument, lower: mark, upper: mark });
        continue;
      }
      const qk = Math.abs(toNumber(position.qty)) * toNumber(instrument.multiplier);
      const tier = currentTier(rules, position.instrument, qk * mark, qk);
      // a concentration add-on adds its rate to the slope above its threshold, and the threshold is an edge
      const concentration = rules.concentration[underlyingOf(instrument)];
      const rate = tier.rate + (concentration ? toNumber(concentration.rate) : 0);
      let low = tier.low;
      let high = tier.high;
      if (concentration) {
        const edge = toNumber(concentration.threshold) / qk;
        if (mark <= edge) high = Math.min(high, edge * (1 - 1e-9));
        else low = Math.max(low, edge * (1 + 1e-9));
      }
      // equity − c·MM moves by at most |q|·k·(1 + c·rate)·δ while the mark stays in the tier
      const delta = slack / positions.length / (qk * (1 + callBelow * rate));
      bands.push({ instrument: position.instrument, lower: Math.max(mark - delta, low), upper: Math.min(mark + delta, high) });
    }
  }
  return bands;
}

/** A mark as the float64 the bands are kept in. */
export const toMarkNumber = (mark: Fixed): number => toNumber(mark);
