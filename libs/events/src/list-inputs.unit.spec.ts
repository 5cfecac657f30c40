import { accountFields } from './account-fields';
import { decodeEvent, decodeLine, encodeEvent, encodeEventGeneric } from './codec';

/** The two inputs with lists (MarketMoved, MultiLegTradeExecuted) through the one codec. */
const ts = '2026-01-01T00:00:00Z';

describe('MarketMoved and MultiLegTradeExecuted in the codec', () => {
  const move = { type: 'MarketMoved', ts, marks: [{ price: 9900, instrument: 'BTC-PERP' }, { instrument: 'BTC', price: '9900.5' }], volatilities: [{ underlying: 'BTC', volatility: '0.6', strike: '10000', expiry: '2026-03-27T08:00:00Z' }] };
  const trade = { type: 'MultiLegTradeExecuted', ts, tradeId: 's1', legs: [{ instrument: 'BTC-PERP', buyer: 'a', seller: 'mm', qty: '1', price: '10000', buyerFee: '-0.5' }, { instrument: 'BTC-0327', buyer: 'mm', seller: 'a', qty: '1', price: '10100' }] };

  it('writes the canonical line (nested keys sorted, decimals as strings, timestamps ISO, defaults filled) and reads it back', () => {
    const event = decodeEvent(move, 'input');
    const line = encodeEvent(event);
    expect(line).toBe(
      '{"type":"MarketMoved","v":1,"ts":"2026-01-01T00:00:00Z","marks":[{"instrument":"BTC-PERP","price":"9900"},{"instrument":"BTC","price":"9900.5"}],' +
        '"volatilities":[{"expiry":"2026-03-27T08:00:00Z","strike":"10000","underlying":"BTC","volatility":"0.6"}]}',
    );
    expect(decodeLine(line, 'any')).toEqual(event);
    const legs = decodeEvent(trade, 'input');
    expect(encodeEvent(legs)).toBe(encodeEventGeneric(legs));
    expect(encodeEvent(legs)).toContain('"legs":[{"buyer":"a","buyerFee":"-0.5","instrument":"BTC-PERP","price":"10000","qty":"1","seller":"mm","sellerFee":"0"},');
    expect(decodeLine(encodeEvent(legs), 'any')).toEqual(legs);
  });

  it('names every account of every leg (venue scope, sharded HTTP refusal)', () => {
    expect(accountFields(decodeEvent(trade, 'input'))).toEqual([
      { field: 'legs.0.buyer', account: 'a' },
      { field: 'legs.0.seller', account: 'mm' },
      { field: 'legs.1.buyer', account: 'mm' },
      { field: 'legs.1.seller', account: 'a' },
    ]);
  });

  it('names the element and field of every refusal', () => {
    const refusal = (raw: object) => {
      try {
        decodeEvent(raw, 'input');
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refusal({ ...move, marks: [{ instrument: 'X', price: '0' }, { instrument: 'Y' }] })).toBe('field "marks.0.price": must be greater than 0; field "marks.1.price": is missing (expected a string or a number)');
    // repeats are looked for once every element is well formed
    expect(refusal({ ...move, marks: [{ instrument: 'X', price: '1' }, { instrument: 'Y', price: '1' }, { instrument: 'X', price: '2' }] })).toBe(
      'field "marks.2.instrument": instrument "X" is already moved by marks.0: one input moves it once',
    );
    expect(refusal({ ...move, marks: [], volatilities: [move.volatilities[0], { ...move.volatilities[0], volatility: '0.7' }] })).toBe(
      'field "volatilities.1.underlying": the volatility of "BTC" at this strike and expiry is already moved by volatilities.0: one input moves it once',
    );
    expect(refusal({ ...trade, legs: [trade.legs[0], { ...trade.legs[1], qty: '-1', fee: '1' }] })).toMatch(/field "legs\.1\.fee": unknown field; field "legs\.1\.qty": must be greater than 0|field "legs\.1\.qty": must be greater than 0; field "legs\.1\.fee": unknown field/);
  });
});
