import type { TokenRebalanced, Timestamp } from '@clearsim/events';
import { computeRisk } from '@clearsim/margin';
import { abs, SCALE, type Fixed } from '@clearsim/money';
import { ownEntry, type LeveragedToken } from '@clearsim/rules';
import type { SagaContext } from './saga.context';

/**
 * Leveraged tokens (rules `tokens`, docs/rules.md §12), as FTX's BULL/BEAR
 * tokens worked (FTX help centre, "How do leveraged tokens rebalance"): a
 * token is a fund — an account whose equity is the token's NAV — holding one
 * perpetual position. Its leverage is position notional / NAV. It trades back
 * to the target at a fixed time each day, and at once whenever the leverage
 * leaves its band (FTX: above 4× for a 3× token, "33 % higher than its
 * target"):
 *   desired position DP = targetLeverage × NAV / (mark × multiplier),
 *   rebalance = DP − current position, traded at the mark.
 * The rule alone, pure; when it runs is the clearing step's (handle-input.ts).
 */

const DAY_MS = 86_400_000;

/** "HH:MM" or "HH:MM:SS" → milliseconds after midnight UTC. */
export function timeOfDayMs(dailyAt: string): number {
  const [h, m, s = '0'] = dailyAt.split(':');
  return ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000;
}

/**
 * Is a daily rebalance instant (`dailyAt`, UTC) in (after, upTo]? `after` is
 * the log's clock before the input, `upTo` the input's `ts`: the first input
 * at or past the instant rebalances, at its own `ts` and marks.
 */
export function dailyRebalanceDue(dailyAt: string, after: Timestamp, upTo: Timestamp): boolean {
  const offset = timeOfDayMs(dailyAt);
  const lastInstant = Math.floor((upTo - offset) / DAY_MS) * DAY_MS + offset;
  return lastInstant > after;
}

/**
 * The leverage qty × mark × multiplier / NAV, signed (negative: a short
 * token), at 8 decimals truncated toward zero. NAV > 0.
 */
export function tokenLeverage(qty: Fixed, mark: Fixed, multiplier: Fixed, nav: Fixed): Fixed {
  return (qty * mark * multiplier) / (SCALE * nav);
}

/**
 * Is |leverage| outside [min, max]? Cross-multiplied (never divided):
 * |qty × mark × multiplier| > max × NAV (× SCALE for the units), or below min × NAV.
 */
export function outsideBand(band: LeveragedToken['band'], qty: Fixed, mark: Fixed, multiplier: Fixed, nav: Fixed): boolean {
  const exposure = abs(qty * mark * multiplier);
  return exposure > band.max * nav * SCALE || exposure < band.min * nav * SCALE;
}

/**
 * The desired position targetLeverage × NAV / (mark × multiplier), in ledger
 * units, truncated toward zero (a rebalance never overshoots the target).
 */
export function desiredPosition(targetLeverage: Fixed, nav: Fixed, mark: Fixed, multiplier: Fixed): Fixed {
  return (targetLeverage * nav * SCALE) / (mark * multiplier);
}

/**
 * The fund's equity (its NAV), or undefined when the fund account does not
 * exist yet (its NAV is then 0: nothing was paid in).
 */
export function fundNav(ctx: Pick<SagaContext, 'ledger' | 'rules'>, spec: LeveragedToken): Fixed | undefined {
  const fund = ctx.ledger.accounts.get(spec.account);
  return fund ? computeRisk(ctx.ledger, ctx.rules, fund).equity : undefined;
}

/**
 * What a holder pays for `units` (creation, docs/rules.md §12): NAV × units /
 * units outstanding — or, with none outstanding, the issue price `issueNav`
 * per unit × units — rounded up to the ledger's unit: the rounding goes
 * against the holder, so the remaining holders never pay for it.
 */
export function creationCost(units: Fixed, nav: Fixed, outstanding: Fixed, issueNav?: Fixed): Fixed {
  const [numerator, denominator] = outstanding > 0n ? [units * nav, outstanding] : [units * issueNav!, SCALE];
  return (numerator + denominator - 1n) / denominator;
}

/** What a holder receives for `units` (redemption): NAV × units / units outstanding, rounded down (against the holder). NAV ≥ 0. */
export function redemptionProceeds(units: Fixed, nav: Fixed, outstanding: Fixed): Fixed {
  return (units * nav) / outstanding;
}

/** A creation's or redemption's fee: `rate` × the amount at NAV, rounded up (against the holder); 0 without a rate. */
export function unitsFee(amount: Fixed, rate: Fixed | undefined): Fixed {
  return rate === undefined ? 0n : (amount * rate + SCALE - 1n) / SCALE;
}

/** NAV per unit, shown (never compared): NAV / units outstanding at 8 decimals, truncated toward zero. */
export function navPerUnit(nav: Fixed, outstanding: Fixed): Fixed {
  return (nav * SCALE) / outstanding;
}

/**
 * The rebalance a token is due, if any: at the daily instant (`schedule`) or
 * with its leverage out of band (`band`; the schedule wins when both hold).
 * None when the token's fund or counterparty does not exist, its instrument
 * has no mark or is settled, its NAV is not positive (a fund wiped out has
 * nothing to rebalance: the saga liquidates it as any account), or the
 * trade would be zero.
 */
export function tokenRebalance(ctx: SagaContext, token: string, spec: LeveragedToken, previousClock: Timestamp, unitsChanged?: 'creation' | 'redemption'): TokenRebalanced | undefined {
  const fund = ctx.ledger.accounts.get(spec.account);
  const instrument = ctx.ledger.instruments.get(spec.instrument);
  if (!fund || !ctx.ledger.accounts.has(spec.counterparty) || !instrument || instrument.settled || instrument.mark === undefined) return undefined;
  const nav = computeRisk(ctx.ledger, ctx.rules, fund).equity;
  // the last units redeemed took the whole NAV (docs/rules.md §12.1): the emptied fund closes its position
  const emptied = unitsChanged === 'redemption' && nav === 0n;
  if (nav <= 0n && !emptied) return undefined;
  const { mark, multiplier } = instrument;
  const qty = fund.positions.get(spec.instrument)?.qty ?? 0n;
  const scheduled = spec.dailyAt !== undefined && dailyRebalanceDue(spec.dailyAt, previousClock, ctx.ts);
  if (!scheduled && !unitsChanged && !outsideBand(spec.band, qty, mark, multiplier, nav)) return undefined;
  const trade = desiredPosition(spec.targetLeverage, nav, mark, multiplier) - qty;
  if (trade === 0n) return undefined;
  return {
    type: 'TokenRebalanced',
    ts: ctx.ts,
    token,
    account: spec.account,
    counterparty: spec.counterparty,
    instrument: spec.instrument,
    qty: trade,
    price: mark,
    nav,
    // (an emptied fund's leverage is undefined: reported 0)
    leverage: emptied ? 0n : tokenLeverage(qty, mark, multiplier, nav),
    reason: scheduled ? 'schedule' : (unitsChanged ?? 'band'),
  };
}

/**
 * Every token's rebalance due at this input, tokens in id order; each trade
 * is emitted (folded at once, so the next token sees it) and its two parties
 * are scheduled for a margin check. At most one rebalance per token per input:
 * `except` is the token a creation or redemption already rebalanced.
 */
export function rebalanceTokens(ctx: SagaContext, previousClock: Timestamp, except?: string): void {
  const tokens = ctx.rules.tokens;
  if (!tokens) return;
  for (const token of Object.keys(tokens).sort()) {
    if (token === except) continue;
    emitRebalance(ctx, tokenRebalance(ctx, token, tokens[token]!, previousClock));
  }
}

/**
 * A holder's creation or redemption of `token`'s units (docs/rules.md §12.1):
 * its fund trades to the target at the new NAV at once, before any margin
 * check of the input, as FTX's did ("you send in $10,000, and the ETHBULL
 * account buys $30,000 worth of ETH perpetual futures"; a redemption "causes
 * the ETHBULL account to sell back"). The fund is checked after it in any case.
 */
export function rebalanceForUnits(ctx: SagaContext, previousClock: Timestamp, token: string, reason: 'creation' | 'redemption'): void {
  const spec = ownEntry(ctx.rules.tokens, token);
  if (!spec) return;
  emitRebalance(ctx, tokenRebalance(ctx, token, spec, previousClock, reason));
  ctx.touch(spec.account);
}

function emitRebalance(ctx: SagaContext, decision: TokenRebalanced | undefined): void {
  if (!decision) return;
  ctx.emit(decision);
  ctx.touch(decision.account);
  ctx.touch(decision.counterparty);
}
