import { parseFixed as d } from '@clearsim/money';
import { intrinsicValue } from './settlement';

describe('intrinsicValue (cash settlement per unit, exact)', () => {
  it.each([
    ['call', '105.5', '100', '5.5'],
    ['call', '95', '100', '0'],
    ['put', '95', '100', '5'],
    ['put', '100.00000001', '100', '0'],
    ['put', '99.99999999', '100', '0.00000001'],
  ] as const)('%s at S = %s, K = %s pays %s', (type, s, k, pays) => {
    expect(intrinsicValue(type, d(s), d(k))).toBe(d(pays));
  });
});
