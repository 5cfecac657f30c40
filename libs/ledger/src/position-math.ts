import { abs, divRound, mul3, type Fixed } from '@clearsim/money';

export interface FillResult {
  qty: Fixed;
  cost: Fixed;
  /** Cash realized by the closing part of the fill. */
  realized: Fixed;
}

/**
 * Applies a fill of signed `delta` at `price` to a position (`qty`, `cost`).
 *
 * `notional` is the fill's unsigned cash value `|delta| × price × multiplier`,
 * rounded half-even once per trade so that buyer and seller book the same
 * number (no money is created by rounding). Increasing adds the notional to the
 * cost (averaging the entry); reducing removes the closed share of the cost
 * (half-even) and realizes `closedNotional − removedCost` (sign by side);
 * flipping closes the whole position, then opens the rest at `price`.
 *
 * Worked example: long 2 @ 10,000 (cost 20,000), sell 3 @ 11,000 (notional 33,000):
 * closes 2 → closed notional 22,000, removed cost 20,000, realized +2,000;
 * opens short 1 with cost −(33,000 − 22,000) = −11,000 (entry 11,000).
 */
export function applyFill(qty: Fixed, cost: Fixed, delta: Fixed, price: Fixed, multiplier: Fixed, notional: Fixed): FillResult {
  const signedNotional = delta > 0n ? notional : -notional;
  if (qty === 0n || (qty > 0n) === (delta > 0n)) {
    return { qty: qty + delta, cost: cost + signedNotional, realized: 0n };
  }
  const closed = abs(delta) < abs(qty) ? abs(delta) : abs(qty);
  const flips = abs(delta) > abs(qty);
  // the closing part's share of the fill notional; a flip opens the rest
  const closedNotional = flips ? mul3(closed, price, multiplier, 'halfEven') : notional;
  const removedCost = closed === abs(qty) ? cost : divRound(cost * closed, abs(qty), 'halfEven');
  // selling to close a long receives the notional; buying to close a short pays it
  const realized = (delta < 0n ? closedNotional : -closedNotional) - removedCost;
  const remainingQty = qty + (delta > 0n ? closed : -closed);
  if (!flips) {
    return { qty: remainingQty, cost: cost - removedCost, realized };
  }
  const openedNotional = notional - closedNotional;
  return { qty: qty + delta, cost: delta > 0n ? openedNotional : -openedNotional, realized };
}

/** The trade notional both sides book: |qty| × price × multiplier, rounded half-even. */
export function tradeNotional(qty: Fixed, price: Fixed, multiplier: Fixed): Fixed {
  return mul3(abs(qty), price, multiplier, 'halfEven');
}

/** Unrealized PnL at `mark`, rounded down (against the account): qty × mark × multiplier − cost. */
export function unrealizedPnl(qty: Fixed, cost: Fixed, mark: Fixed, multiplier: Fixed): Fixed {
  return mul3(qty, mark, multiplier, 'floor') - cost;
}

/**
 * What a position adds to its margin unit's equity at `mark`, rounded down:
 * futures style `qty × mark × multiplier − cost`; premium style (options,
 * whose premium already went through cash) `qty × mark × multiplier`.
 */
export function positionEquityValue(qty: Fixed, cost: Fixed, mark: Fixed, multiplier: Fixed, premiumStyle: boolean): Fixed {
  const value = mul3(qty, mark, multiplier, 'floor');
  return premiumStyle ? value : value - cost;
}

/** Average entry price for display: cost ÷ (qty × multiplier), half-even. */
export function entryPrice(qty: Fixed, cost: Fixed, multiplier: Fixed): Fixed {
  if (qty === 0n) return 0n;
  return divRound(cost * 10n ** 16n, qty * multiplier, 'halfEven');
}
