import { abs, divRound, SCALE, sign, type Fixed } from '@clearsim/money';
import type { DecisionEvent } from '@clearsim/events';
import { isSystemAccount } from '@clearsim/rules';
import { unrealizedPnl, type Account } from '@clearsim/ledger';
import { computeRisk, unitNetBalance, type MarginUnit } from '@clearsim/margin';
import type { SagaContext } from './saga.context';

/**
 * What the bankruptcies of one input share, so that each costs what it
 * decides rather than a pass over every account (a crash bankrupts thousands
 * of accounts in one tick).
 *
 * Within one input the marks do not move: only the input changes prices, and
 * it is folded in before the saga decides anything. Between two bankruptcies
 * what changes is the accounts the decisions in between named (liquidations,
 * ADL fills, insurance draws, socialized shares). So the index is built once
 * per input, at its first bankruptcy, from the holders of the instruments, and
 * afterwards only the accounts named by decisions since the last bankruptcy
 * are weighed again:
 * - the accounts in profit (the socialization weights), in account-id order,
 *   with their running total;
 * - per instrument and side, the ADL queue of positions in profit ranked by
 *   profit % × effective leverage (as rankAdlCandidates ranks them).
 * The straightforward computations (every account weighed per bankruptcy)
 * stay in bankruptcy.ts: they are what `fastPaths: false` runs, and the
 * properties compare the two.
 */
export class BankruptcyIndex {
  /** Accounts named by a decision since the index last caught up. */
  readonly changed = new Set<string>();
  private winners: ProfitWeights | undefined;
  private readonly queues = new Map<string, AdlQueue>();

  /** The accounts in profit and their PnL, current as of now. */
  profitWeights(ctx: SagaContext): ProfitWeights {
    this.catchUp(ctx);
    return (this.winners ??= ProfitWeights.build(ctx));
  }

  /** The ADL queue of `instrument` on the side opposite to `bankruptQty`, current as of now. */
  adlQueue(ctx: SagaContext, instrument: string, bankruptQty: Fixed): Iterable<AdlCandidate> {
    this.catchUp(ctx);
    const side = -sign(bankruptQty);
    const key = `${side}:${instrument}`;
    let queue = this.queues.get(key);
    if (!queue) this.queues.set(key, (queue = AdlQueue.build(ctx, instrument, side)));
    return queue.ranked;
  }

  /**
   * Marks the accounts a decision names (account, counterparty, fund, the losses and shares of a socialized
   * loss) as changed. A socialized share moves its payer's cost basis, so its PnL.
   */
  note(decision: DecisionEvent): void {
    if (decision.type === 'MarkImpacted') {
      // a forced fill moved a mark (rules `impact`): every weight and rank may change, so start afresh
      this.winners = undefined;
      this.queues.clear();
      this.changed.clear();
      return;
    }
    const named = decision as { account?: string; counterparty?: string; fund?: string; losses?: readonly { account: string }[]; shares?: readonly { account: string }[] };
    if (named.account !== undefined) this.changed.add(named.account);
    if (named.counterparty !== undefined) this.changed.add(named.counterparty);
    if (named.fund !== undefined) this.changed.add(named.fund);
    for (const loss of named.losses ?? []) this.changed.add(loss.account);
    for (const share of named.shares ?? []) this.changed.add(share.account);
  }

  private catchUp(ctx: SagaContext): void {
    if (this.changed.size === 0) return;
    for (const queue of this.queues.values()) queue.update(ctx, this.changed);
    this.winners?.update(ctx, this.changed);
    this.changed.clear();
  }
}

const indexes = new WeakMap<SagaContext, BankruptcyIndex>();

/**
 * The index of the input `ctx` decides. A context lives for one input, so the
 * index goes with it. The first call starts watching `ctx.emit`: every
 * decision folded from then on marks the accounts it names as changed (the
 * only way state moves while the saga decides).
 */
export function bankruptcyIndex(ctx: SagaContext): BankruptcyIndex {
  const known = indexes.get(ctx);
  if (known) return known;
  const index = new BankruptcyIndex();
  const emit = ctx.emit;
  ctx.emit = (decision: DecisionEvent): void => {
    emit.call(ctx, decision);
    index.note(decision);
  };
  indexes.set(ctx, index);
  return index;
}

/** The unrealized PnL of every open position of an account, at the marks: what weighs its share of a socialized loss. */
export function accountPnl(ctx: SagaContext, account: Account): Fixed {
  let pnl = 0n;
  for (const p of account.positions.values()) {
    if (p.qty === 0n) continue;
    const instrument = ctx.ledger.instruments.get(p.instrument)!;
    pnl += unrealizedPnl(p.qty, p.cost, instrument.mark!, instrument.multiplier, instrument.inverse);
  }
  return pnl;
}

/** The binary search every sorted list here uses: the first index whose element is not before `item`. */
function lowerBound<T>(list: readonly T[], item: T, before: (a: T, b: T) => boolean): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(list[mid]!, item)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** An account in profit and its PnL, as of its position version. */
export interface ProfitWeight {
  readonly account: string;
  pnl: Fixed;
  version: number | undefined;
}

/**
 * The non-system accounts whose open positions are in profit at the marks,
 * in account-id order, with their PnL and the running total. An account's
 * PnL moves only with its positions (the marks are fixed for the input), so a
 * named account whose version did not move keeps its weight unweighed.
 */
export class ProfitWeights {
  /** Ascending by account id. */
  readonly inProfit: ProfitWeight[] = [];
  private readonly byAccount = new Map<string, ProfitWeight>();
  total = 0n;

  static build(ctx: SagaContext): ProfitWeights {
    const weights = new ProfitWeights();
    for (const account of ctx.ledger.accounts.values()) {
      if (account.positions.size === 0 || isSystemAccount(ctx.rules, account.id)) continue;
      const pnl = accountPnl(ctx, account);
      if (pnl <= 0n) continue;
      const weight = { account: account.id, pnl, version: account.version };
      weights.inProfit.push(weight);
      weights.byAccount.set(account.id, weight);
      weights.total += pnl;
    }
    weights.inProfit.sort((a, b) => (a.account < b.account ? -1 : 1));
    return weights;
  }

  /** The PnL of an account in profit, else 0. */
  pnlOf(account: string): Fixed {
    return this.byAccount.get(account)?.pnl ?? 0n;
  }

  update(ctx: SagaContext, changed: ReadonlySet<string>): void {
    const gone = new Set<ProfitWeight>();
    const added: ProfitWeight[] = [];
    for (const id of changed) {
      if (isSystemAccount(ctx.rules, id)) continue;
      const account = ctx.ledger.accounts.get(id);
      const held = this.byAccount.get(id);
      if (held && account && held.version === account.version) continue;
      const pnl = account ? accountPnl(ctx, account) : 0n;
      if (held) {
        this.total -= held.pnl;
        if (pnl > 0n) {
          held.pnl = pnl;
          held.version = account!.version;
          this.total += pnl;
        } else {
          this.byAccount.delete(id);
          gone.add(held);
        }
      } else if (pnl > 0n) {
        const weight = { account: id, pnl, version: account!.version };
        this.byAccount.set(id, weight);
        this.total += pnl;
        added.push(weight);
      }
    }
    // a few entries are spliced in place; many (the payers of a loss that took whole gains) in one pass
    if (gone.size + added.length <= SPLICE_LIMIT) {
      for (const weight of gone) this.inProfit.splice(lowerBound(this.inProfit, weight, weightBefore), 1);
      for (const weight of added) this.inProfit.splice(lowerBound(this.inProfit, weight, weightBefore), 0, weight);
      return;
    }
    const kept = this.inProfit.filter((w) => !gone.has(w));
    added.sort((a, b) => (weightBefore(a, b) ? -1 : 1));
    this.inProfit.length = 0;
    let i = 0;
    let j = 0;
    while (i < kept.length || j < added.length) this.inProfit.push(j >= added.length || (i < kept.length && weightBefore(kept[i]!, added[j]!)) ? kept[i++]! : added[j++]!);
  }
}

const weightBefore = (a: ProfitWeight, b: ProfitWeight): boolean => a.account < b.account;

export interface AdlCandidate {
  account: string;
  qty: Fixed;
  /** The rank score as a fraction (adlScore): profit % × effective leverage under the queue, Hyperliquid's sort index under `sort-index`. */
  scoreNumerator: bigint;
  scoreDenominator: bigint;
  /** The position's unrealized PnL at the mark (> 0), its |cost|, its notional, and its margin unit's notional and equity (> 0): what the pro-rata policies weigh. */
  pnl: Fixed;
  cost: Fixed;
  positionNotional: Fixed;
  unitNotional: Fixed;
  equity: Fixed;
}

/**
 * The rank score of an ADL candidate as a fraction, by policy (docs/rules.md "ADL policies"):
 * - queue (and the pro-rata policies, which do not rank): profit % × effective leverage
 *   = (pnl ÷ |cost|) × (unit notional ÷ unit equity);
 * - sort-index (Hyperliquid): (mark ÷ entry) × (position notional ÷ account value); for a short in
 *   profit the price ratio is taken as entry ÷ mark, so that a larger gain ranks first on both sides.
 *   mark ÷ entry = position notional ÷ |cost|, so a long scores notional² ÷ (|cost| × equity) and a
 *   short |cost| ÷ equity.
 */
export function adlScore(policy: string | undefined, c: { qty: Fixed; pnl: Fixed; cost: Fixed; positionNotional: Fixed; unitNotional: Fixed; equity: Fixed }): { scoreNumerator: bigint; scoreDenominator: bigint } {
  if (policy === 'sort-index') {
    return c.qty > 0n ? { scoreNumerator: c.positionNotional * c.positionNotional, scoreDenominator: c.cost * c.equity } : { scoreNumerator: c.cost, scoreDenominator: c.equity };
  }
  return { scoreNumerator: c.pnl * c.unitNotional, scoreDenominator: c.cost * c.equity };
}

/** ADL order: higher profit % × effective leverage first (cross-multiplied, denominators are positive), then account id. */
export function adlOrder(a: AdlCandidate, b: AdlCandidate): number {
  const lhs = a.scoreNumerator * b.scoreDenominator;
  const rhs = b.scoreNumerator * a.scoreDenominator;
  if (lhs !== rhs) return lhs > rhs ? -1 : 1;
  return a.account < b.account ? -1 : a.account > b.account ? 1 : 0;
}

/** An ADL candidate with its score as a float, to order most pairs without multiplying bigints. */
interface RankedCandidate extends AdlCandidate {
  approx: number;
}

/**
 * adlOrder, decided by the float scores where they differ by more than their
 * rounding error (each float is within 4 × 2^-53 of its exact ratio, far
 * inside 10^-9), else exactly: the same order, cheaper to sort by.
 */
function adlBefore(a: RankedCandidate, b: RankedCandidate): boolean {
  if (a.approx > b.approx * (1 + 1e-9)) return true;
  if (b.approx > a.approx * (1 + 1e-9)) return false;
  return adlOrder(a, b) < 0;
}

const byAdlRank = (a: RankedCandidate, b: RankedCandidate): number => (a === b ? 0 : adlBefore(a, b) ? -1 : 1);

/** Entries per chunk of a RankedList (split at twice this). */
const CHUNK = 256;

/**
 * A sorted list kept in chunks of a few hundred entries, so that an insert or
 * a removal moves one chunk and the chunk index rather than the whole list
 * (the accounts at the top of an ADL queue change at every bankruptcy).
 */
export class RankedList<T> {
  private chunks: T[][] = [];

  constructor(
    sorted: readonly T[],
    private readonly before: (a: T, b: T) => boolean,
  ) {
    for (let i = 0; i < sorted.length; i += CHUNK) this.chunks.push(sorted.slice(i, i + CHUNK));
  }

  get size(): number {
    return this.chunks.reduce((n, chunk) => n + chunk.length, 0);
  }

  *[Symbol.iterator](): Iterator<T> {
    for (const chunk of this.chunks) yield* chunk;
  }

  toArray(): T[] {
    return this.chunks.flat();
  }

  /** The chunk `item` belongs in: the first whose last entry is not before it (or the last chunk). */
  private chunkFor(item: T): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = this.chunks[mid]!;
      if (this.before(chunk[chunk.length - 1]!, item)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(item: T): void {
    if (this.chunks.length === 0) {
      this.chunks.push([item]);
      return;
    }
    const c = this.chunkFor(item);
    const chunk = this.chunks[c]!;
    chunk.splice(lowerBound(chunk, item, this.before), 0, item);
    if (chunk.length > 2 * CHUNK) this.chunks.splice(c, 1, chunk.slice(0, CHUNK), chunk.slice(CHUNK));
  }

  /** Removes `item` (the very entry, found by its order); false if it is not in the list. */
  remove(item: T): boolean {
    if (this.chunks.length === 0) return false;
    const c = this.chunkFor(item);
    const chunk = this.chunks[c]!;
    const i = lowerBound(chunk, item, this.before);
    if (chunk[i] !== item) return false;
    chunk.splice(i, 1);
    if (chunk.length === 0) this.chunks.splice(c, 1);
    return true;
  }
}

/**
 * A position at the mark from one product qty × mark × multiplier: its value
 * rounded down (mul3 'floor', as unrealizedPnl and positionEquityValue have
 * it) and its notional |qty| × mark × multiplier rounded up (as notionalValue).
 */
function markedValue(qty: Fixed, mark: Fixed, multiplier: Fixed, inverse = false): { value: Fixed; notional: Fixed } {
  // inverse: the value −qty × face / mark rounded down, the notional |qty| × face / mark rounded up (position-math.ts, tiers.ts)
  if (inverse) return { value: divRound(-qty * multiplier, mark, 'floor'), notional: divRound(abs(qty) * multiplier, mark, 'ceil') };
  const product = qty * mark * multiplier;
  const value = divRound(product, SCALE * SCALE, 'floor');
  // |product| ÷ 10^16 rounded up: −value for a short; value, plus one if inexact, for a long
  const notional = qty < 0n ? -value : value * SCALE * SCALE === product ? value : value + 1n;
  return { value, notional };
}

/**
 * The ADL candidate an account's position is, or undefined: a non-system
 * account holding `instrument` on `side`, the position in profit with a cost,
 * its margin unit at positive equity (the rules of rankAdlCandidates). The
 * unit's equity and notional are computeRisk's (balance + Σ position values;
 * Σ notionals, over its open positions) without its margin requirement, which
 * the score does not use and which under the portfolio model is the expensive
 * part. `held`: the caller already knows the account holds the instrument.
 */
function adlCandidate(ctx: SagaContext, id: string, instrument: string, side: Fixed, held = false): RankedCandidate | undefined {
  const { ledger, rules } = ctx;
  if (isSystemAccount(rules, id) || (!held && !ledger.holders.get(instrument)?.has(id))) return undefined;
  const account = ledger.accounts.get(id);
  const position = account?.positions.get(instrument);
  if (!account || !position || sign(position.qty) !== side) return undefined;
  const listed = ledger.instruments.get(instrument)!;
  const own = markedValue(position.qty, listed.mark!, listed.multiplier, listed.inverse);
  const pnl = own.value - position.cost;
  if (pnl <= 0n || position.cost === 0n) return undefined;
  const unit: MarginUnit = account.isolated ? { account: id, instrument } : { account: id };
  let equity: Fixed;
  let notional: Fixed;
  if (rules.model === 'lending') {
    ({ equity, notional } = computeRisk(ledger, rules, account, unit));
  } else {
    equity = unitNetBalance(ledger, rules, account, unit) + (listed.premiumStyle ? own.value : pnl);
    notional = own.notional;
    if (!account.isolated) {
      for (const p of account.positions.values()) {
        if (p === position || p.qty === 0n) continue;
        const other = ledger.instruments.get(p.instrument)!;
        const marked = markedValue(p.qty, other.mark!, other.multiplier, other.inverse);
        equity += other.premiumStyle ? marked.value : marked.value - p.cost;
        notional += marked.notional;
      }
    }
  }
  if (equity <= 0n) return undefined;
  const fields = { account: id, qty: position.qty, pnl, cost: abs(position.cost), positionNotional: own.notional, unitNotional: notional, equity };
  const { scoreNumerator, scoreDenominator } = adlScore(rules.adl?.policy, fields);
  return { ...fields, scoreNumerator, scoreDenominator, approx: Number(scoreNumerator) / Number(scoreDenominator) };
}

/** Above this many changed accounts a queue is merged in one pass rather than spliced entry by entry. */
const SPLICE_LIMIT = 16;

/** The ranked ADL candidates of one instrument and side. */
class AdlQueue {
  private readonly byAccount = new Map<string, RankedCandidate>();

  private constructor(
    private readonly instrument: string,
    private readonly side: Fixed,
    public ranked: RankedList<RankedCandidate>,
  ) {}

  static build(ctx: SagaContext, instrument: string, side: Fixed): AdlQueue {
    const candidates: RankedCandidate[] = [];
    for (const id of ctx.ledger.holders.get(instrument) ?? []) {
      const candidate = adlCandidate(ctx, id, instrument, side, true);
      if (candidate) candidates.push(candidate);
    }
    const queue = new AdlQueue(instrument, side, new RankedList(candidates.sort(byAdlRank), adlBefore));
    for (const c of candidates) queue.byAccount.set(c.account, c);
    return queue;
  }

  update(ctx: SagaContext, changed: ReadonlySet<string>): void {
    if (changed.size <= SPLICE_LIMIT) {
      for (const id of changed) {
        const old = this.byAccount.get(id);
        if (old) {
          this.ranked.remove(old);
          this.byAccount.delete(id);
        }
        const candidate = adlCandidate(ctx, id, this.instrument, this.side);
        if (!candidate) continue;
        this.ranked.insert(candidate);
        this.byAccount.set(id, candidate);
      }
      return;
    }
    // many changed (the payers of a socialized loss): drop theirs, rank theirs anew, merge the two ranked lists
    const kept = this.ranked.toArray().filter((c) => !changed.has(c.account));
    const fresh: RankedCandidate[] = [];
    for (const id of changed) {
      this.byAccount.delete(id);
      const candidate = adlCandidate(ctx, id, this.instrument, this.side);
      if (!candidate) continue;
      fresh.push(candidate);
      this.byAccount.set(id, candidate);
    }
    fresh.sort(byAdlRank);
    const merged: RankedCandidate[] = new Array(kept.length + fresh.length);
    let i = 0;
    let j = 0;
    for (let k = 0; k < merged.length; k++) merged[k] = j >= fresh.length || (i < kept.length && adlBefore(kept[i]!, fresh[j]!)) ? kept[i++]! : fresh[j++]!;
    this.ranked = new RankedList(merged, adlBefore);
  }
}
