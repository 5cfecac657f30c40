import { healthFactor } from '@clearsim/margin';
import { at, Given, rulesFor } from './testing/given';

/**
 * DeFi lending, Aave v3 style: ETH collateral with LTV 80 % and liquidation
 * threshold 82.5 %, close factor 50 %, liquidation bonus 5 %.
 */
function vault(): Given {
  const g = new Given(
    rulesFor({
      model: 'lending',
      marginCall: { graceSeconds: 0 },
      instruments: {},
      lending: { assets: { ETH: { ltv: '0.8', liquidationThreshold: '0.825' } }, closeFactor: '0.5', liquidationBonus: '0.05' },
    }),
  );
  g.input({ type: 'InstrumentListed', instrument: 'ETH', kind: 'index' });
  g.price('2000', 'ETH');
  g.deposit('backstop', '1000000');
  // alice: 10 ETH = 20,000 of collateral
  g.input({ type: 'Deposited', account: 'alice', asset: 'ETH', amount: '10' });
  return g;
}

describe('DeFi lending', () => {
  it('borrows up to LTV × collateral', () => {
    const g = vault();
    // borrowing power 80 % × 20,000 = 16,000: 16,001 is refused, 15,000 is lent (cash goes to −15,000)
    expect(g.input({ type: 'WithdrawalRequested', requestId: 'b1', account: 'alice', asset: 'USD', amount: '16001' })[0]).toMatchObject({ type: 'WithdrawalRejected', freeCollateral: '16000' });
    expect(g.input({ type: 'WithdrawalRequested', requestId: 'b2', account: 'alice', asset: 'USD', amount: '15000' })[0]).toMatchObject({ type: 'WithdrawalApproved' });
    // HF = 20,000 × 0.825 / 15,000 = 1.1
    const { ledger, rules } = g.engine.state;
    expect(healthFactor(ledger, rules!, ledger.accounts.get('alice')!)).toBeCloseTo(1.1, 12);
  });

  it('liquidates below a health factor of 1 with the close factor and the bonus', () => {
    const g = vault();
    g.input({ type: 'WithdrawalRequested', requestId: 'b', account: 'alice', asset: 'USD', amount: '15000' });
    // ETH 1,850: HF = 18,500 × 0.825 / 15,000 = 1.0175 → nothing
    expect(g.at(60).price('1850', 'ETH')).toEqual([]);
    // ETH 1,800: HF = 18,000 × 0.825 / 15,000 = 0.99 < 1 → the backstop repays 50 % × 15,000 = 7,500 and takes
    // 7,500 × 1.05 / 1,800 = 4.375 ETH; after: 5.625 ETH (10,125) against 7,500 → HF = 1.11375, stop
    expect(g.at(120).price('1800', 'ETH')).toEqual([
      { type: 'LiquidationStarted', ts: at(120), account: 'alice', equity: '3000', maintenanceMargin: '3150', reason: 'below-maintenance' },
      { type: 'CollateralLiquidated', ts: at(120), account: 'alice', asset: 'ETH', amount: '4.375', price: '1800', repaid: '7500', counterparty: 'backstop' },
    ]);
    expect(g.account('alice')).toMatchObject({ cash: '-7500', collateral: { ETH: '5.625' } });
    expect(g.account('backstop')).toMatchObject({ cash: '992500', collateral: { ETH: '4.375' } });
    expect(g.engine.invariantViolations()).toEqual([]);
  });

  it('debt left without collateral is bad debt for the insurance fund', () => {
    const g = vault();
    g.deposit('insurance', '100');
    g.input({ type: 'WithdrawalRequested', requestId: 'b', account: 'alice', asset: 'USD', amount: '16000' });
    // ETH crashes to 1,000: collateral 10,000 against 16,000. Repay 8,000 for 8,400 of ETH (8.4 ETH);
    // then 1.6 ETH (1,600) against 8,000: HF 0.165; repay 4,000 would need 4.2 ETH — only 1.6: take it all,
    // repaying 1,600 / 1.05 = 1,523.80952380; 6,476.19047620 of debt is left with no collateral → bankrupt,
    // the fund pays 100, no one has positive PnL to share the rest: bad debt
    const decisions = g.at(60).price('1000', 'ETH');
    expect(decisions.map((d) => d.type)).toEqual(['LiquidationStarted', 'CollateralLiquidated', 'CollateralLiquidated', 'AccountBankrupted', 'InsuranceFundDrawn']);
    expect(decisions[2]).toMatchObject({ amount: '1.6', repaid: '1523.8095238' });
    expect(decisions[3]).toMatchObject({ deficit: '6476.1904762' });
    expect(g.engine.invariantViolations()).toEqual([]);
  });

  it('refuses withdrawing collateral that secures a loan', () => {
    const g = vault();
    g.input({ type: 'WithdrawalRequested', requestId: 'b', account: 'alice', asset: 'USD', amount: '15000' });
    // 10 ETH secure 15,000: without 1 ETH, borrowing power 80 % × 18,000 = 14,400 < 15,000 → refused
    expect(g.input({ type: 'WithdrawalRequested', requestId: 'w1', account: 'alice', asset: 'ETH', amount: '1' })[0]).toMatchObject({ type: 'WithdrawalRejected', reason: 'insufficient-free-collateral' });
    // 0.5 ETH: 80 % × 19,000 = 15,200 ≥ 15,000 → approved
    expect(g.input({ type: 'WithdrawalRequested', requestId: 'w2', account: 'alice', asset: 'ETH', amount: '0.5' })[0]).toMatchObject({ type: 'WithdrawalApproved' });
  });

  it('refuses trading under a lending model', () => {
    const g = vault();
    g.deposit('bob', '1000');
    expect(() => g.trade('alice', 'bob', '1', '10000')).toThrow(/lending model/);
  });
});

describe('refusals keep their reason code', () => {
  it('through withLocation (as the shell adds file and line)', () => {
    const g = vault();
    try {
      g.trade('alice', 'backstop', '1', '1');
      throw new Error('expected a refusal');
    } catch (error) {
      const located = (error as import('./validate').InputRejected).withLocation('in.jsonl', 7);
      expect(located).toMatchObject({ code: 'no-margin-rules', source: 'in.jsonl', line: 7 });
      expect(located.message).toMatch(/^in\.jsonl:line 7: field "type"/);
    }
  });
});
