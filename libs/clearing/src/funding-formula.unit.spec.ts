import { at, Given, rulesFor } from './testing/given';

/** alice long 2 BTC-PERP from bob at 50,100; BTC-INDEX (kind index) priced at 50,000 unless `indexPrice` is null. */
function book(funding: Record<string, unknown>, indexPrice: string | null = '50000'): Given {
  const g = new Given(rulesFor({ funding: { instruments: { '*': funding } } }));
  g.input({ type: 'InstrumentListed', instrument: 'BTC-INDEX', kind: 'index', underlying: 'BTC' });
  g.deposit('alice', '100000').deposit('bob', '100000');
  g.price('50100');
  if (indexPrice) g.price(indexPrice, 'BTC-INDEX');
  g.trade('alice', 'bob', '2', '50100');
  return g;
}

const fund = (g: Given) => g.at(28800).input({ type: 'FundingRateApplied', instrument: 'BTC-PERP', rate: '0' });

describe('funding from the premium index (rules funding)', () => {
  it('Binance: the premium against the index instrument, interest clamp, paid on the notional at the mark', () => {
    const g = book({ index: 'BTC-INDEX', interestRate: '0.0001', clamp: '0.0005' });
    // P = (50,100 − 50,000) / 50,000 = 0.2 %; F = 0.2 % + clamp(0.01 % − 0.2 %, ±0.05 %) = 0.15 %;
    // alice (long 2) pays 2 × 50,100 × 0.0015 = 150.3, bob receives it
    expect(fund(g)).toEqual([
      { type: 'FundingSettled', ts: at(28800), account: 'alice', instrument: 'BTC-PERP', rate: '0.0015', amount: '-150.3' },
      { type: 'FundingSettled', ts: at(28800), account: 'bob', instrument: 'BTC-PERP', rate: '0.0015', amount: '150.3' },
    ]);
  });

  it('Deribit: dead band, time fraction, notional at the index', () => {
    const g = book({ index: 'BTC-INDEX', deadBand: '0.00025', periodSeconds: 3600, notionalAt: 'index' });
    // F = 0.2 % − 0.025 % = 0.175 % per 8 h; an hour of it: 0.175 % / 8 = 0.021875 %; 2 × 50,000 × 0.00021875 = 21.875
    expect(fund(g).map((d) => [d.account, d.rate, d.amount])).toEqual([
      ['alice', '0.00021875', '-21.875'],
      ['bob', '0.00021875', '21.875'],
    ]);
  });

  it("without an index instrument the input's rate is the premium index", () => {
    const g = book({ interestRate: '0.0001', clamp: '0.0005' }, null);
    // P = 0.3 % (the input's rate) → F = 0.3 % − 0.05 % = 0.25 %: 2 × 50,100 × 0.0025 = 250.5
    expect(g.at(28800).input({ type: 'FundingRateApplied', instrument: 'BTC-PERP', rate: '0.003' }).map((d) => d.amount)).toEqual(['-250.5', '250.5']);
  });

  it('refuses a funding input whose index has no price yet, naming it, and changes nothing', () => {
    const g = book({ index: 'BTC-INDEX', clamp: '0.0005' }, null);
    const before = g.account('alice');
    expect(() => fund(g)).toThrow(/field "instrument": funding of "BTC-PERP": the funding formula's index instrument BTC-INDEX has no price yet/);
    expect(g.account('alice')).toEqual(before);
  });

  it('without rules funding the rate is paid as given (unchanged)', () => {
    const g = new Given(rulesFor());
    g.deposit('alice', '100000').deposit('bob', '100000');
    g.price('50100');
    g.trade('alice', 'bob', '2', '50100');
    // 2 × 50,100 × 0.0001 = 10.02
    expect(g.at(28800).input({ type: 'FundingRateApplied', instrument: 'BTC-PERP', rate: '0.0001' }).map((d) => d.amount)).toEqual(['-10.02', '10.02']);
  });
});
