import { parseFixed, type Fixed } from '@clearsim/money';
import { FundingFormulaSchema } from '@clearsim/rules';
import { fundingRateOf, premiumIndex } from './funding';

const f = (s: string): Fixed => parseFixed(s);
const formula = (raw: Record<string, unknown>) => FundingFormulaSchema.parse(raw);

/*
 * Binance USDⓈ-M ("Introduction to Binance Futures Funding Rates", binance.com/en/support/faq/360033525031):
 * "Funding Rate (F) = Premium Index (P) + clamp (Interest Rate (I) − Premium Index (P), 0.05%, −0.05%)", the interest rate
 * "0.03% per day (0.01% per funding interval)" for 8-hour intervals. The stored copies of that page reachable from here
 * carry the formula but not its numeric example, so these are hand-computed from the published formula.
 */
describe('Binance: F = P + clamp(I − P, −0.05 %, +0.05 %), I = 0.01 % per 8 h', () => {
  const binance = formula({ interestRate: '0.0001', clamp: '0.0005' });

  it('inside the clamp the rate is the interest rate', () => {
    // P 0.02 %: I − P = −0.01 % (inside ±0.05 %) → F = 0.02 % − 0.01 % = 0.01 %
    expect(fundingRateOf(binance, f('0.0002'))).toBe(f('0.0001'));
    // P −0.03 %: I − P = 0.04 % → F = 0.01 %
    expect(fundingRateOf(binance, f('-0.0003'))).toBe(f('0.0001'));
  });

  it('outside it the premium less (or plus) 0.05 %', () => {
    // P 0.1 %: I − P = −0.09 % → clamped to −0.05 % → F = 0.05 %
    expect(fundingRateOf(binance, f('0.001'))).toBe(f('0.0005'));
    // P −0.2 %: I − P = 0.21 % → +0.05 % → F = −0.15 %
    expect(fundingRateOf(binance, f('-0.002'))).toBe(f('-0.0015'));
  });

  it('the cap bounds the result', () => {
    // P 1 %: 1 % − 0.05 % = 0.95 % → capped at 0.3 %; P −1 % → −0.95 % → −0.3 %
    const capped = formula({ interestRate: '0.0001', clamp: '0.0005', cap: '0.003' });
    expect(fundingRateOf(capped, f('0.01'))).toBe(f('0.003'));
    expect(fundingRateOf(capped, f('-0.01'))).toBe(f('-0.003'));
  });
});

/*
 * Deribit ("Funding Specifications", support.deribit.com/hc/en-us/articles/31424939178397):
 * "Premium Rate = ((Mark Price − Deribit Index) / Deribit Index) × 100%", "Funding Rate = Minimum (Maximum_Cap,
 * Maximum (Minimum_Cap, (Maximum (0.025%, Premium Rate) + Minimum (−0.025%, Premium Rate))))",
 * "Time Fraction = Funding Rate Time Period / 8 hours", "Funding Payment = Funding Rate × Position Size × Time Fraction".
 * Its example numbers are not in the stored copy reachable from here: hand-computed from the published formula.
 */
describe('Deribit: dead band ±0.025 %, cap, time fraction', () => {
  const deribit = formula({ deadBand: '0.00025', cap: '0.005' });

  it('the premium rate: (mark − index) / index', () => {
    // mark 50,100, index 50,000: 100 / 50,000 = 0.2 %; mark 49,975: −25 / 50,000 = −0.05 %
    expect(premiumIndex(f('50100'), f('50000'))).toBe(f('0.002'));
    expect(premiumIndex(f('49975'), f('50000'))).toBe(f('-0.0005'));
    // rounded half-even to 10^-8: 1 / 3 = 0.333333333… → 0.33333333
    expect(premiumIndex(f('4'), f('3'))).toBe(f('0.33333333'));
  });

  it('within ±0.025 % the rate is 0; outside it the premium moved 0.025 % towards 0', () => {
    expect(fundingRateOf(deribit, f('0.0002'))).toBe(0n);
    expect(fundingRateOf(deribit, f('-0.00025'))).toBe(0n);
    // 0.2 %: max(0.025 %, 0.2 %) + min(−0.025 %, 0.2 %) = 0.2 % − 0.025 % = 0.175 %
    expect(fundingRateOf(deribit, f('0.002'))).toBe(f('0.00175'));
    // −0.05 %: 0.025 % − 0.05 % = −0.025 %
    expect(fundingRateOf(deribit, f('-0.0005'))).toBe(f('-0.00025'));
    // 0.9 %: 0.875 % capped at 0.5 %
    expect(fundingRateOf(deribit, f('0.009'))).toBe(f('0.005'));
  });

  it('prorated by the time fraction', () => {
    // settled hourly: 0.175 % × 3,600 / 28,800 = 0.021875 %
    expect(fundingRateOf(formula({ deadBand: '0.00025', periodSeconds: 3600 }), f('0.002'))).toBe(f('0.00021875'));
    // every minute: 0.175 % × 60 / 28,800 = 0.00000364583… → 0.00000365 (half-even at 10^-8)
    expect(fundingRateOf(formula({ deadBand: '0.00025', periodSeconds: 60 }), f('0.002'))).toBe(f('0.00000365'));
  });
});

describe('neither clamp nor dead band', () => {
  it('F = P + I', () => {
    expect(fundingRateOf(formula({ interestRate: '0.0001' }), f('0.0003'))).toBe(f('0.0004'));
  });
});
