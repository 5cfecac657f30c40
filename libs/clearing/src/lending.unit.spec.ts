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
    // and in the account's view (account --json, the run summary): 16,500 / 15,000 = 1.1, rounded down
    expect(g.account('alice').healthFactor).toBe('1.1');
  });

  it('shows the health factor rounded down, and null without debt', () => {
    const g = vault();
    expect(g.account('alice').healthFactor).toBeNull();
    // 20,000 × 0.825 / 15,500 = 1.06451612903… → 1.06451612
    g.input({ type: 'WithdrawalRequested', requestId: 'b', account: 'alice', asset: 'USD', amount: '15500' });
    expect(g.account('alice').healthFactor).toBe('1.06451612');
    // not a lending model: no healthFactor field at all
    const cross = new Given();
    cross.deposit('bob', '10');
    expect(cross.account('bob')).not.toHaveProperty('healthFactor');
  });

  it('liquidates below a health factor of 1 with the close factor and the bonus', () => {
    const g = vault();
    g.input({ type: 'WithdrawalRequested', requestId: 'b', account: 'alice', asset: 'USD', amount: '15000' });
    // ETH 1,850: HF = 18,500 × 0.825 / 15,000 = 1.0175 → nothing
    expect(g.at(60).price('1850', 'ETH')).toEqual([]);
    // ETH 1,800: HF = 18,000 × 0.825 / 15,000 = 0.99 < 1 → the backstop repays 50 % × 15,000 = 7,500 and takes
    // (Aave's rounding) base 7,500 / 1,800 = 4.16666666 (down) × 1.05 = 4.374999993 → 4.37499999 ETH (half up);
    // after: 5.62500001 ETH (10,125.00) against 7,500 → HF ≈ 1.11375, stop
    expect(g.at(120).price('1800', 'ETH')).toEqual([
      { type: 'LiquidationStarted', ts: at(120), account: 'alice', equity: '3000', maintenanceMargin: '3150', reason: 'below-maintenance' },
      { type: 'CollateralLiquidated', ts: at(120), account: 'alice', asset: 'ETH', amount: '4.37499999', price: '1800', repaid: '7500', counterparty: 'backstop' },
    ]);
    expect(g.account('alice')).toMatchObject({ cash: '-7500', collateral: { ETH: '5.62500001' } });
    expect(g.account('backstop')).toMatchObject({ cash: '992500', collateral: { ETH: '4.37499999' } });
    expect(g.engine.invariantViolations()).toEqual([]);
  });

  it('debt left without collateral is bad debt for the insurance fund', () => {
    const g = vault();
    g.deposit('insurance', '100');
    g.input({ type: 'WithdrawalRequested', requestId: 'b', account: 'alice', asset: 'USD', amount: '16000' });
    // ETH crashes to 1,000: collateral 10,000 against 16,000. Repay 8,000 for 8,400 of ETH (8.4 ETH);
    // then 1.6 ETH (1,600) against 8,000: HF 0.165; repay 4,000 would need 4.2 ETH — only 1.6: take it all,
    // repaying 1,600 / 1.05 = 1,523.809523809… → 1,523.80952381 (half up); 6,476.19047619 of debt is left with no
    // collateral → bankrupt, the fund pays 100, no one has positive PnL to share the rest: bad debt
    const decisions = g.at(60).price('1000', 'ETH');
    expect(decisions.map((d) => d.type)).toEqual(['LiquidationStarted', 'CollateralLiquidated', 'CollateralLiquidated', 'AccountBankrupted', 'InsuranceFundDrawn']);
    expect(decisions[2]).toMatchObject({ amount: '1.6', repaid: '1523.80952381' });
    expect(decisions[3]).toMatchObject({ deficit: '6476.19047619' });
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

/**
 * Aave v3.3's liquidation rules with its constants (the defi-lending preset): close factor 50 % above HF 0.95 and
 * 100 % at or below it (CLOSE_FACTOR_HF_THRESHOLD), 100 % when the collateral asset or the debt is worth less than
 * 2,000 (MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD), at least 1,000 of debt and collateral left by a partial liquidation
 * (MIN_LEFTOVER_BASE), and 10 % of the bonus to the protocol (liquidationProtocolFee), here the `fees` account.
 */
function aave(): Given {
  const g = new Given(
    rulesFor({
      model: 'lending',
      marginCall: { graceSeconds: 0 },
      instruments: {},
      lending: {
        assets: { ETH: { ltv: '0.8', liquidationThreshold: '0.825', liquidationProtocolFee: '0.1' }, USDC: { ltv: '0.77', liquidationThreshold: '0.8', liquidationProtocolFee: '0.1' } },
        closeFactor: '0.5',
        closeFactorHfThreshold: '0.95',
        minBaseMaxCloseFactorThreshold: '2000',
        minLeftoverBase: '1000',
        liquidationBonus: '0.05',
      },
    }),
  );
  g.input({ type: 'InstrumentListed', instrument: 'ETH', kind: 'index' });
  g.input({ type: 'InstrumentListed', instrument: 'USDC', kind: 'index' });
  g.price('2000', 'ETH');
  g.price('1', 'USDC');
  g.deposit('backstop', '1000000');
  return g;
}

function borrower(g: Given, eth: string, borrow: string): void {
  g.input({ type: 'Deposited', account: 'alice', asset: 'ETH', amount: eth });
  expect(g.input({ type: 'WithdrawalRequested', requestId: 'b', account: 'alice', asset: 'USD', amount: borrow })[0]).toMatchObject({ type: 'WithdrawalApproved' });
}

describe('Aave v3.3 close factor, dust rule and protocol fee', () => {
  it('HF above 0.95: 50 % of the debt; the protocol takes 10 % of the bonus', () => {
    const g = aave();
    borrower(g, '10', '15000');
    // ETH 1,800: HF = 18,000 × 0.825 / 15,000 = 0.99, in (0.95, 1); collateral 18,000 and debt 15,000 ≥ 2,000 → 50 %:
    // repay 7,500; base 7,500 / 1,800 = 4.16666666, seized × 1.05 → 4.37499999 ETH;
    // bonus part 4.37499999 − 4.37499999 / 1.05 (= 4.16666666) = 0.20833333; protocol fee 10 % → 0.02083333 ETH;
    // the liquidator gets 4.37499999 − 0.02083333 = 4.35416666 ETH
    expect(g.at(60).price('1800', 'ETH').slice(1)).toEqual([
      { type: 'CollateralLiquidated', ts: at(60), account: 'alice', asset: 'ETH', amount: '4.35416666', price: '1800', repaid: '7500', counterparty: 'backstop', protocolFee: '0.02083333' },
    ]);
    expect(g.account('alice')).toMatchObject({ cash: '-7500', collateral: { ETH: '5.62500001' } });
    expect(g.account('fees').collateral).toEqual({ ETH: '0.02083333' });
    expect(g.engine.invariantViolations()).toEqual([]);
  });

  it('HF at or below 0.95: the whole debt in one liquidation', () => {
    const g = aave();
    borrower(g, '10', '15000');
    // ETH 1,700: HF = 17,000 × 0.825 / 15,000 = 0.935 ≤ 0.95 → repay all 15,000: base 15,000 / 1,700 = 8.82352941,
    // × 1.05 = 9.2647058805 → 9.26470588 ETH; bonus part 9.26470588 − 8.82352941 = 0.44117647, fee 10 % → 0.04411765;
    // the liquidator gets 9.22058823; alice keeps 0.73529412 ETH and owes nothing
    expect(g.at(60).price('1700', 'ETH').slice(1)).toEqual([
      { type: 'CollateralLiquidated', ts: at(60), account: 'alice', asset: 'ETH', amount: '9.22058823', price: '1700', repaid: '15000', counterparty: 'backstop', protocolFee: '0.04411765' },
    ]);
    expect(g.account('alice')).toMatchObject({ cash: '0', collateral: { ETH: '0.73529412' } });
    expect(g.engine.invariantViolations()).toEqual([]);
  });

  it('a debt below 2,000: the whole debt even above HF 0.95', () => {
    const g = aave();
    borrower(g, '1', '1500');
    // ETH 1,800: HF = 1,800 × 0.825 / 1,500 = 0.99; debt 1,500 < 2,000 → 100 %: base 1,500 / 1,800 = 0.83333333,
    // × 1.05 = 0.8749999965 → 0.875 ETH; bonus part 0.875 − 0.83333333 = 0.04166667, fee → 0.00416667
    expect(g.at(60).price('1800', 'ETH').slice(1)).toEqual([
      { type: 'CollateralLiquidated', ts: at(60), account: 'alice', asset: 'ETH', amount: '0.87083333', price: '1800', repaid: '1500', counterparty: 'backstop', protocolFee: '0.00416667' },
    ]);
  });

  it('dust: a 50 % liquidation that would leave 425 of ETH clears the ETH instead', () => {
    const g = aave();
    // alice: 1 ETH and 1,600 USDC, borrows 3,000 at ETH 2,400 (borrowing power 1,920 + 1,232 = 3,152)
    g.price('2400', 'ETH');
    g.input({ type: 'Deposited', account: 'alice', asset: 'USDC', amount: '1600' });
    borrower(g, '1', '3000');
    // ETH 2,000: HF = (2,000 × 0.825 + 1,600 × 0.8) / 3,000 = 0.97667 → 50 %: repay 1,500 for 0.7875 ETH, leaving
    // 0.2125 ETH = 425 < 1,000 (and 1,500 of debt): dust. So the whole debt: 3,000 would need 1.575 ETH, there is 1:
    // all of it, repaying 2,000 / 1.05 = 1,904.76190476; bonus part 1 − 0.95238095 = 0.04761905, fee → 0.00476191
    expect(g.at(60).price('2000', 'ETH').slice(1)).toEqual([
      { type: 'CollateralLiquidated', ts: at(60), account: 'alice', asset: 'ETH', amount: '0.99523809', price: '2000', repaid: '1904.76190476', counterparty: 'backstop', protocolFee: '0.00476191' },
    ]);
    // left: 1,600 USDC (× 0.8 = 1,280) against 1,095.23809524 → HF 1.17, no further liquidation
    expect(g.account('alice')).toMatchObject({ cash: '-1095.23809524', collateral: { USDC: '1600' } });
    expect(g.engine.invariantViolations()).toEqual([]);
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
