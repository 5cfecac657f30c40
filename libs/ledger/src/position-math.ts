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
 *
 * Inverse (`inverse`, coin-margined): the notional is |delta| × face / price in
 * coin and a quantity's signed value is −qty × face / price, so the same
 * bookkeeping runs with the value's sign flipped: cost = −Σ qty × face / entry,
 * the average entry is the harmonic mean, and closing realizes
 * face × closed × (1/entry − 1/price) for a long.
 */
export function applyFill(qty: Fixed, cost: Fixed, delta: Fixed, price: Fixed, multiplier: Fixed, notional: Fixed, inverse = false): FillResult {
  // the signed value of a quantity: +notional for a long linear, −notional for a long inverse (−qty × face / price)
  const valueSign = inverse ? -1n : 1n;
  const signedNotional = (delta > 0n ? notional : -notional) * valueSign;
  if (qty === 0n || (qty > 0n) === (delta > 0n)) {
    return { qty: qty + delta, cost: cost + signedNotional, realized: 0n };
  }
  const closed = abs(delta) < abs(qty) ? abs(delta) : abs(qty);
  const flips = abs(delta) > abs(qty);
  // the closing part's share of the fill notional; a flip opens the rest
  const closedNotional = flips ? tradeNotional(closed, price, multiplier, inverse) : notional;
  const removedCost = closed === abs(qty) ? cost : divRound(cost * closed, abs(qty), 'halfEven');
  // selling to close a long receives the notional; buying to close a short pays it
  const realized = (delta < 0n ? closedNotional : -closedNotional) * valueSign - removedCost;
  const remainingQty = qty + (delta > 0n ? closed : -closed);
  if (!flips) {
    return { qty: remainingQty, cost: cost - removedCost, realized };
  }
  const openedNotional = notional - closedNotional;
  return { qty: qty + delta, cost: (delta > 0n ? openedNotional : -openedNotional) * valueSign, realized };
}

/**
 * The trade notional both sides book: |qty| × price × multiplier, rounded half-even;
 * inverse: |qty| × face / price in coin (face = multiplier), rounded half-even.
 */
export function tradeNotional(qty: Fixed, price: Fixed, multiplier: Fixed, inverse = false): Fixed {
  return inverse ? divRound(abs(qty) * multiplier, price, 'halfEven') : mul3(abs(qty), price, multiplier, 'halfEven');
}

/**
 * The signed value of `qty` at `price`, rounded by `rounding`: qty × price × multiplier;
 * inverse: −qty × face / price (in coin). Unrealized PnL is this at the mark minus the cost.
 */
export function positionValue(qty: Fixed, price: Fixed, multiplier: Fixed, inverse: boolean, rounding: 'floor' | 'ceil'): Fixed {
  return inverse ? divRound(-qty * multiplier, price, rounding) : mul3(qty, price, multiplier, rounding);
}

/** Unrealized PnL at `mark`, rounded down (against the account): qty × mark × multiplier − cost (inverse: −qty × face / mark − cost). */
export function unrealizedPnl(qty: Fixed, cost: Fixed, mark: Fixed, multiplier: Fixed, inverse = false): Fixed {
  return positionValue(qty, mark, multiplier, inverse, 'floor') - cost;
}

/**
 * What a position adds to its margin unit's equity at `mark`, rounded down:
 * futures style `qty × mark × multiplier − cost`; premium style (options,
 * whose premium already went through cash) `qty × mark × multiplier`.
 */
export function positionEquityValue(qty: Fixed, cost: Fixed, mark: Fixed, multiplier: Fixed, premiumStyle: boolean, inverse = false): Fixed {
  const value = positionValue(qty, mark, multiplier, inverse, 'floor');
  return premiumStyle ? value : value - cost;
}

/**
 * Average entry price for display: cost ÷ (qty × multiplier), half-even; inverse:
 * −qty × face ÷ cost, the harmonic mean of the fill prices weighted by contracts.
 */
export function entryPrice(qty: Fixed, cost: Fixed, multiplier: Fixed, inverse = false): Fixed {
  if (qty === 0n) return 0n;
  if (inverse) return cost === 0n ? 0n : divRound(-qty * multiplier, cost, 'halfEven');
  return divRound(cost * 10n ** 16n, qty * multiplier, 'halfEven');
}
