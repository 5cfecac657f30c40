import { abs, divRound, max, min, SCALE, sign, type Fixed } from '@clearsim/money';
import { isSystemAccount, type AdlRules } from '@clearsim/rules';
import { getAccount, holdersOf, unrealizedPnl, type Account, type Position } from '@clearsim/ledger';
import { computeRisk, notionalValue, positionRisk, unitKey, unitNetBalance, type MarginUnit } from '@clearsim/margin';
import type { SagaContext } from './saga.context';
import { accountPnl, adlOrder, adlScore, bankruptcyIndex, type AdlCandidate } from './bankruptcy-index';
import { equityAtLiquidationPrices, liquidationFillPrice } from './liquidation';
import { unitFields } from './margin-saga';

/**
 * The bankruptcy waterfall of a unit whose balance, with every position closed
 * at liquidation prices, is below zero by `deficit`:
 * 1. `AccountBankrupted` with the deficit;
 * 2. the insurance fund covers what it can (`InsuranceFundDrawn`);
 * 3. `bankruptcy: adl` — the rest is recovered from opposite positions in
 *    profit, chosen by the rules' `adl.policy` (the queue of the most
 *    profitable, most leveraged by default), closed against the bankrupt at its
 *    bankruptcy price or the mark (`PositionAutoDeleveraged`); what no ADL covers, and all
 *    of it under `bankruptcy: socialize`, is owed by the unit until the input's
 *    checks settle, then shared with the input's other losses, once, pro rata
 *    over accounts with positive unrealized PnL (socializePendingLosses).
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
    if (share > 0n && adlBatched(ctx)) {
      // deleveraged with the input's other bankrupt positions (runBatchedAdl); the position stays open until then
      queueAdl(ctx, { unit, bankrupt: account.id, instrument: position.instrument, qty: position.qty, multiplier: r.multiplier, exitPrice, share });
      return;
    }
    let open = abs(position.qty);
    if (share > 0n) open -= autoDeleverage(ctx, account, position, r.multiplier, exitPrice, share, r.inverse);
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

  if (awaitsBatchedAdl(ctx, account.id)) return; // its shortfall is owed after the batch
  const shortfall = -unitNetBalance(ctx.ledger, ctx.rules, account, unit);
  // shared once the input's checks settle, with every other loss of the input (socializePendingLosses)
  if (shortfall > 0n) oweLoss(ctx, unit);
}

/** A bankrupt position waiting for the input's batched ADL: its share of the unit's deficit and its exit price. */
interface QueuedAdl {
  unit: MarginUnit;
  bankrupt: string;
  instrument: string;
  qty: Fixed;
  multiplier: Fixed;
  exitPrice: Fixed;
  share: Fixed;
}

const queuedAdl = new WeakMap<SagaContext, QueuedAdl[]>();

const adlBatched = (ctx: SagaContext): boolean => ctx.rules.bankruptcy === 'adl' && ctx.rules.adl?.batch === 'input';

function queueAdl(ctx: SagaContext, queued: QueuedAdl): void {
  let list = queuedAdl.get(ctx);
  if (!list) queuedAdl.set(ctx, (list = []));
  list.push(queued);
}

/**
 * Is this account bankrupt with positions waiting for the input's batched ADL? Nothing else is decided for it
 * (no call, no liquidation) until runBatchedAdl has closed them.
 */
export function awaitsBatchedAdl(ctx: SagaContext, account: string): boolean {
  if (ctx.rules.adl?.batch === undefined) return false;
  const list = queuedAdl.get(ctx);
  return list !== undefined && list.some((q) => q.bankrupt === account);
}

/**
 * `rows` (Σ = T) × `cols` (Σ = T) → a matrix of ledger units with those row and column sums, each cell
 * ⌊row × col / T⌋ plus the leftover units placed row by row, column by column (at most a few units per cell):
 * every counterparty's take split over the bankrupt positions in proportion to their fills.
 */
export function proportionalSplit(rows: readonly Fixed[], cols: readonly Fixed[]): Fixed[][] {
  const total = rows.reduce((s, r) => s + r, 0n);
  const cells = rows.map((r) => cols.map((c) => (total === 0n ? 0n : (r * c) / total)));
  const rowLeft = rows.map((r, j) => r - cells[j]!.reduce((s, x) => s + x, 0n));
  const colLeft = cols.map((c, i) => c - cells.reduce((s, row) => s + row[i]!, 0n));
  let i = 0;
  rowLeft.forEach((left, j) => {
    while (left > 0n) {
      while (colLeft[i] === 0n) i++;
      const x = min(left, colLeft[i]!);
      cells[j]![i]! += x;
      left -= x;
      colLeft[i]! -= x;
    }
  });
  return cells;
}

/**
 * ADL batched per input (`adl.batch: input`): the bankrupt positions the input queued, per instrument and
 * side (instrument order, longs first), are closed together. Q = Σ |qᵢ| is shared by the rules' policy
 * (adlFills: pro rata to size, or to size × effective leverage) over the profitable opposite positions —
 * the input's bankrupt accounts excluded — once; the total filled T is apportioned to the bankrupt
 * positions pro rata to |qᵢ| (largest remainder), and each counterparty's take over them in proportion
 * (proportionalSplit). Each bankrupt position keeps its own bankruptcy price, exit ± Rᵢ ÷ (filledᵢ × k)
 * (or the mark under `fill: mark`), so a counterparty pays ≈ its take ÷ T of the whole deficit ΣRᵢ.
 * What no one takes closes to the backstop at the exit price; each unit's shortfall is then owed
 * (socializePendingLosses). Returns whether anything was queued.
 */
function runBatchedAdl(ctx: SagaContext): boolean {
  const queued = queuedAdl.get(ctx);
  if (!queued || queued.length === 0) return false;
  queuedAdl.delete(ctx);
  const bankrupts = new Set(queued.map((q) => q.bankrupt));
  const groups = new Map<string, QueuedAdl[]>();
  for (const q of queued) {
    const key = `${q.instrument}\u0000${q.qty > 0n ? 0 : 1}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(q);
  }
  const adl = ctx.rules.adl!;
  const protect = adl.fill === 'bankruptcy' && adl.protectCounterparties;
  for (const key of [...groups.keys()].sort()) {
    const group = groups.get(key)!;
    const { instrument, qty: sideQty, multiplier } = group[0]!;
    const wanted = group.reduce((s, q) => s + abs(q.qty), 0n);
    const candidates = ctx.fastPaths ? bankruptcyIndex(ctx).adlQueue(ctx, instrument, sideQty) : rankAdlCandidates(ctx, instrument, sideQty, '');
    const takes = adlFills(adl.policy, [...candidates].filter((c) => !bankrupts.has(c.account)), '', wanted);
    const filledTotal = takes.reduce((s, t) => s + t.qty, 0n);
    const filled = filledTotal === 0n ? group.map(() => 0n) : largestRemainder(filledTotal, group.map((q) => abs(q.qty)));
    const split = proportionalSplit(takes.map((t) => t.qty), filled);
    const mark = ctx.ledger.instruments.get(instrument)!.mark!;
    group.forEach((q, i) => {
      if (filled[i]! > 0n) {
        let price = mark;
        if (adl.fill !== 'mark') {
          const offset = divRound(q.share * 10n ** 16n, filled[i]! * multiplier, 'ceil');
          const raw = q.qty > 0n ? q.exitPrice + offset : q.exitPrice - offset;
          price = raw > 0n ? raw : 1n;
        }
        takes.forEach((t, j) => {
          const take = split[j]![i]!;
          if (take === 0n) return;
          const fillQty = q.qty > 0n ? take : -take;
          ctx.emit({
            type: 'PositionAutoDeleveraged',
            ts: ctx.ts,
            account: t.account,
            instrument,
            qty: fillQty,
            price: protect ? counterpartyCapped(ctx, t.account, instrument, fillQty, price, mark, multiplier) : price,
            counterparty: q.bankrupt,
            rank: j + 1,
          });
          ctx.touch(t.account);
        });
      }
      const open = abs(q.qty) - filled[i]!;
      if (open > 0n) {
        ctx.emit({ type: 'PositionLiquidated', ts: ctx.ts, account: q.bankrupt, instrument, qty: q.qty > 0n ? -open : open, price: q.exitPrice, counterparty: ctx.rules.accounts.backstop, fee: 0n });
      }
    });
  }
  const units = new Map(queued.map((q) => [unitKey(q.unit), q.unit]));
  for (const unit of units.values()) {
    if (unitNetBalance(ctx.ledger, ctx.rules, getAccount(ctx.ledger, unit.account), unit) < 0n) oweLoss(ctx, unit);
  }
  // their checks were skipped while they waited: their other units (isolated positions) are checked now
  for (const id of bankrupts) ctx.touch(id);
  return true;
}

/**
 * Opposite positions eligible for ADL in an instrument, ranked by the rules'
 * ADL score (adlScore: profit % × effective leverage, or the sort index),
 * highest first (compared by cross-multiplying), then account id. Only non-system accounts with positive unrealized PnL on the
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
    const pnl = unrealizedPnl(position.qty, position.cost, listed.mark!, listed.multiplier, listed.inverse);
    if (pnl <= 0n || position.cost === 0n) continue;
    const unitRisk = computeRisk(ctx.ledger, ctx.rules, account, account.isolated ? { account: id, instrument } : { account: id });
    if (unitRisk.equity <= 0n) continue;
    const fields = { account: id, qty: position.qty, pnl, cost: abs(position.cost), positionNotional: notionalValue(position.qty, listed.mark!, listed.multiplier, listed.inverse), unitNotional: unitRisk.notional, equity: unitRisk.equity };
    candidates.push({ ...fields, ...adlScore(ctx.rules.adl?.policy, fields) });
  }
  return candidates.sort(adlOrder);
}

/**
 * Closes as much of the bankrupt `position` as opposite positions in profit
 * can take, chosen by the rules' ADL policy (adlFills), at the price that
 * recovers `share` of the deficit from them: the bankruptcy price
 * p = exit price ± share ÷ (qty × multiplier), rounded in the bankrupt's
 * favour so the share is fully recovered; or at the mark under `adl.fill: mark`
 * (nothing recovered: the share is socialized). Under `adl.protectCounterparties`
 * a fill that would take more than a counterparty's equity is priced so that it
 * takes exactly that equity (counterpartyCapped). Returns the qty closed.
 */
function autoDeleverage(ctx: SagaContext, bankrupt: Account, position: Position, multiplier: Fixed, exitPrice: Fixed, share: Fixed, inverse = false): Fixed {
  const adl = ctx.rules.adl;
  const ranked = ctx.fastPaths ? bankruptcyIndex(ctx).adlQueue(ctx, position.instrument, position.qty) : rankAdlCandidates(ctx, position.instrument, position.qty, bankrupt.id);
  const fills = adlFills(adl?.policy, ranked, bankrupt.id, abs(position.qty));
  const filled = fills.reduce((sum, f) => sum + f.qty, 0n);
  if (filled === 0n) return 0n;
  const mark = ctx.ledger.instruments.get(position.instrument)!.mark!;
  let price: Fixed;
  if (adl?.fill === 'mark') price = mark;
  else if (inverse) price = inverseBankruptcyPrice(position.qty, filled * multiplier, exitPrice, share);
  else {
    const offset = divRound(share * 10n ** 16n, filled * multiplier, 'ceil');
    const rawPrice = position.qty > 0n ? exitPrice + offset : exitPrice - offset;
    price = rawPrice > 0n ? rawPrice : 1n;
  }
  const protect = adl !== undefined && adl.fill === 'bankruptcy' && adl.protectCounterparties;
  fills.forEach((f, i) => {
    // the deleveraged trader reduces: a short buys back from a bankrupt long, and vice versa
    const qty = position.qty > 0n ? f.qty : -f.qty;
    ctx.emit({
      type: 'PositionAutoDeleveraged',
      ts: ctx.ts,
      account: f.account,
      instrument: position.instrument,
      qty,
      price: protect ? counterpartyCapped(ctx, f.account, position.instrument, qty, price, mark, multiplier, inverse) : price,
      counterparty: bankrupt.id,
      rank: i + 1,
    });
    ctx.touch(f.account);
  });
  return filled;
}

/**
 * The inverse ADL price: the p at which closing `faceValue` (filled × face, at 10^-16) of the bankrupt position
 * recovers `share` (coin) beyond the exit price: faceValue × (1/exit − 1/p) = share for a long, so
 * p = exit × faceValue / (faceValue − share × exit) rounded up; faceValue × (1/p − 1/exit) = share for a short,
 * so p = exit × faceValue / (faceValue + share × exit) rounded down (both in the bankrupt's favour). A long whose
 * share is at least the coin value of the fill at exit cannot be recovered at any price: the largest price the
 * arithmetic gives (denominator one ledger unit) stands for it, recovering at most that coin value.
 */
export function inverseBankruptcyPrice(qty: Fixed, faceValue: Fixed, exitPrice: Fixed, share: Fixed): Fixed {
  if (qty > 0n) return divRound(exitPrice * faceValue, max(faceValue - share * exitPrice, 1n), 'ceil');
  const price = divRound(exitPrice * faceValue, faceValue + share * exitPrice, 'floor');
  return price > 0n ? price : 1n;
}

/**
 * Who closes how much of a bankrupt position of |qty| `wanted`, by policy:
 * - queue, sort-index (and no policy): the candidates in rank order, each in
 *   full, until the bankrupt position is closed;
 * - pro-rata, risk-aware: every candidate, in account-id order, a part of
 *   `wanted` pro rata to its weight (its size |qty|; |qty| × effective
 *   leverage = |qty| × unit notional ÷ unit equity, to 10^-8, at least 10^-8), by
 *   largest remainder in ledger units, none more than its position: a part
 *   that would exceed it is capped and the rest shared again among the
 *   others (water-filling). Every candidate in full when they hold no more
 *   than `wanted` together.
 * These touch every candidate, so they cost O(profitable opposite positions)
 * per bankrupt position: the output (one fill each) is that size.
 */
export function adlFills(policy: AdlRules['policy'] | undefined, ranked: Iterable<AdlCandidate>, exclude: string, wanted: Fixed): { account: string; qty: Fixed }[] {
  const fills: { account: string; qty: Fixed }[] = [];
  if (policy === undefined || policy === 'queue' || policy === 'sort-index') {
    let filled = 0n;
    for (const candidate of ranked) {
      if (filled === wanted) break;
      // the queue holds the side opposite to the bankrupt's position, so never the bankrupt itself; kept explicit
      if (candidate.account === exclude) continue;
      const take = min(abs(candidate.qty), wanted - filled);
      fills.push({ account: candidate.account, qty: take });
      filled += take;
    }
    return fills;
  }
  const candidates = [...ranked].filter((c) => c.account !== exclude).sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0));
  const held = candidates.reduce((sum, c) => sum + abs(c.qty), 0n);
  if (held <= wanted) return candidates.map((c) => ({ account: c.account, qty: abs(c.qty) }));
  // pro-rata: by size, so every position in profit closes the same fraction; risk-aware: by size × effective leverage
  const weight = (c: AdlCandidate): Fixed => (policy === 'pro-rata' ? abs(c.qty) : max(1n, divRound(abs(c.qty) * c.unitNotional * SCALE, c.equity, 'floor')));
  const takes = new Map<string, Fixed>();
  let open = candidates;
  let remaining = wanted;
  for (;;) {
    const parts = largestRemainder(remaining, open.map(weight));
    const capped = open.filter((c, i) => parts[i]! >= abs(c.qty));
    if (capped.length === 0) {
      open.forEach((c, i) => takes.set(c.account, parts[i]!));
      break;
    }
    for (const c of capped) {
      takes.set(c.account, abs(c.qty));
      remaining -= abs(c.qty);
    }
    open = open.filter((c, i) => parts[i]! < abs(c.qty));
  }
  for (const c of candidates) {
    const take = takes.get(c.account) ?? 0n;
    if (take > 0n) fills.push({ account: c.account, qty: take });
  }
  return fills;
}

/**
 * The fill price for a counterparty changing its position by `qty` at `price`,
 * moved toward the mark just enough that what the fill takes from it against
 * the mark, qty × (price − mark) × multiplier, is at most its margin unit's
 * equity: it ends at its own bankruptcy price at worst, never past it (the
 * check dYdX v4 makes on the offsetting subaccount of a deleveraging). The
 * distance is rounded down, in the counterparty's favour.
 */
function counterpartyCapped(ctx: SagaContext, accountId: string, instrument: string, qty: Fixed, price: Fixed, mark: Fixed, multiplier: Fixed, inverse = false): Fixed {
  if (inverse) return inverseCounterpartyCapped(ctx, accountId, instrument, qty, price, mark, multiplier);
  const taken = qty * (price - mark) * multiplier;
  if (taken <= 0n) return price;
  const account = getAccount(ctx.ledger, accountId);
  const equity = max(0n, computeRisk(ctx.ledger, ctx.rules, account, account.isolated ? { account: accountId, instrument } : { account: accountId }).equity);
  if (taken <= equity * SCALE * SCALE) return price;
  const distance = divRound(equity * SCALE * SCALE, abs(qty) * multiplier, 'floor');
  const capped = qty > 0n ? mark + distance : mark - distance;
  return capped > 0n ? capped : 1n;
}

/**
 * counterpartyCapped for an inverse instrument: the fill takes qty × face × (1/mark − 1/price) (coin) from the
 * counterparty; capped at its equity E, the price is mark × F / (F − E × mark) for a buyer (rounded down) and
 * mark × F / (F + E × mark) for a seller (rounded up), F = |qty| × face; a buyer whose whole fill is worth no more
 * than E at the mark cannot be taken past it at any price.
 */
function inverseCounterpartyCapped(ctx: SagaContext, accountId: string, instrument: string, qty: Fixed, price: Fixed, mark: Fixed, multiplier: Fixed): Fixed {
  const faceValue = abs(qty) * multiplier;
  if (qty * (price - mark) <= 0n) return price;
  const account = getAccount(ctx.ledger, accountId);
  const equity = max(0n, computeRisk(ctx.ledger, ctx.rules, account, account.isolated ? { account: accountId, instrument } : { account: accountId }).equity);
  // taken ≤ E ⇔ F × |price − mark| ≤ E × price × mark (both sides at 10^-32)
  if (faceValue * abs(price - mark) <= equity * price * mark) return price;
  if (qty > 0n) {
    const denominator = faceValue - equity * mark;
    return denominator <= 0n ? price : divRound(mark * faceValue, denominator, 'floor');
  }
  const capped = divRound(mark * faceValue, faceValue + equity * mark, 'ceil');
  return capped > 0n ? capped : 1n;
}

/** A socialized loss: the amount shared and each paying account's share (those above zero), in account-id order. */
export interface LossShares {
  amount: Fixed;
  shares: { account: string; amount: Fixed }[];
}

/**
 * The units of each input (context) left below zero by their bankruptcy
 * waterfall, by unit key in the order they went bankrupt: their losses are
 * shared once, together, by socializePendingLosses.
 */
const pendingLosses = new WeakMap<SagaContext, Map<string, MarginUnit>>();

function oweLoss(ctx: SagaContext, unit: MarginUnit): void {
  let pending = pendingLosses.get(ctx);
  if (!pending) pendingLosses.set(ctx, (pending = new Map()));
  pending.set(unitKey(unit), unit);
}

/** Has a bankruptcy of this input left a loss that socializePendingLosses has not shared yet? */
export function hasPendingLosses(ctx: SagaContext): boolean {
  return (pendingLosses.get(ctx)?.size ?? 0) > 0 || (queuedAdl.get(ctx)?.length ?? 0) > 0;
}

/**
 * Shares, once, every loss the input's bankruptcies left uncovered (all of a
 * deficit the fund did not cover under `bankruptcy: socialize`, what ADL could
 * not recover under `adl`): the shortfalls L = Σ Lᵤ are summed and shared pro
 * rata over the accounts with positive unrealized PnL (system accounts and the
 * bankrupt accounts excluded), at most Σ uPnL in all, each account at most its
 * own uPnL (shareLoss). Each account's share is charged against its positions
 * in profit, pro rata to their gains (chargedPositions), by raising their cost
 * basis: the gain it took is gone from the unrealized PnL, so no later
 * bankruptcy — in this input or a later one at the same marks — can charge it
 * again. The bankrupt units receive the amount shared, each its shortfall (pro
 * rata when the gains do not cover L). One `LossSocialized`; its payers are
 * re-checked. The caller (the input's margin-check loop) calls this once the
 * checks have settled, and again after the checks it caused settle.
 * Returns whether a loss was shared.
 */
export function socializePendingLosses(ctx: SagaContext): boolean {
  // under adl.batch: input the checks settled with bankrupt positions queued: deleverage them together first
  const deleveraged = runBatchedAdl(ctx);
  const pending = pendingLosses.get(ctx);
  if (!pending || pending.size === 0) return deleveraged;
  pendingLosses.delete(ctx);
  const owed: { unit: MarginUnit; shortfall: Fixed }[] = [];
  for (const unit of pending.values()) {
    const shortfall = -unitNetBalance(ctx.ledger, ctx.rules, getAccount(ctx.ledger, unit.account), unit);
    if (shortfall > 0n) owed.push({ unit, shortfall });
  }
  if (owed.length === 0) return deleveraged;
  const loss = owed.reduce((sum, o) => sum + o.shortfall, 0n);
  const bankrupt = new Set(owed.map((o) => o.unit.account));
  const split = ctx.fastPaths ? shareLossOverIndex(ctx, bankrupt, loss) : shareLoss(ctx, bankrupt, loss);
  if (!split) return deleveraged;
  const received = largestRemainder(split.amount, owed.map((o) => o.shortfall));
  const losses = owed.flatMap((o, i) => (received[i]! > 0n ? [{ ...unitFields(o.unit), amount: received[i]! }] : []));
  const shares = split.shares.flatMap((s) => chargedPositions(ctx, s.account, s.amount));
  ctx.emit({ type: 'LossSocialized', ts: ctx.ts, account: losses[0]!.account, ...(losses[0]!.instrument === undefined ? {} : { instrument: losses[0]!.instrument }), amount: split.amount, losses, shares });
  for (const s of split.shares) ctx.touch(s.account);
  return true;
}

/**
 * `amount` split pro rata over `weights` (positive, Σ ≥ amount): floor shares,
 * then the leftover units one each by largest remainder, ties by position in
 * the list. Each part is at most its weight.
 */
export function largestRemainder(amount: Fixed, weights: readonly Fixed[]): Fixed[] {
  const total = weights.reduce((s, w) => s + w, 0n);
  const parts = weights.map((w) => (amount * w) / total);
  let leftover = amount - parts.reduce((s, p) => s + p, 0n);
  const order = weights.map((_, i) => i).sort((a, b) => {
    const ra = (amount * weights[a]!) % total;
    const rb = (amount * weights[b]!) % total;
    return ra !== rb ? (ra > rb ? -1 : 1) : a - b;
  });
  for (const i of order) {
    if (leftover === 0n) break;
    parts[i]! += 1n;
    leftover -= 1n;
  }
  return parts;
}

/**
 * An account's share of a socialized loss as charges on its open positions in
 * profit (instrument order), pro rata to their gains: the share is at most the
 * account's net uPnL, so at most the sum of those gains, and each charge at
 * most its position's gain. An isolated position's charge comes from that
 * position's profit, never from the account's free cash.
 */
function chargedPositions(ctx: SagaContext, accountId: string, share: Fixed): { account: string; instrument: string; amount: Fixed }[] {
  const positions = getAccount(ctx.ledger, accountId).positions;
  if (positions.size === 1) {
    // one position (the common case): the account's PnL is that position's, in profit since the account pays
    for (const p of positions.values()) if (p.qty !== 0n) return [{ account: accountId, instrument: p.instrument, amount: share }];
  }
  const gains: { instrument: string; pnl: Fixed }[] = [];
  for (const p of positions.values()) {
    if (p.qty === 0n) continue;
    const instrument = ctx.ledger.instruments.get(p.instrument)!;
    const pnl = unrealizedPnl(p.qty, p.cost, instrument.mark!, instrument.multiplier, instrument.inverse);
    if (pnl > 0n) gains.push({ instrument: p.instrument, pnl });
  }
  gains.sort((a, b) => (a.instrument < b.instrument ? -1 : 1));
  const parts = gains.length === 1 ? [share] : largestRemainder(share, gains.map((g) => g.pnl));
  return gains.flatMap((g, i) => (parts[i]! > 0n ? [{ account: accountId, instrument: g.instrument, amount: parts[i]! }] : []));
}

/**
 * The account shares of a socialized loss, the straightforward way: every
 * account weighed and sorted per call. Pro rata over accounts with positive
 * unrealized PnL (system accounts and `bankrupt` excluded), each at most its
 * PnL: floor shares, then the leftover ledger units one by one by largest
 * remainder, ties by account id. What `fastPaths: false` runs, and the
 * reference for shareLossOverIndex.
 */
export function shareLoss(ctx: SagaContext, bankrupt: ReadonlySet<string>, loss: Fixed): LossShares | undefined {
  const weights: { account: string; pnl: Fixed }[] = [];
  for (const account of ctx.ledger.accounts.values()) {
    if (bankrupt.has(account.id) || isSystemAccount(ctx.rules, account.id)) continue;
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
 * A share per account in profit is the output itself, so this pass remains;
 * it runs once per input (all its bankruptcies' losses together), not once
 * per bankruptcy.
 */
export function shareLossOverIndex(ctx: SagaContext, bankrupt: ReadonlySet<string>, loss: Fixed): LossShares | undefined {
  const weights = bankruptcyIndex(ctx).profitWeights(ctx);
  let total = weights.total;
  for (const id of bankrupt) total -= weights.pnlOf(id);
  if (total === 0n) return undefined;
  const amount = min(loss, total);
  const accounts: string[] = [];
  const amounts: Fixed[] = [];
  const remainders: Fixed[] = [];
  let floors = 0n;
  for (const weight of weights.inProfit) {
    if (bankrupt.has(weight.account)) continue;
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
