import { decodeEvent, encodeEvent, type InputEvent } from '@clearsim/events';
import { ClearingEngine } from './clearing-engine';
import { InputRejected } from './validate';
import { at, Given, rulesFor } from './testing/given';

/**
 * Inverse (coin-margined) contracts end to end: XBTUSD-like perpetuals of face value `multiplier` USD, settled in BTC,
 * the shard's cash asset, so balances, margin, fees, funding, the insurance fund and ADL are all in BTC.
 * Default test rules: IM 10%, MM 5% of the coin notional |qty| × face / mark; grace 3,600 s; immediate liquidation
 * below 0.5 × MM; step 1; no slippage; liquidation fee 1% of the closed coin notional; losses socialized.
 */
const XBTUSD = { instrument: 'XBTUSD', kind: 'perpetual', underlying: 'BTC', settlementAsset: 'BTC', multiplier: '1', payoff: 'inverse' };

function setup(rules = rulesFor()): Given {
  const g = new Given(rules, XBTUSD);
  g.deposit('alice', '0.1').deposit('mm', '1000').deposit('insurance', '1');
  g.price('10000', 'XBTUSD');
  return g;
}

function refusal(engine: ClearingEngine, raw: Record<string, unknown>): { code: string; field: string } {
  const input = decodeEvent({ ts: at(0), ...raw }, 'input') as InputEvent;
  try {
    engine.handle(input);
  } catch (error) {
    if (error instanceof InputRejected) return { code: error.code, field: error.issues[0]!.field };
    throw error;
  }
  throw new Error('accepted');
}

describe('listing an inverse instrument', () => {
  it('encodes payoff only when given: a linear listing keeps its bytes', () => {
    const linear = decodeEvent({ type: 'InstrumentListed', ts: at(0), instrument: 'BTC-PERP', kind: 'perpetual' }, 'input') as InputEvent;
    expect(encodeEvent(linear)).not.toContain('payoff');
    const inverse = decodeEvent({ type: 'InstrumentListed', ts: at(0), ...XBTUSD }, 'input') as InputEvent;
    expect(encodeEvent(inverse)).toContain('"payoff":"inverse"');
  });

  it('makes the coin the cash asset; an inverse instrument in a shard whose cash asset is another is refused, naming the field', () => {
    const g = new Given(); // BTC-PERP, linear in USD
    expect(refusal(g.engine, { type: 'InstrumentListed', ...XBTUSD })).toEqual({ code: 'wrong-asset', field: 'settlementAsset' });
    expect(g.engine.state.ledger.instruments.has('XBTUSD')).toBe(false);
  });

  it('refuses an inverse option or index, an option on an inverse underlying, and rules that value positions linearly', () => {
    const g = setup();
    expect(refusal(g.engine, { type: 'InstrumentListed', ...XBTUSD, instrument: 'X-IDX', kind: 'index' })).toEqual({ code: 'unsupported-payoff', field: 'payoff' });
    expect(refusal(g.engine, { type: 'InstrumentListed', instrument: 'X-C', kind: 'option', underlying: 'XBTUSD', settlementAsset: 'BTC', optionType: 'call', strike: '10000', expiry: at(86400) })).toEqual({
      code: 'unsupported-payoff',
      field: 'underlying',
    });
    const portfolio = rulesFor({ model: 'portfolio', portfolio: { underlyings: { BTC: { priceScanRange: '0.1', volScanRange: '0.2' } } } });
    expect(refusal(g.engine, { type: 'RulesActivated', rules: portfolio })).toEqual({ code: 'unsupported-payoff', field: 'rules.model' });
    const tokens = { BTCBULL: { instrument: 'XBTUSD', account: 'bull', counterparty: 'mm', targetLeverage: '3', band: { min: '2', max: '4' } } };
    expect(refusal(g.engine, { type: 'RulesActivated', rules: rulesFor({ tokens }) })).toEqual({ code: 'unsupported-payoff', field: 'rules.tokens' });
    // the venue mechanics compose (they measure an inverse position in its coin): accepted
    g.input({ type: 'RulesActivated', rules: rulesFor({ name: 'venue', venueLiquidation: { fillablePrice: {} }, venueMargin: { instruments: { '*': { sizeScaling: { kind: 'linear', initialPerUnit: '0.00005', maintenancePerUnit: '0.00005' } } } } }) });
    expect(g.engine.state.rules!.name).toBe('venue');
    // nothing changed by a refusal: the rules are the venue rules just accepted, and no instrument was added
    expect(g.engine.state.rules!.model).toBe('cross');
    expect([...g.engine.state.ledger.instruments.keys()]).toEqual(['XBTUSD']);
    // and under VaR rules an inverse listing is refused
    const varShard = ClearingEngine.create();
    varShard.handle(decodeEvent({ type: 'RulesActivated', ts: at(0), rules: rulesFor({ model: 'var', var: { confidence: '0.95', lookback: 20, horizonDays: 1 } }) }, 'input') as InputEvent);
    expect(refusal(varShard, { type: 'InstrumentListed', ...XBTUSD })).toEqual({ code: 'unsupported-payoff', field: 'payoff' });
  });
});

describe('margin, PnL and funding in coin', () => {
  it("Deribit's example: 100 contracts of US$10 at 600 need 4% of $1,000 = 40/600 = 0.0666 BTC", () => {
    // deribit.com/docs/example-futures: "The margin you required to purchase US $1000 worth of contracts is $40 dollar
    // (4% of $1000) and thus 40/600BTC= 0,0666BTC". Notional 1000/600 = 1.66666667 (up); IM 4% of it = 0.0666666668 → 0.06666667 (up)
    const g = new Given(rulesFor({ instruments: { '*': { tiers: [{ initialRate: '0.04', maintenanceRate: '0.02' }] } } }), { ...XBTUSD, instrument: 'BTC-FUT', kind: 'future', multiplier: '10' });
    g.deposit('alice', '1').deposit('mm', '100');
    g.trade('alice', 'mm', '100', '600', 'BTC-FUT');
    expect(g.account('alice')).toMatchObject({ initialMargin: '0.06666667', maintenanceMargin: '0.03333334' });
    // sold at 700 (mark 700): realized 1000/600 − 1000/700 = 1.66666667 − 1.42857143 = 0.23809524 BTC, cash 1.23809524
    g.price('700', 'BTC-FUT');
    g.trade('mm', 'alice', '100', '700', 'BTC-FUT');
    expect(g.cash('alice')).toBe('1.23809524');
    expect(g.cash('mm')).toBe('99.76190476');
  });

  it('shows the harmonic entry, the coin PnL and the liquidation price where equity meets MM', () => {
    const g = setup();
    g.trade('alice', 'mm', '5000', '10000', 'XBTUSD');
    g.price('12500', 'XBTUSD');
    g.trade('alice', 'mm', '5000', '12500', 'XBTUSD');
    // cost −(5000/10000 + 5000/12500) = −(0.5 + 0.4) = −0.9; entry 10000 / 0.9 = 11,111.11 (the harmonic mean, not 11,250)
    // at mark 12,500: PnL = −10000/12500 + 0.9 = 0.1; equity 0.2; MM 5% × 0.8 = 0.04, IM 0.08
    const view = g.account('alice');
    expect(view).toMatchObject({ equity: '0.2', maintenanceMargin: '0.04', initialMargin: '0.08' });
    const position = (view.positions as Record<string, Record<string, unknown>>).XBTUSD!;
    expect(position).toMatchObject({ qty: '10000', entryPrice: '11111.11111111', unrealizedPnl: '0.1' });
    // liquidation price: 0.1 + 0.9 − 10000/m = 0.05 × 10000/m ⇔ m = 10000 × 1.05 / 1.0 = 10,500
    expect(position.liquidationPrice).toBe('10500');
    // (a display figure: at 10,500 itself the ledger rounds against the account, equity 0.04761904 < MM 0.04761905.)
    // A dollar above it: equity 1.0 − 10000/10501 = 1.0 − 0.95229026 (value rounded down) = 0.04770974 ≥ MM
    // 5% × 0.95229026 = 0.04761452: no call
    expect(g.at(60).price('10501', 'XBTUSD')).toEqual([]);
    // a dollar below it is called
    expect(g.at(120).price('10499', 'XBTUSD').map((d) => d.type)).toEqual(['MarginCallIssued']);
  });

  it('pays funding in coin: face × qty / mark × rate', () => {
    const g = setup();
    g.trade('alice', 'mm', '10000', '10000', 'XBTUSD');
    g.price('9900', 'XBTUSD');
    // long 10,000 at mark 9,900, rate 0.01%: 10000/9900 × 0.0001 = 0.000101010…; each side rounded down (against it):
    // alice pays 0.00010102, mm receives 0.00010101, the unit left over goes to the fee collector
    expect(g.input({ type: 'FundingRateApplied', instrument: 'XBTUSD', rate: '0.0001' })).toEqual([
      { type: 'FundingSettled', ts: at(0), account: 'alice', instrument: 'XBTUSD', rate: '0.0001', amount: '-0.00010102' },
      { type: 'FundingSettled', ts: at(0), account: 'mm', instrument: 'XBTUSD', rate: '0.0001', amount: '0.00010101' },
      { type: 'FundingSettled', ts: at(0), account: 'fees', instrument: 'XBTUSD', rate: '0.0001', amount: '0.00000001' },
    ]);
    expect(g.cash('alice')).toBe('0.09989898');
  });
});

describe('settlement of an inverse future at expiry', () => {
  it('realizes face × qty × (1/entry − 1/settlement) in coin, each side rounded down, the residual to the fee account', () => {
    const g = new Given(rulesFor(), { ...XBTUSD, instrument: 'XBT-FUT', kind: 'future', multiplier: '100', expiry: at(86400) });
    g.deposit('alice', '1').deposit('mm', '100');
    g.trade('alice', 'mm', '10', '10000', 'XBT-FUT');
    // 10 × 100 USD from 10,000 settled at 12,000: 1000 × (1/10000 − 1/12000) = 0.1 − 0.0833… : alice's value
    // −1000/12000 = −0.08333333(3) → −0.08333334 (down), minus her cost −0.1 = +0.01666666; mm's 0.08333333 − 0.1 =
    // −0.01666667; the unit between them (Σ of the rounded values is −0.00000001) goes to the fee account
    g.at(86400).input({ type: 'InstrumentSettled', instrument: 'XBT-FUT', price: '12000' });
    expect(g.cash('alice')).toBe('1.01666666');
    expect(g.cash('mm')).toBe('99.98333333');
    expect(g.cash('fees')).toBe('0.00000001');
    expect(g.engine.invariantViolations()).toEqual([]);
  });
});

describe('liquidation and bankruptcy in coin', () => {
  it('liquidates an inverse long at the mark with a fee of 1% of the coin notional', () => {
    const g = setup();
    g.trade('alice', 'mm', '10000', '10000', 'XBTUSD');
    // mark 9,300: value −10000/9300 = −1.07526881(7) → −1.07526882 (down); equity 0.1 + 1 − 1.07526882 = 0.02473118;
    // MM = 5% × 1.07526882 (notional, up) = 0.05376345 (up); 0.5 × MM = 0.02688172 > equity → liquidated at once.
    // Closed at 9,300: notional 1.07526882 (half-even), realized 1 − 1.07526882 = −0.07526882; fee 1% = 0.01075269 (up),
    // below the equity left 0.02473118
    expect(g.at(60).price('9300', 'XBTUSD')).toEqual([
      { type: 'LiquidationStarted', ts: at(60), account: 'alice', equity: '0.02473118', maintenanceMargin: '0.05376345', reason: 'below-immediate-threshold' },
      { type: 'PositionLiquidated', ts: at(60), account: 'alice', instrument: 'XBTUSD', qty: '-10000', price: '9300', counterparty: 'backstop', fee: '0.01075269' },
    ]);
    // 0.1 − 0.07526882 − 0.01075269 = 0.01397849 BTC left; the fund got the fee
    expect(g.cash('alice')).toBe('0.01397849');
    expect(g.cash('insurance')).toBe('1.01075269');
  });

  it('a bankrupt inverse short is deleveraged at its bankruptcy price face·q / (face·q/entry − margin) = 10000 / (1 − 0.1) = 11,111.11', () => {
    const g = setup(rulesFor({ bankruptcy: 'adl' }));
    g.input({ type: 'WithdrawalRequested', requestId: 'w1', account: 'insurance', asset: 'BTC', amount: '1' });
    g.trade('mm', 'alice', '10000', '10000', 'XBTUSD');
    // mark 11,500: alice's short closed there (the liquidation price, no slippage) realizes 10000/11500 − 1 =
    // 0.86956522 (half-even) − 1 = −0.13043478: bankrupt by 0.03043478, the fund empty. ADL: mm (long, in profit) takes the
    // 10,000 back at p = exit × F / (F + share × exit) = 11500 × 10000 / (10000 + 0.03043478 × 11500) rounded down
    // = 115,000,000 / 10,349.99997 = 11,111.11114331 (the bankrupt short buys: lower is in her favour), where her realized
    // loss 10000/p − 1 = 0.9 (half-even) − 1 = −0.1 is her whole margin
    const decisions = g.at(60).price('11500', 'XBTUSD');
    expect(decisions.map((d) => d.type)).toEqual(['LiquidationStarted', 'AccountBankrupted', 'PositionAutoDeleveraged']);
    expect(decisions[1]).toMatchObject({ deficit: '0.03043478' });
    expect(decisions[2]).toMatchObject({ account: 'mm', qty: '-10000', price: '11111.11114331', counterparty: 'alice' });
    // alice ends at zero; nothing socialized, money conserved
    expect(g.cash('alice')).toBe('0');
    expect(g.engine.invariantViolations()).toEqual([]);
  });

  it('a bankrupt inverse long takes the insurance fund in BTC', () => {
    const g = setup();
    g.trade('alice', 'mm', '10000', '10000', 'XBTUSD');
    // mark 8,000: value −10000/8000 = −1.25, PnL −0.25, equity −0.15: bankrupt by 0.15 BTC, drawn from the fund's 1 BTC
    const decisions = g.at(60).price('8000', 'XBTUSD');
    expect(decisions.map((d) => d.type)).toEqual(['LiquidationStarted', 'AccountBankrupted', 'InsuranceFundDrawn', 'PositionLiquidated']);
    expect(decisions[1]).toMatchObject({ deficit: '0.15' });
    expect(g.cash('alice')).toBe('0');
    expect(g.cash('insurance')).toBe('0.85');
    expect(g.engine.invariantViolations()).toEqual([]);
  });
});
