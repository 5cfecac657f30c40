import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBoundedYaml } from '@clearsim/rules';
import { Given } from '../testing/given';
import { aliceHolding } from '../testing/alice-holding';

/** A preset of libs/rules/presets as written (the raw object a RulesActivated carries). */
const venuePreset = (name: string): Record<string, unknown> => parseBoundedYaml(readFileSync(join(__dirname, '..', '..', '..', 'rules', 'presets', `${name}.yaml`), 'utf8')) as Record<string, unknown>;

/**
 * okx-swap (libs/rules/presets/okx-swap.yaml, docs/venues/okx-swap.md). OKX publishes the margin ratio of a
 * USDT-margined position as (Margin balance + PnL) ÷ (Face value × |Contracts| × Mark price × (Tiered margin rate + fee
 * rate)), liquidating at or below 100 % (as summarized at https://open-lib.com/11556.html), and position tiers that
 * charge the whole position at the tier's rate (OKX announcement of 2022-06-09, http://www.okxwebsite.com/en/latest-announcements/item/511.html).
 * No OKX page with a worked numeric example was found: the examples below are computed by hand from that formula,
 * with BTC-USDT-SWAP tier 1 (0.50 %) and the 0.05 % taker fee (OKX fee schedule, Lv1).
 */
const holding = (deposit: string, qty: string, price: string): Given => aliceHolding(venuePreset('okx-swap'), { deposit, qty, price });

describe('okx-swap by OKX’s margin-ratio formula (hand-computed)', () => {
  it('10 BTC @ 100,000 (1,000 conts of 0.01 BTC, tier 1): requirement 1,000,000 × (0.50 % + 0.05 %) = 5,500; IM 1 % = 10,000', () => {
    expect(holding('100000', '10', '100000').account('alice')).toMatchObject({ maintenanceMargin: '5500', initialMargin: '10000' });
  });

  it('margin ratio 100 % is the liquidation line: 10,000 with 10 BTC @ 100,000 holds at 99,550, liquidates at 99,547', () => {
    // at 99,550: (10,000 − 4,500) ÷ (995,500 × 0.55 %) = 5,500 ÷ 5,475.25 = 100.45 %; at 99,547: 5,470 ÷ 5,475.085 = 99.91 %;
    // the line is m with 10,000 + 10 (m − 100,000) = 10 m × 0.55 %: m = 990,000 ÷ 9.945 = 99,547.51…
    const g = holding('10000', '10', '100000');
    expect(g.at(60).price('99550').filter((d) => d.type === 'PositionLiquidated')).toEqual([]);
    expect(g.at(120).price('99547').filter((d) => d.type === 'PositionLiquidated')).toEqual([expect.objectContaining({ account: 'alice', qty: '-10' })]);
  });

  it('the whole position at its tier’s rate: the requirement jumps at the tier edge (20,000 conts = 200 BTC at 100,000)', () => {
    // 200 BTC: 20,000,000 × 0.55 % = 110,000; 200.01 BTC: 20,001,000 × (1.00 % + 0.05 %) = 210,010.5
    expect(holding('100000000', '200', '100000').account('alice')).toMatchObject({ maintenanceMargin: '110000' });
    expect(holding('100000000', '200.01', '100000').account('alice')).toMatchObject({ maintenanceMargin: '210010.5' });
  });
});
