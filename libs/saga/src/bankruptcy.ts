import { abs, divRound, max, min, sign, type Fixed } from '@clearsim/money';
import { isSystemAccount } from '@clearsim/rules';
import { holdersOf, unrealizedPnl, type Account, type Position } from '@clearsim/ledger';
import { computeRisk, positionRisk, unitNetBalance, type MarginUnit } from '@clearsim/margin';
import type { SagaContext } from './saga.context';
import { accountPnl, adlOrder, bankruptcyIndex, type AdlCandidate } from './bankruptcy-index';
import { equityAtLiquidationPrices, liquidationFillPrice } from './liquidation';
import { unitFields } from './margin-saga';

/**
 * The bankruptcy waterfall of a unit whose balance, with every position closed
 * at liquidation prices, is below zero by `deficit`:
 * 1. `AccountBankrupted` with the deficit;
 * 2. the insurance fund covers what it can (`InsuranceFundDrawn`);
 * 3. `bankruptcy: adl` — the rest is recovered from the most profitable,
 *    most leveraged opposite positions, closed against the bankrupt at its
 *    bankruptcy price (`PositionAutoDeleveraged`); what no ADL covers, and all
 *    of it under `bankruptcy: socialize`, is shared pro rata over accounts with
 *    positive unrealized PnL (`LossSocialized`).
 * Whatever no one can cover stays on the unit as a negative balance (bad debt).
 */
export function settleBankruptcy(ctx: SagaContext, account: Account, unit: MarginUnit, positions: Position[]): void {
  const deficit = -equityAtLiquidationPrices(ctx, account, unit);
  if (deficit <= 0n) return;
  ctx.emit({ type: 'AccountBankrupted', ts: ctx.ts, ...unitFields(unit), deficit });
  const fundId = ctx.rules.accounts.insurance;
  const fundCash = ctx.ledger.accounts.get(fundId)?.cash ?? 0n;
  const drawn = min(deficit, max(fundCash, 0n));
  if (drawn > 0n) ctx.emit({ type: 'InsuranceFundDrawn', ts: ctx.ts, ...unitFields(unit), fund: fundId, amount: drawn });
  const remaining = deficit - drawn;

  const ranked = positions
    .map((p) => positionRisk(ctx.ledger, ctx.rules, p))
    .sort((a, b) => (a.notional !== b.notional ? (a.notional > b.notional ? -1 : 1) : a.position.instrument < b.position.instrument ? -1 : 1));
  const totalNotional = ranked.reduce((sum, r) => sum + r.notional, 0n);
  let allocated = 0n;
  ranked.forEach((r, i) => {
    const position = r.position;
    const exitPrice = liquidationFillPrice(r.mark, position.qty, ctx.rules.liquidation.slippage);
    let share = 0n;
    if (remaining > 0n && ctx.rules.bankruptcy === 'adl') {
      share = i === ranked.length - 1 ? remaining - allocated : totalNotional > 0n ? divRound(remaining * r.notional, totalNotional, 'floor') : 0n;
      allocated += share;
    }
    let open = abs(position.qty);
    if (share > 0n) open -= autoDeleverage(ctx, account, position, r.multiplier, exitPrice, share);
    if (open > 0n) {
      ctx.emit({
        type: 'PositionLiquidated',
        ts: ctx.ts,
        account: account.id,
        instrument: position.instrument,
        qty: position.qty > 0n ? -open : open,
        price: exitPrice,
        counterparty: ctx.rules.accounts.backstop,
        fee: 0n,
      });
    }
  });

  const shortfall = -unitNetBalance(ctx.ledger, ctx.rules, account, unit);
  if (shortfall > 0n) socializeLoss(ctx, unit, shortfall);
}

/**
 * Opposite positions eligible for ADL in an instrument, ranked by profit % ×
 * effective leverage, highest first (compared by cross-multiplying), then
 * account id. Only non-system accounts with positive unrealized PnL on the
 * position and positive equity qualify.
 *
 * The straightforward computation, every opposite holder weighed per call:
 * what `fastPaths: false` runs, and the reference for the per-input ADL queue
 * (bankruptcy-index.ts) that the fast path keeps current instead.
 */
export function rankAdlCandidates(ctx: SagaContext, instrument: string, bankruptQty: Fixed, exclude: string): AdlCandidate[] {
  const candidates: AdlCandidate[] = [];
  for (const id of holdersOf(ctx.ledger, instrument)) {
    if (id === exclude || isSystemAccount(ctx.rules, id)) continue;
    const account = ctx.ledger.accounts.get(id)!;
    const position = account.positions.get(instrument);
    if (!position || sign(position.qty) !== -sign(bankruptQty)) continue;
    const listed = ctx.ledger.instruments.get(instrument)!;
    // the PnL alone (positionRisk would also compute the position's stand-alone requirement, unused here)
    const pnl = unrealizedPnl(position.qty, position.cost, listed.mark!, listed.multiplier);
    if (pnl <= 0n || position.cost === 0n) continue;
    const unitRisk = computeRisk(ctx.ledger, ctx.rules, account, account.isolated ? { account: id, instrument } : { account: id });
    if (unitRisk.equity <= 0n) continue;
    candidates.push({
      account: id,
      qty: position.qty,
      scoreNumerator: pnl * unitRisk.notional,
      scoreDenominator: abs(position.cost) * unitRisk.equity,
    });
  }
  return candidates.sort(adlOrder);
}

/**
 * Closes as much of the bankrupt `position` as ranked opposite positions can
 * take, at the price that recovers `share` of the deficit from them:
 * the bankruptcy price p = exit price ± share ÷ (qty × multiplier), rounded in
 * the bankrupt's favour so the share is fully recovered. Returns the qty closed.
 */
function autoDeleverage(ctx: SagaContext, bankrupt: Account, position: Position, multiplier: Fixed, exitPrice: Fixed, share: Fixed): Fixed {
  const wanted = abs(position.qty);
  const fills: { account: string; qty: Fixed }[] = [];
  let filled = 0n;
  const ranked = ctx.fastPaths ? bankruptcyIndex(ctx).adlQueue(ctx, position.instrument, position.qty) : rankAdlCandidates(ctx, position.instrument, position.qty, bankrupt.id);
  for (const candidate of ranked) {
    if (filled === wanted) break;
    // the queue holds the side opposite to the bankrupt's position, so never the bankrupt itself; kept explicit
    if (candidate.account === bankrupt.id) continue;
    const take = min(abs(candidate.qty), wanted - filled);
    fills.push({ account: candidate.account, qty: take });
    filled += take;
  }
  if (filled === 0n) return 0n;
  const offset = divRound(share * 10n ** 16n, filled * multiplier, 'ceil');
  const rawPrice = position.qty > 0n ? exitPrice + offset : exitPrice - offset;
  const price = rawPrice > 0n ? rawPrice : 1n;
  fills.forEach((f, i) => {
    ctx.emit({
      type: 'PositionAutoDeleveraged',
      ts: ctx.ts,
      account: f.account,
      instrument: position.instrument,
      // the deleveraged trader reduces: a short buys back from a bankrupt long, and vice versa
      qty: position.qty > 0n ? f.qty : -f.qty,
      price,
      counterparty: bankrupt.id,
      rank: i + 1,
    });
    ctx.touch(f.account);
  });
  return filled;
}

/** A socialized loss: the amount shared and each paying account's share (those above zero), in account-id order. */
export interface LossShares {
  amount: Fixed;
  shares: { account: string; amount: Fixed }[];
}

/**
 * Shares a loss pro rata over accounts with positive unrealized PnL (system
 * accounts and the bankrupt excluded), each at most its PnL: floor shares,
 * then the leftover ledger units one by one by largest remainder, ties by
 * account id.
 */
export function socializeLoss(ctx: SagaContext, unit: MarginUnit, loss: Fixed): void {
  const split = ctx.fastPaths ? shareLossOverIndex(ctx, unit, loss) : shareLoss(ctx, unit, loss);
  if (!split) return;
  ctx.emit({ type: 'LossSocialized', ts: ctx.ts, ...unitFields(unit), amount: split.amount, shares: split.shares });
  for (const s of split.shares) ctx.touch(s.account);
}

/**
 * The shares of a socialized loss, the straightforward way: every account
 * weighed and sorted per call. What `fastPaths: false` runs, and the
 * reference for shareLossOverIndex.
 */
export function shareLoss(ctx: SagaContext, unit: MarginUnit, loss: Fixed): LossShares | undefined {
  const weights: { account: string; pnl: Fixed }[] = [];
  for (const account of ctx.ledger.accounts.values()) {
    if (account.id === unit.account || isSystemAccount(ctx.rules, account.id)) continue;
    // the PnL alone: no requirement is needed to weigh a share
    const pnl = accountPnl(ctx, account);
    if (pnl > 0n) weights.push({ account: account.id, pnl });
  }
  // account-id order (sorting the accounts in profit, not every account)
  weights.sort((a, b) => (a.account < b.account ? -1 : 1));
  const total = weights.reduce((s, w) => s + w.pnl, 0n);
  if (total === 0n) return undefined;
  const amount = min(loss, total);
  const shares = weights.map((w) => ({ account: w.account, amount: divRound(amount * w.pnl, total, 'floor'), remainder: (amount * w.pnl) % total }));
  let leftover = amount - shares.reduce((s, x) => s + x.amount, 0n);
  const byRemainder = [...shares].sort((a, b) => (a.remainder !== b.remainder ? (a.remainder > b.remainder ? -1 : 1) : a.account < b.account ? -1 : 1));
  for (const s of byRemainder) {
    if (leftover === 0n) break;
    s.amount += 1n;
    leftover -= 1n;
  }
  const paid = shares.filter((s) => s.amount > 0n);
  if (paid.length === 0) return undefined;
  return { amount, shares: paid.map(({ account, amount }) => ({ account, amount })) };
}

/**
 * The same shares as shareLoss, from the input's index of accounts in profit
 * (already weighed and in id order, see bankruptcy-index.ts): one pass over
 * the accounts in profit for the floor shares, and the leftover units to the
 * largest remainders by selection rather than by sorting every remainder.
 * A share per account in profit is the output itself, so this pass remains.
 */
export function shareLossOverIndex(ctx: SagaContext, unit: MarginUnit, loss: Fixed): LossShares | undefined {
  const weights = bankruptcyIndex(ctx).profitWeights(ctx);
  const total = weights.total - weights.pnlOf(unit.account);
  if (total === 0n) return undefined;
  const amount = min(loss, total);
  const accounts: string[] = [];
  const amounts: Fixed[] = [];
  const remainders: Fixed[] = [];
  let floors = 0n;
  for (const weight of weights.inProfit) {
    if (weight.account === unit.account) continue;
    // amount, PnL and total are positive: truncation is the floor
    const product = amount * weight.pnl;
    const share = product / total;
    accounts.push(weight.account);
    amounts.push(share);
    remainders.push(product - share * total);
    floors += share;
  }
  // fewer than one unit per account is left over (Σ PnL = total, so Σ exact shares = amount)
  const leftover = Number(amount - floors);
  if (leftover > 0) {
    const order = new Int32Array(accounts.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    // largest remainder first, ties by account id: the accounts are in id order, so by index
    selectFirst(order, leftover, (a, b) => (remainders[a] !== remainders[b] ? remainders[a]! > remainders[b]! : a < b));
    for (let i = 0; i < leftover; i++) amounts[order[i]!]! += 1n;
  }
  const shares: { account: string; amount: Fixed }[] = [];
  accounts.forEach((account, i) => {
    if (amounts[i]! > 0n) shares.push({ account, amount: amounts[i]! });
  });
  return shares.length === 0 ? undefined : { amount, shares };
}

/**
 * Rearranges `order` so that its first `k` entries are the `k` first under
 * `before` (a strict total order), in no particular order among themselves:
 * quickselect (median-of-three pivot, Hoare partition), O(n) expected. Which
 * entries are first does not depend on how they are found, the order being
 * total.
 */
export function selectFirst(order: Int32Array, k: number, before: (a: number, b: number) => boolean): void {
  const target = k - 1;
  let lo = 0;
  let hi = order.length - 1;
  while (lo < hi) {
    const a = order[lo]!;
    const b = order[(lo + hi) >>> 1]!;
    const c = order[hi]!;
    const pivot = before(a, b) ? (before(b, c) ? b : before(a, c) ? c : a) : before(a, c) ? a : before(b, c) ? c : b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (before(order[i]!, pivot)) i++;
      while (before(pivot, order[j]!)) j--;
      if (i <= j) {
        const t = order[i]!;
        order[i++] = order[j]!;
        order[j--] = t;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return;
  }
}
