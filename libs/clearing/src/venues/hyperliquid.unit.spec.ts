import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBoundedYaml } from '@clearsim/rules';
import { Given } from '../testing/given';
import { aliceHolding } from '../testing/alice-holding';

/** A preset of libs/rules/presets as written (the raw object a RulesActivated carries). */
const venuePreset = (name: string): Record<string, unknown> => parseBoundedYaml(readFileSync(join(__dirname, '..', '..', '..', 'rules', 'presets', `${name}.yaml`), 'utf8')) as Record<string, unknown>;

/**
 * hyperliquid (libs/rules/presets/hyperliquid.yaml, docs/venues/hyperliquid.md) against Hyperliquid's published rules.
 * Source: Hyperliquid Docs, Trading → Margin tiers (https://hyperliquid.gitbook.io/hyperliquid-docs/trading/margin-tiers):
 * "maintenance_margin_rate(tier = n) = (Initial Margin Rate at Maximum leverage at tier n) / 2. For example, at 20x max
 * leverage, maintenance_margin_rate = 2.5%", "maintenance_deduction(tier = n) = maintenance_deduction(tier = n - 1) +
 * notional_position_lower_bound(tier = n) * (maintenance_margin_rate(tier = n) - maintenance_margin_rate(tier = n - 1))",
 * and the DOGE testnet tiers 0–20k 10x, 20–100k 5x, >100k 3x. Trading → Auto-deleveraging: opposite positions "closed
 * at the previous oracle price".
 */
const holding = (qty: string, price: string, instrument = 'BTC-PERP', rules = venuePreset('hyperliquid')): Given => aliceHolding(rules, { qty, price, instrument });

describe('hyperliquid reproduces Hyperliquid’s margin tiers', () => {
  it('“at 20x max leverage, maintenance_margin_rate = 2.5%”: SOL (20x) 10,000 notional → MM 250, IM 500', () => {
    const g = holding('100', '100', 'SOL-PERP');
    expect(g.account('alice')).toMatchObject({ maintenanceMargin: '250', initialMargin: '500' });
  });

  it('BTC 40x: MMR (1 ÷ 40) ÷ 2 = 1.25 %: 1 BTC @ 100,000 → MM 1,250, IM 2,500', () => {
    expect(holding('1', '100000').account('alice')).toMatchObject({ maintenanceMargin: '1250', initialMargin: '2500' });
  });

  it('BTC above 150M is 20x: deduction 150,000,000 × (2.5 % − 1.25 %) = 1,875,000; 2,000 BTC @ 100,000 → MM 5,000,000 − 1,875,000 = 3,125,000', () => {
    expect(holding('2000', '100000').account('alice')).toMatchObject({ maintenanceMargin: '3125000', initialMargin: '10000000' });
  });

  it('the DOGE testnet tiers by the published deduction formula: 50,000 notional → 50,000 × 10 % − 1,000 = 4,000', () => {
    // tiers 10x, 5x, 3x: MMR 5 %, 10 %, 16.666667 % (1/3 ÷ 2, rounded up to the ledger's 8 decimals);
    // deductions 0; 0 + 20,000 × (10 % − 5 %) = 1,000; 1,000 + 100,000 × (16.666667 % − 10 %) = 7,666.667
    const rules = venuePreset('hyperliquid');
    const tiers = [
      { upToNotional: '20000', initialRate: '0.1', maintenanceRate: '0.05', maintenanceAmount: '0' },
      { upToNotional: '100000', initialRate: '0.2', maintenanceRate: '0.1', maintenanceAmount: '1000' },
      { initialRate: '0.33333334', maintenanceRate: '0.16666667', maintenanceAmount: '7666.667' },
    ];
    rules.instruments = { ...(rules.instruments as object), 'DOGE-PERP': { tiers } };
    expect(holding('250000', '0.2', 'DOGE-PERP', rules).account('alice')).toMatchObject({ maintenanceMargin: '4000' });
    // continuous at 100,000: 100,000 × 10 % − 1,000 = 9,000 = 100,000 × 16.666667 % − 7,666.667
    expect(holding('500000', '0.2', 'DOGE-PERP', rules).account('alice')).toMatchObject({ maintenanceMargin: '9000' });
  });
});

describe('hyperliquid liquidation and ADL', () => {
  it('liquidates a long when account value < MM: 10,000 with 1 BTC @ 100,000 → liquidation price 90,000 ÷ 0.9875', () => {
    // 10,000 + (m − 100,000) = 1.25 % × m → m = 90,000 ÷ 0.9875 = 91,139.24050632…, rounded up for a long
    const g = new Given(venuePreset('hyperliquid'));
    g.deposit('alice', '10000').deposit('backstop', '100000000');
    g.price('100000');
    g.trade('alice', 'backstop', '1', '100000');
    expect((g.account('alice').positions as Record<string, { liquidationPrice: string }>)['BTC-PERP']!.liquidationPrice).toBe('91139.24050633');
  });

  it('deleverages by the sort index at the mark: the fills recover nothing, the deficit is shared', () => {
    // B (1,000) long 1 @ 10,000 from s1; s2 short 1 @ 12,000 to mm. Mark 8,500: B 1,000 − 1,500 = −500, deficit 500.
    // sort index of a short (entry ÷ mark) × (notional ÷ account value) = |cost| ÷ equity: s1 10,000 ÷ (1,000 + 1,500)
    // = 4; s2 12,000 ÷ (5,000 + 3,500) = 1.41 → s1 closes 1 at the mark 8,500; the 500 goes to s2, the one left in profit
    const g = new Given(venuePreset('hyperliquid'));
    g.deposit('B', '1000').deposit('s1', '1000').deposit('s2', '5000').deposit('mm', '1000000');
    g.price('10000');
    g.trade('B', 's1', '1', '10000');
    g.trade('mm', 's2', '1', '12000');
    const decisions = g.at(60).price('8500');
    expect(decisions.filter((d) => d.type === 'PositionAutoDeleveraged').map((d) => [d.account, d.qty, d.price])).toEqual([['s1', '1', '8500']]);
    expect(decisions.filter((d) => d.type === 'LossSocialized').map((d) => [d.amount, d.shares])).toEqual([['500', [{ account: 's2', instrument: 'BTC-PERP', amount: '500' }]]]);
    expect(g.engine.invariantViolations()).toEqual([]);
  });
});
