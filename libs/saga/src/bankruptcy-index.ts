import { abs, sign, type Fixed } from '@clearsim/money';
import type { DecisionEvent } from '@clearsim/events';
import { isSystemAccount } from '@clearsim/rules';
import { positionEquityValue, unrealizedPnl, type Account, type Position } from '@clearsim/ledger';
import { computeRisk, notionalValue, unitNetBalance, type MarginUnit } from '@clearsim/margin';
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
  adlQueue(ctx: SagaContext, instrument: string, bankruptQty: Fixed): readonly AdlCandidate[] {
    this.catchUp(ctx);
    const side = -sign(bankruptQty);
    const key = `${side}:${instrument}`;
    let queue = this.queues.get(key);
    if (!queue) this.queues.set(key, (queue = AdlQueue.build(ctx, instrument, side)));
    return queue.ranked;
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
  let index = indexes.get(ctx);
  if (index) return index;
  const created = new BankruptcyIndex();
  const emit = ctx.emit;
  ctx.emit = (decision: DecisionEvent): void => {
    emit.call(ctx, decision);
    noteNamedAccounts(created.changed, decision);
  };
  indexes.set(ctx, created);
  index = created;
  return index;
}

/** Every account a decision can change is named in it: its account, counterparty, fund, or a share. */
function noteNamedAccounts(changed: Set<string>, decision: DecisionEvent): void {
  const named = decision as { account?: string; counterparty?: string; fund?: string; shares?: readonly { account: string }[] };
  if (named.account !== undefined) changed.add(named.account);
  if (named.counterparty !== undefined) changed.add(named.counterparty);
  if (named.fund !== undefined) changed.add(named.fund);
  if (named.shares) for (const share of named.shares) changed.add(share.account);
}

/** The unrealized PnL of every open position of an account, at the marks: what weighs its share of a socialized loss. */
export function accountPnl(ctx: SagaContext, account: Account): Fixed {
  let pnl = 0n;
  for (const p of account.positions.values()) {
    if (p.qty === 0n) continue;
    const instrument = ctx.ledger.instruments.get(p.instrument)!;
    pnl += unrealizedPnl(p.qty, p.cost, instrument.mark!, instrument.multiplier);
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

const idBefore = (a: string, b: string): boolean => a < b;

/**
 * The non-system accounts whose open positions are in profit at the marks,
 * in account-id order, with their PnL and the running total. An account's
 * PnL moves only with its positions (the marks are fixed for the input), so a
 * named account whose version did not move keeps its weight unweighed (the
 * payers of a socialized loss: their cash moved, not their positions).
 */
export class ProfitWeights {
  /** Account ids in profit, ascending. */
  readonly accounts: string[] = [];
  readonly pnl = new Map<string, { pnl: Fixed; version: number | undefined }>();
  total = 0n;

  static build(ctx: SagaContext): ProfitWeights {
    const weights = new ProfitWeights();
    const seen = new Set<string>();
    // an account with no open position weighs nothing: the holders of the instruments are every account that can
    for (const holders of ctx.ledger.holders.values()) {
      for (const id of holders) {
        if (seen.has(id)) continue;
        seen.add(id);
        const account = ctx.ledger.accounts.get(id);
        if (!account || isSystemAccount(ctx.rules, id)) continue;
        const pnl = accountPnl(ctx, account);
        if (pnl <= 0n) continue;
        weights.accounts.push(id);
        weights.pnl.set(id, { pnl, version: account.version });
        weights.total += pnl;
      }
    }
    weights.accounts.sort((a, b) => (a < b ? -1 : 1));
    return weights;
  }

  update(ctx: SagaContext, changed: ReadonlySet<string>): void {
    for (const id of changed) {
      if (isSystemAccount(ctx.rules, id)) continue;
      const account = ctx.ledger.accounts.get(id);
      const held = this.pnl.get(id);
      if (held && account && held.version === account.version) continue;
      const pnl = account ? accountPnl(ctx, account) : 0n;
      if (held) {
        this.total -= held.pnl;
        if (pnl > 0n) {
          this.pnl.set(id, { pnl, version: account!.version });
          this.total += pnl;
        } else {
          this.pnl.delete(id);
          this.accounts.splice(lowerBound(this.accounts, id, idBefore), 1);
        }
      } else if (pnl > 0n) {
        this.pnl.set(id, { pnl, version: account!.version });
        this.total += pnl;
        this.accounts.splice(lowerBound(this.accounts, id, idBefore), 0, id);
      }
    }
  }
}

export interface AdlCandidate {
  account: string;
  qty: Fixed;
  /** profit % × effective leverage = (upnl / |cost|) × (notional / equity), kept as a fraction. */
  scoreNumerator: bigint;
  scoreDenominator: bigint;
}

/** ADL order: higher profit % × effective leverage first (cross-multiplied, denominators are positive), then account id. */
export function adlOrder(a: AdlCandidate, b: AdlCandidate): number {
  const lhs = a.scoreNumerator * b.scoreDenominator;
  const rhs = b.scoreNumerator * a.scoreDenominator;
  if (lhs !== rhs) return lhs > rhs ? -1 : 1;
  return a.account < b.account ? -1 : a.account > b.account ? 1 : 0;
}

const adlBefore = (a: AdlCandidate, b: AdlCandidate): boolean => adlOrder(a, b) < 0;

/**
 * A unit's equity and notional as computeRisk has them, without its margin
 * requirement (which the ADL score does not use, and which under the
 * portfolio model is the expensive part): balance + Σ position values, and
 * Σ |qty| × mark × multiplier rounded up, over its open positions.
 */
function unitEquityAndNotional(ctx: SagaContext, account: Account, unit: MarginUnit): { equity: Fixed; notional: Fixed } {
  if (ctx.rules.model === 'lending') {
    const risk = computeRisk(ctx.ledger, ctx.rules, account, unit);
    return { equity: risk.equity, notional: risk.notional };
  }
  let equity = unitNetBalance(ctx.ledger, ctx.rules, account, unit);
  let notional = 0n;
  const add = (p: Position | undefined): void => {
    if (!p || p.qty === 0n) return;
    const instrument = ctx.ledger.instruments.get(p.instrument)!;
    equity += positionEquityValue(p.qty, p.cost, instrument.mark!, instrument.multiplier, instrument.premiumStyle);
    notional += notionalValue(p.qty, instrument.mark!, instrument.multiplier);
  };
  if (unit.instrument !== undefined) add(account.positions.get(unit.instrument));
  else if (!account.isolated) for (const p of account.positions.values()) add(p);
  return { equity, notional };
}

/**
 * The ADL candidate an account's position is, or undefined: a non-system
 * account holding `instrument` on `side`, the position in profit with a cost,
 * its margin unit at positive equity (the rules of rankAdlCandidates).
 */
function adlCandidate(ctx: SagaContext, id: string, instrument: string, side: Fixed): AdlCandidate | undefined {
  if (isSystemAccount(ctx.rules, id) || !ctx.ledger.holders.get(instrument)?.has(id)) return undefined;
  const account = ctx.ledger.accounts.get(id);
  const position = account?.positions.get(instrument);
  if (!account || !position || sign(position.qty) !== side) return undefined;
  const listed = ctx.ledger.instruments.get(instrument)!;
  const pnl = unrealizedPnl(position.qty, position.cost, listed.mark!, listed.multiplier);
  if (pnl <= 0n || position.cost === 0n) return undefined;
  const { equity, notional } = unitEquityAndNotional(ctx, account, account.isolated ? { account: id, instrument } : { account: id });
  if (equity <= 0n) return undefined;
  return { account: id, qty: position.qty, scoreNumerator: pnl * notional, scoreDenominator: abs(position.cost) * equity };
}

/** Above this many changed accounts a queue is merged in one pass rather than spliced entry by entry. */
const SPLICE_LIMIT = 16;

/** The ranked ADL candidates of one instrument and side. */
class AdlQueue {
  ranked: AdlCandidate[] = [];
  private readonly byAccount = new Map<string, AdlCandidate>();

  private constructor(
    private readonly instrument: string,
    private readonly side: Fixed,
  ) {}

  static build(ctx: SagaContext, instrument: string, side: Fixed): AdlQueue {
    const queue = new AdlQueue(instrument, side);
    for (const id of ctx.ledger.holders.get(instrument) ?? []) {
      const candidate = adlCandidate(ctx, id, instrument, side);
      if (!candidate) continue;
      queue.ranked.push(candidate);
      queue.byAccount.set(id, candidate);
    }
    queue.ranked.sort(adlOrder);
    return queue;
  }

  update(ctx: SagaContext, changed: ReadonlySet<string>): void {
    if (changed.size <= SPLICE_LIMIT) {
      for (const id of changed) {
        const old = this.byAccount.get(id);
        if (old) {
          this.ranked.splice(lowerBound(this.ranked, old, adlBefore), 1);
          this.byAccount.delete(id);
        }
        const candidate = adlCandidate(ctx, id, this.instrument, this.side);
        if (!candidate) continue;
        this.ranked.splice(lowerBound(this.ranked, candidate, adlBefore), 0, candidate);
        this.byAccount.set(id, candidate);
      }
      return;
    }
    // many changed (the payers of a socialized loss): drop theirs, rank theirs anew, merge the two ranked lists
    const kept = this.ranked.filter((c) => !changed.has(c.account));
    const fresh: AdlCandidate[] = [];
    for (const id of changed) {
      this.byAccount.delete(id);
      const candidate = adlCandidate(ctx, id, this.instrument, this.side);
      if (!candidate) continue;
      fresh.push(candidate);
      this.byAccount.set(id, candidate);
    }
    fresh.sort(adlOrder);
    const merged: AdlCandidate[] = new Array(kept.length + fresh.length);
    let i = 0;
    let j = 0;
    for (let k = 0; k < merged.length; k++) merged[k] = j >= fresh.length || (i < kept.length && adlBefore(kept[i]!, fresh[j]!)) ? kept[i++]! : fresh[j++]!;
    this.ranked = merged;
  }
}
