import { parseFixed as d, formatFixed, formatFixedPlaces } from '@clearsim/money';
import { fundingPayment } from './ledger';
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

/**
 * Inverse (coin-margined) contracts: face value `multiplier` in USD, every amount in the coin. A quantity's value at p
 * is −qty × face / p, so a long's cost is negative (BitMEX books it so: a long's currentCost is −contracts × 10^8 / price
 * satoshi), unrealized PnL = face × qty × (1/entry − 1/mark), and the entry is the harmonic mean of the fill prices.
 */
describe('inverse contracts: entry, realized and unrealized PnL in coin', () => {
  function inverseFill(face: string, qty: string, cost: string, delta: string, price: string) {
    const notional = tradeNotional(d(delta), d(price), d(face), true);
    const r = applyFill(d(qty), d(cost), d(delta), d(price), d(face), notional, true);
    return { qty: formatFixed(r.qty), cost: formatFixed(r.cost), realized: formatFixed(r.realized), entry: formatFixed(entryPrice(r.qty, r.cost, d(face), true)) };
  }

  it("Deribit's example: 100 contracts of US$10 bought at 600 and sold at 700 make 1000/600 − 1000/700 = 0.238095 BTC", () => {
    // deribit.com/docs/example-futures: "Your profit is 1000/600 – 1000/700 = 0,238095BTC"
    // open: notional 100 × 10 / 600 = 1.666666666… → 1.66666667 (half-even), cost −1.66666667
    // (the display entry 1000 / 1.66666667 = 599.9999988: 600.00 to the cent)
    const opened = inverseFill('10', '0', '0', '100', '600');
    expect(opened).toEqual({ qty: '100', cost: '-1.66666667', realized: '0', entry: '599.9999988' });
    expect(formatFixedPlaces(d(opened.entry), 2)).toBe('600.00');
    // close: notional 1000 / 700 = 1.428571428… → 1.42857143; realized 1.66666667 − 1.42857143 = 0.23809524
    expect(inverseFill('10', '100', '-1.66666667', '-100', '700')).toEqual({ qty: '0', cost: '0', realized: '0.23809524', entry: '0' });
  });

  it("Coinlocally's average opening price: 1,000 @ 5,000 then 2,000 @ 6,000 (1 USD each) average 5,625.00, the harmonic mean", () => {
    // docs.coinlocally.com (coin-margined perpetuals): total BTC value 1000/5000 + 2000/6000 = 0.2 + 0.333333 = 0.533333;
    // average = 3000 / 0.533333 = 5,625.00. Here 2000 / 6000 = 0.33333333 (half-even), cost −0.53333333, and the display entry
    // 3000 / 0.53333333 = 5625.0000351… → 5625.00003516: 5,625.00 to the cent (the fills' notionals are rounded once each)
    const first = inverseFill('1', '0', '0', '1000', '5000');
    expect(first.cost).toBe('-0.2');
    const second = inverseFill('1', '1000', '-0.2', '2000', '6000');
    expect(second).toEqual({ qty: '3000', cost: '-0.53333333', realized: '0', entry: '5625.00003516' });
    expect(formatFixedPlaces(d(second.entry), 2)).toBe('5625.00');
    // the PnL at 5,625 is nil but for rounding: value −3000/5625 = −0.5333333… rounded down (against the account) to
    // −0.53333334, minus the cost −0.53333333 = −0.00000001; at the arithmetic mean 5,666.67 it would be a gain
    expect(formatFixed(unrealizedPnl(d('3000'), d('-0.53333333'), d('5625'), ONE, true))).toBe('-0.00000001');
    expect(unrealizedPnl(d('3000'), d('-0.53333333'), d('5666.67'), ONE, true)).toBeGreaterThan(0n);
  });

  it("Coinlocally's unrealized PnL: long 1,000 @ 5,000 at mark 5,500 makes 0.018181… BTC, short 1,000 @ 5,000 at 4,500 makes 0.022222… BTC", () => {
    // long: 1000 × (1/5000 − 1/5500) = 0.0181818…: value −1000/5500 = −0.181818… rounded down to −0.18181819, minus the cost −0.2
    // = 0.01818181 (the venue shows 0.01819; rounded down here, against the account)
    expect(formatFixed(unrealizedPnl(d('1000'), d('-0.2'), d('5500'), ONE, true))).toBe('0.01818181');
    // short: 1000 × (1/4500 − 1/5000) = 0.0222222…: value 1000/4500 = 0.22222222 (down), minus the cost 0.2 = 0.02222222
    expect(formatFixed(unrealizedPnl(d('-1000'), d('0.2'), d('4500'), ONE, true))).toBe('0.02222222');
  });

  it("Binance COIN-M's formula: 10 contracts of 100 USD long from 50,000 lose 1000 × (1/50000 − 1/40000) = −0.005 BTC at 40,000", () => {
    // binance.com "A Beginner's Guide to Futures Trading": Unrealized PNL = position_size × contract_multiplier × direction × (1/entry − 1/mark)
    const { cost } = inverseFill('100', '0', '0', '10', '50000');
    expect(cost).toBe('-0.02'); // −10 × 100 / 50,000
    expect(formatFixed(unrealizedPnl(d('10'), d(cost), d('40000'), d('100'), true))).toBe('-0.005');
    // a price rise of the same 10,000 gains less: 1000 × (1/50000 − 1/60000) = 0.00333333… (the inverse convexity)
    expect(formatFixed(unrealizedPnl(d('10'), d(cost), d('60000'), d('100'), true))).toBe('0.00333333');
  });

  it('reducing realizes face × closed × (1/entry − 1/price) and keeps the entry; a flip opens the rest at the fill price', () => {
    // long 3,000 (cost −0.53333333, entry ≈ 5,625), sell 1,000 @ 6,500: notional 1000/6500 = 0.15384615; removed cost
    // −0.53333333 × 1000/3000 = −0.17777777(7) → −0.17777778; realized −0.15384615 + 0.17777778 = 0.02393163
    // (1000 × (1/5625 − 1/6500) = 0.0239316…); the rest, cost −0.35555555, keeps the entry 2000 / 0.35555555 = 5625.0000879
    expect(inverseFill('1', '3000', '-0.53333333', '-1000', '6500')).toEqual({ qty: '2000', cost: '-0.35555555', realized: '0.02393163', entry: '5625.00008789' });
    // Deribit's long 100 × $10 @ 600 sold 150 @ 700: fill notional 1500/700 = 2.14285714; the closing 100 are 1.42857143 of it
    // (realized 0.23809524 as above); short 50 opens with the rest, 0.71428571: cost +0.71428571, entry 500/0.71428571 = 700.0000028
    const flipped = inverseFill('10', '100', '-1.66666667', '-150', '700');
    expect(flipped).toMatchObject({ qty: '-50', cost: '0.71428571', realized: '0.23809524' });
    expect(formatFixedPlaces(d(flipped.entry), 2)).toBe('700.00');
  });

  it('funding in coin: face × qty / mark × rate, longs paying shorts on a positive rate, rounded down', () => {
    const instrument = { id: 'XBTUSD', kind: 'perpetual' as const, settlementAsset: 'BTC', multiplier: ONE, premiumStyle: false, inverse: true as const, settled: false };
    // long 10,000 XBTUSD (1 USD each) at mark 8,000, rate 0.01%: pays 10000 / 8000 × 0.0001 = 0.000125 BTC
    expect(formatFixed(fundingPayment({ instrument: 'XBTUSD', qty: d('10000'), cost: 0n, isolatedMargin: 0n }, instrument, d('8000'), d('0.0001')))).toBe('-0.000125');
    // short 3 at mark 7,000: receives 3 / 7000 × 0.0001 = 0.0000000428… → 0.00000004 (down)
    expect(formatFixed(fundingPayment({ instrument: 'XBTUSD', qty: d('-3'), cost: 0n, isolatedMargin: 0n }, instrument, d('7000'), d('0.0001')))).toBe('0.00000004');
  });
});
