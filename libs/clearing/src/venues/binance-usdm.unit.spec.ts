import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBoundedYaml } from '@clearsim/rules';
import { Given } from '../testing/given';
import { aliceHolding } from '../testing/alice-holding';

/** A preset of libs/rules/presets as written (the raw object a RulesActivated carries). */
const venuePreset = (name: string): Record<string, unknown> => parseBoundedYaml(readFileSync(join(__dirname, '..', '..', '..', 'rules', 'presets', `${name}.yaml`), 'utf8')) as Record<string, unknown>;

/**
 * binance-usdm (libs/rules/presets/binance-usdm.yaml, docs/venues/binance-usdm.md) against Binance's own numbers.
 * Source: Binance FAQ "How to Calculate Liquidation Price of USDⓈ-M Futures Contracts" (2020-08-14),
 * https://www.binance.com/en/support/faq/b3c689c1f50a44cabb3a84e663b81d93 — "if the position of USDT-margined
 * BTC/USDT Contract is 264,000 USDT, then the maintenance margin rate would be 1%"; "if the position … is 500,000
 * USDT, then the maintenance amount would be 1,300 USDT"; "Maintenance Amount … = 250,000 * (1% - 0.5%) + 50 USDT
 * = 1,300 USDT"; and the liquidation price formula (one-way mode, cross):
 *   LP = (WB − TMM₁ + UPNL₁ + cum_B − Side × Position × EP) ÷ (Position × MMR_B − Side × Position).
 * The FAQ gives no numeric liquidation-price example: the one below is computed by hand from that formula.
 */
const account = (deposit: string, qty: string, entry: string): Given => aliceHolding(venuePreset('binance-usdm'), { deposit, qty, price: entry, backstop: '100000000' });

describe('binance-usdm reproduces Binance’s published bracket examples', () => {
  it('264,000 USDT of BTCUSDT is in the 1 % bracket: MM = 264,000 × 1 % − 1,300 = 1,340; IM 2 % = 5,280', () => {
    const g = account('100000', '5.28', '50000'); // 5.28 × 50,000 = 264,000
    expect(g.account('alice')).toMatchObject({ maintenanceMargin: '1340', initialMargin: '5280' });
  });

  it('500,000 USDT: maintenance amount 1,300 (= 250,000 × (1 % − 0.5 %) + 50): MM = 5,000 − 1,300 = 3,700', () => {
    const g = account('100000', '10', '50000');
    expect(g.account('alice')).toMatchObject({ maintenanceMargin: '3700', initialMargin: '10000' });
  });

  it('MM is continuous at the 250,000 edge: 250,000 × 0.5 % − 50 = 1,200 = 250,000 × 1 % − 1,300', () => {
    const g = account('100000', '5', '50000');
    expect(g.account('alice')).toMatchObject({ maintenanceMargin: '1200' });
  });
});

describe('binance-usdm liquidation price by Binance’s formula (hand-computed, cross, one position)', () => {
  // WB 10,000; long 5 BTC @ 50,000 (notional 250,000: the 0.5 % bracket, cum 50); TMM₁ = UPNL₁ = 0:
  // LP = (10,000 + 50 − 1 × 5 × 50,000) ÷ (5 × 0.005 − 1 × 5) = −239,950 ÷ −4.975 = 48,231.155778894…
  // (its notional 241,155.78 is still in the bracket); rounded against the long, up: 48,231.15577890
  it('shows 48,231.15577890, and liquidates at 48,231.15 but not at 48,231.16, the fund taking the clearance fee', () => {
    const g = account('10000', '5', '50000');
    expect((g.account('alice').positions as Record<string, { liquidationPrice: string }>)['BTC-PERP']!.liquidationPrice).toBe('48231.1557789');
    // 48,231.16: equity 10,000 − 5 × 1,768.84 = 1,155.8 ≥ MM 241,155.8 × 0.5 % − 50 = 1,155.779
    expect(g.at(60).price('48231.16').filter((d) => d.type === 'PositionLiquidated')).toEqual([]);
    // 48,231.15: equity 1,155.75 < MM 1,155.77875 → the whole position closes; clearance fee 0.5 % × 241,155.75
    // = 1,205.77875, but at most the equity left, 1,155.75 (clearsim never makes a fee bankrupt an account; on Binance
    // the margin left after a liquidation goes to the insurance fund)
    const liquidated = g.at(120).price('48231.15').filter((d) => d.type === 'PositionLiquidated');
    expect(liquidated).toEqual([expect.objectContaining({ account: 'alice', qty: '-5', price: '48231.15', fee: '1155.75' })]);
    expect(g.cash('insurance')).toBe('1155.75');
  });
});
