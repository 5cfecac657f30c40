import { at, Given, rulesFor } from './testing/given';

/**
 * Multi-asset collateral: USDC and BTC count at price × (1 − haircut); a
 * stablecoin depeg is a price update. Tiers: IM 10 %, MM 5 %.
 */
function book(): Given {
  const g = new Given(rulesFor({ collateral: { USDC: { haircut: '0.02' }, BTC: { haircut: '0.2' } } }));
  g.input({ type: 'InstrumentListed', instrument: 'USDC', kind: 'index' });
  g.input({ type: 'InstrumentListed', instrument: 'BTC', kind: 'index' });
  g.price('1', 'USDC');
  g.price('10000', 'BTC');
  g.deposit('mm', '1000000');
  g.input({ type: 'Deposited', account: 'alice', asset: 'USD', amount: '100' });
  g.input({ type: 'Deposited', account: 'alice', asset: 'USDC', amount: '1000' });
  g.price('10000');
  return g;
}

describe('multi-asset collateral', () => {
  it('counts collateral at price × (1 − haircut)', () => {
    // 100 USD + 1,000 USDC × 1 × 0.98 = 1,080
    const g = book();
    expect(g.account('alice')).toMatchObject({ cash: '100', equity: '1080' });
  });

  it('a stablecoin depeg is a price update that can call the account', () => {
    const g = book();
    // long 1 BTC-PERP @ 10,000: IM 1,000, MM 500; equity 1,080
    g.trade('alice', 'mm', '1', '10000');
    // USDC at 0.5: 100 + 1,000 × 0.5 × 0.98 = 590; mark 9,900: −100 → 490 < MM 495 → call for IM 990 − 490 = 500
    g.at(60).price('9900');
    expect(g.at(120).price('0.5', 'USDC')).toEqual([
      { type: 'MarginCallIssued', ts: at(120), account: 'alice', amount: '500', deadline: at(3720), equity: '490', initialMargin: '990', maintenanceMargin: '495' },
    ]);
    // re-peg: 100 + 980 − 100 = 980 < IM 990: still called; USDC 1.01 → 100 + 989.8 − 100 = 989.8; 1.02 → 999.6 ≥ 990 → met
    expect(g.price('1', 'USDC')).toEqual([]);
    expect(g.price('1.02', 'USDC').map((d) => d.type)).toEqual(['MarginCallMet']);
  });

  it('withdraws collateral only up to free collateral at its haircut value', () => {
    const g = book();
    g.trade('alice', 'mm', '0.5', '10000'); // IM 500: free = 1,080 − 500 = 580
    // 600 USDC counts 588 > 580 → rejected; 590 USDC counts 578.2 ≤ 580 → approved
    expect(g.input({ type: 'WithdrawalRequested', requestId: 'w1', account: 'alice', asset: 'USDC', amount: '600' })[0]).toMatchObject({ type: 'WithdrawalRejected', reason: 'insufficient-free-collateral', freeCollateral: '580' });
    expect(g.input({ type: 'WithdrawalRequested', requestId: 'w2', account: 'alice', asset: 'USDC', amount: '590' })[0]).toMatchObject({ type: 'WithdrawalApproved' });
    expect(g.account('alice')).toMatchObject({ equity: '501.8' }); // 100 + 410 × 0.98
    expect(g.engine.invariantViolations()).toEqual([]);
  });

  it('refuses an asset that is neither cash nor collateral, naming the field', () => {
    const g = book();
    expect(() => g.input({ type: 'Deposited', account: 'alice', asset: 'DOGE', amount: '1' })).toThrow(/field "asset": asset "DOGE" is neither this shard's cash asset "USD" nor a collateral asset of the rules \(USDC, BTC\)/);
  });

  it("refuses an asset named after a member of every object (constructor, toString, __proto__): not the rules' collateral", () => {
    const g = book();
    for (const asset of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      expect(() => g.input({ type: 'Deposited', account: 'alice', asset, amount: '1' })).toThrow(`field "asset": asset "${asset}" is neither this shard's cash asset "USD" nor a collateral asset of the rules (USDC, BTC)`);
    }
    expect(g.account('alice')).toMatchObject({ cash: '100', equity: '1080' });
  });
});

describe('concentration add-on', () => {
  it('charges a rate on the notional above the threshold, on IM and MM', () => {
    // long 3 BTC-PERP @ 10,000 = 30,000 notional; threshold 20,000 at 2 % → add-on 200:
    // IM 3,000 + 200, MM 1,500 + 200
    const g = new Given(rulesFor({ concentration: { BTC: { threshold: '20000', rate: '0.02' } } }));
    g.deposit('alice', '10000').deposit('mm', '1000000');
    g.price('10000');
    g.trade('alice', 'mm', '3', '10000');
    expect(g.account('alice')).toMatchObject({ initialMargin: '3200', maintenanceMargin: '1700' });
  });
});
