import { parseRules, RulesError } from './rules';

const base = {
  name: 't',
  model: 'cross',
  accounts: { insurance: 'insurance', fees: 'fees', backstop: 'backstop' },
  instruments: { '*': { tiers: [{ initialRate: '0.1', maintenanceRate: '0.05' }] } },
};

function issues(raw: Record<string, unknown>): string[] {
  try {
    parseRules({ ...base, ...raw });
    return [];
  } catch (error) {
    if (error instanceof RulesError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
}

describe('venueLiquidation and funding rule blocks', () => {
  it('are optional: absent, the rules parse as before (no venueLiquidation, no funding)', () => {
    const rules = parseRules(base);
    expect(rules.venueLiquidation).toBeUndefined();
    expect(rules.funding).toBeUndefined();
  });

  it('take their defaults (dYdX genesis: BA 1, SMMR 0.1)', () => {
    const rules = parseRules({ ...base, venueLiquidation: { fillablePrice: {}, maxLiquidationFee: '0.015' }, funding: { instruments: { '*': { clamp: '0.0005' } } } });
    expect(rules.venueLiquidation).toMatchObject({ fillablePrice: { bankruptcyAdjustment: 100_000_000n, spreadToMaintenanceMarginRatio: 10_000_000n }, maxLiquidationFee: 1_500_000n, stepSizes: {} });
    expect(rules.funding?.instruments['*']).toMatchObject({ clamp: 50_000n, interestRate: 0n, intervalSeconds: 28_800, notionalAt: 'mark' });
  });

  it('refuses what does not compose, naming the field', () => {
    expect(issues({ model: 'portfolio', portfolio: { underlyings: { BTC: { priceScanRange: '0.1' } } }, venueLiquidation: {} })).toEqual([
      'venueLiquidation: venue liquidation mechanics apply to the tiered models (cross, isolated), not to model portfolio',
    ]);
    expect(issues({ venueLiquidation: { fillablePrice: {}, marginShortage: { liquidatorFee: '0.01' } } })).toEqual([
      'venueLiquidation.marginShortage: marginShortage (Drift) prices the fill at mark ∓ liquidatorFee: it does not compose with fillablePrice (dYdX)',
    ]);
    expect(issues({ funding: { instruments: { 'BTC-PERP': { clamp: '0.0005', deadBand: '0.00025' } } } })).toEqual([
      'funding.instruments.BTC-PERP.deadBand: a formula has either a clamp around the interest rate (Binance) or a dead band (Deribit), not both',
    ]);
    expect(issues({ funding: { instruments: { '*': { notionalAt: 'index' } } } })).toEqual(['funding.instruments.*.notionalAt: notionalAt: index needs an index instrument']);
  });

  it('refuses bad values, naming the field', () => {
    expect(issues({ venueLiquidation: { maxLiquidationFee: '1.5' } })).toEqual(['venueLiquidation.maxLiquidationFee: must be a fraction of the fill notional in [0, 1] (0..1)']);
    expect(issues({ venueLiquidation: { positionBlockLimits: { maxPositionPortion: '0' } } })).toEqual(['venueLiquidation.positionBlockLimits.maxPositionPortion: must be a fraction of the position in (0, 1] (0.00000001..1)']);
    expect(issues({ venueLiquidation: { stepSizes: { '*': '0' } } })).toEqual(['venueLiquidation.stepSizes.*: must be greater than 0']);
    expect(issues({ funding: { instruments: { '*': { intervalSeconds: 0 } } } })[0]).toMatch(/^funding\.instruments\.\*\.intervalSeconds: /);
    expect(issues({ venueLiquidation: { partial: { aboveNotional: '100000', portion: '0', cooldownSeconds: 30 } } })).toEqual(['venueLiquidation.partial.portion: must be a fraction of the position in (0, 1] (0.00000001..1)']);
    expect(issues({ venueLiquidation: { partial: { aboveNotional: '100000', portion: '0.2', cooldownSeconds: -1 } } })[0]).toMatch(/^venueLiquidation\.partial\.cooldownSeconds: /);
    expect(issues({ venueLiquidation: { positionOrder: 'random' } })[0]).toMatch(/^venueLiquidation\.positionOrder: /);
    expect(issues({ venueLiquidation: { marginShortage: { liquidatorFee: '0.01', liquidationBuffer: '2' } } })[0]).toMatch(/^venueLiquidation\.marginShortage\.liquidationBuffer: /);
    expect(issues({ venueLiquidation: { backstopBelow: '0' } })).toEqual(['venueLiquidation.backstopBelow: must be a fraction of the maintenance margin in (0, 1] (0.00000001..1)']);
  });

  it("refuses an escalating fee without Drift's liquidator fee to escalate, or with a cap below it", () => {
    const escalatingFee = { maxFee: '0.03', graceSeconds: 600, increasePerSecond: '0.0000025' };
    expect(issues({ venueLiquidation: { escalatingFee } })).toEqual(['venueLiquidation.escalatingFee: escalatingFee escalates the liquidator fee of marginShortage (Drift): it needs marginShortage']);
    expect(issues({ venueLiquidation: { marginShortage: { liquidatorFee: '0.05' }, escalatingFee } })).toEqual(['venueLiquidation.escalatingFee.maxFee: maxFee must be at least marginShortage.liquidatorFee (the base it escalates from)']);
    expect(issues({ venueLiquidation: { marginShortage: { liquidatorFee: '0.01' }, escalatingFee } })).toEqual([]);
  });
});
