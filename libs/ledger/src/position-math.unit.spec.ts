import { parseFixed as d, formatFixed } from '@clearsim/money';
import { applyFill, entryPrice, tradeNotional, unrealizedPnl } from './position-math';

const ONE = d('1');
function fill(qty: string, cost: string, delta: string, price: string) {
  const notional = tradeNotional(d(delta), d(price), ONE);
  const r = applyFill(d(qty), d(cost), d(delta), d(price), ONE, notional);
  return { qty: formatFixed(r.qty), cost: formatFixed(r.cost), realized: formatFixed(r.realized), entry: formatFixed(entryPrice(r.qty, r.cost, ONE)) };
}

describe('average entry and realized PnL', () => {
  it.each([
    // [case, qty, cost, delta, price, → qty, cost, realized, entry]
    // open long 1 @ 10,000
    ['open', '0', '0', '1', '10000', '1', '10000', '0', '10000'],
    // long 1 @ 10,000 + buy 1 @ 12,000 → cost 22,000, entry 22,000 / 2 = 11,000
    ['increase averages the entry', '1', '10000', '1', '12000', '2', '22000', '0', '11000'],
    // long 2 @ 11,000 (cost 22,000), sell 0.5 @ 13,000: removed cost 22,000 × 0.5 / 2 = 5,500; realized 6,500 − 5,500 = 1,000
    ['reduce realizes (price − entry) × qty', '2', '22000', '-0.5', '13000', '1.5', '16500', '1000', '11000'],
    // short 2 @ 10,000 (cost −20,000), buy 1 @ 9,000: removed −10,000; realized −9,000 − (−10,000) = 1,000
    ['reducing a short realizes (entry − price) × qty', '-2', '-20000', '1', '9000', '-1', '-10000', '1000', '10000'],
    // long 2 @ 10,000, sell 3 @ 11,000: close 2 realizes 22,000 − 20,000 = 2,000; opens short 1 @ 11,000
    ['flip closes then opens', '2', '20000', '-3', '11000', '-1', '-11000', '2000', '11000'],
    // long 1 @ 10,000 sold at 9,000: −1,000, flat
    ['close at a loss', '1', '10000', '-1', '9000', '0', '0', '-1000', '0'],
  ])('%s', (_case, qty, cost, delta, price, eQty, eCost, eRealized, eEntry) => {
    expect(fill(qty, cost, delta, price)).toEqual({ qty: eQty, cost: eCost, realized: eRealized, entry: eEntry });
  });

  it('rounds a removed cost half-even and keeps the remainder in the position', () => {
    // long 3 with cost 10 (entry 3.33333333…); sell 1 @ 4: removed cost 10/3 = 3.333333333 → 3.33333333; realized 0.66666667
    expect(fill('3', '10', '-1', '4')).toEqual({ qty: '2', cost: '6.66666667', realized: '0.66666667', entry: '3.33333334' });
  });

  it('values unrealized PnL at mark, rounded down against the account', () => {
    // short 0.00000003 with cost −0.0003 (entry 10,000) at mark 10,000.5: 3e-8 × 10,000.5 = 0.000300015 → −0.00030002 (floor); upnl −0.00000002
    expect(formatFixed(unrealizedPnl(d('-0.00000003'), d('-0.0003'), d('10000.5'), ONE))).toBe('-0.00000002');
  });

  it('books the same half-even notional on both sides with a multiplier', () => {
    // 3 contracts × 101.23 × multiplier 0.01 = 3.0369
    expect(formatFixed(tradeNotional(d('3'), d('101.23'), d('0.01')))).toBe('3.0369');
  });
});
