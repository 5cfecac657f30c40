import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBoundedYaml } from '@clearsim/rules';
import { Given } from '../testing/given';
import { aliceHolding } from '../testing/alice-holding';

/** A preset of libs/rules/presets as written (the raw object a RulesActivated carries). */
const venuePreset = (name: string): Record<string, unknown> => parseBoundedYaml(readFileSync(join(__dirname, '..', '..', '..', 'rules', 'presets', `${name}.yaml`), 'utf8')) as Record<string, unknown>;

/**
 * bybit-linear (libs/rules/presets/bybit-linear.yaml, docs/venues/bybit-linear.md) against Bybit's published numbers.
 * Sources: Bybit Help Center "Maintenance Margin (USDT Contract)" — "when you open a BTCUSDT position with a position
 * value of 2,000,000 USDT or below, the maintenance margin rate (MMR) required for the position is 0.5%"; "Any excess
 * beyond a particular tier is subject to the calculation based on the MMR of the new tier", illustrated with XYZUSDT
 * tiers (0–1,000 2 %, 1,000–2,000 2.5 %, 2,000–3,000 3 %, 3,000–4,000 3.5 %, 4,000–5,000 4 %) and "a long position of
 * 100 contracts with 10x leverage at 35 USDT … Position Value = 100 x 35 = 3,500 USDT". Bybit's risk-limit adjustment
 * (BTCUSDT): "when the BTCUSDT position value is 4,000,000 … the maintenance margin rate and initial margin rate … are
 * reduced to 1% and 1.75%" (https://mobie.io/details-of-risk-limit-adjustment-by-bybit).
 */
const holding = (qty: string, price: string, instrument = 'BTC-PERP', rules = venuePreset('bybit-linear')): Given => aliceHolding(rules, { qty, price, instrument });

describe('bybit-linear reproduces Bybit’s published margin figures', () => {
  it('BTCUSDT 2,000,000 USDT or below: MMR 0.5 % — 20 BTC @ 100,000 → MM 10,000, IM 1 % = 20,000', () => {
    expect(holding('20', '100000').account('alice')).toMatchObject({ maintenanceMargin: '10000', initialMargin: '20000' });
  });

  it('4,000,000 USDT: MMR 1 %, IMR 1.75 % — IM 70,000; MM tier by tier 2,000,000 × 0.5 % + 2,000,000 × 1 % = 30,000', () => {
    // = 4,000,000 × 1 % − deduction 10,000 (2,000,000 × (1 % − 0.5 %))
    expect(holding('40', '100000').account('alice')).toMatchObject({ maintenanceMargin: '30000', initialMargin: '70000' });
  });

  it('the other reading (the whole position at the level’s rate, Bybit’s older risk limit) is expressible: maintenanceAmount 0 → 40,000', () => {
    const rules = venuePreset('bybit-linear');
    const btc = (rules.instruments as Record<string, { tiers: Record<string, string>[] }>)['BTC-PERP']!;
    btc.tiers = btc.tiers.map((tier) => ({ ...tier, maintenanceAmount: '0' }));
    expect(holding('40', '100000', 'BTC-PERP', rules).account('alice')).toMatchObject({ maintenanceMargin: '40000' });
  });

  it('Bybit’s XYZUSDT illustration: 100 contracts @ 35 = 3,500 USDT → MM 1,000 × 2 % + 1,000 × 2.5 % + 1,000 × 3 % + 500 × 3.5 % = 92.5', () => {
    // as maintenance amounts: 0; 1,000 × 0.5 % = 5; 5 + 2,000 × 0.5 % = 15; 15 + 3,000 × 0.5 % = 30; 30 + 4,000 × 0.5 % = 50
    // → 3,500 × 3.5 % − 30 = 92.5; IM at 10x = 350
    const rules = venuePreset('bybit-linear');
    const tiers = [
      { upToNotional: '1000', initialRate: '0.1', maintenanceRate: '0.02', maintenanceAmount: '0' },
      { upToNotional: '2000', initialRate: '0.1', maintenanceRate: '0.025', maintenanceAmount: '5' },
      { upToNotional: '3000', initialRate: '0.1', maintenanceRate: '0.03', maintenanceAmount: '15' },
      { upToNotional: '4000', initialRate: '0.1', maintenanceRate: '0.035', maintenanceAmount: '30' },
      { initialRate: '0.1', maintenanceRate: '0.04', maintenanceAmount: '50' },
    ];
    rules.instruments = { ...(rules.instruments as object), 'XYZ-PERP': { tiers } };
    expect(holding('100', '35', 'XYZ-PERP', rules).account('alice')).toMatchObject({ maintenanceMargin: '92.5', initialMargin: '350' });
  });

  it('a liquidated position leaves its remaining margin to the insurance fund', () => {
    // 1,500 with 1 BTC @ 100,000 (MM 500): at 98,600 equity 100 < MM 493 → closed at the mark; the 100 left goes to the fund
    const g = new Given(venuePreset('bybit-linear'));
    g.deposit('alice', '1500').deposit('backstop', '100000000');
    g.price('100000');
    g.trade('alice', 'backstop', '1', '100000');
    expect(g.at(60).price('98600').filter((d) => d.type === 'PositionLiquidated')).toEqual([expect.objectContaining({ account: 'alice', fee: '100' })]);
    expect(g.cash('insurance')).toBe('100');
    expect(g.cash('alice')).toBe('0');
  });
});
