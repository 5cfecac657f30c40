import { formatFixed, parseFixed as d } from '@clearsim/money';
import { parseRules } from '@clearsim/rules';
import { initialMarginOf, maintenanceMarginOf, tierFor } from './tiers';

const { tiers } = parseRules({
  name: 't',
  model: 'cross',
  accounts: { insurance: 'i', fees: 'f', backstop: 'b' },
  instruments: {
    'BTC-PERP': {
      tiers: [
        { upToNotional: '50000', initialRate: '0.02', maintenanceRate: '0.01', maintenanceAmount: '0' },
        // continuity: 500 = 50,000 × (0.02 − 0.01)
        { upToNotional: '250000', initialRate: '0.04', maintenanceRate: '0.02', maintenanceAmount: '500' },
      ],
    },
  },
}).instruments['BTC-PERP']!;

function margins(notional: string) {
  const tier = tierFor(tiers, d(notional));
  return { tier: tiers.indexOf(tier) + 1, im: formatFixed(initialMarginOf(d(notional), tier)), mm: formatFixed(maintenanceMarginOf(d(notional), tier)) };
}

describe('tier lookup at bracket edges', () => {
  it.each([
    // notional 50,000 is in tier 1 (N <= upToNotional): IM 2% = 1,000, MM 1% = 500
    ['50000', 1, '1000', '500'],
    // one ledger unit above: tier 2: IM 4% × 50,000.00000001 = 2,000.0000000004 → 2,000.00000001 (up);
    // MM 2% × 50,000.00000001 − 500 = 500.0000000002 → 500.00000001 (up): continuous across the edge
    ['50000.00000001', 2, '2000.00000001', '500.00000001'],
    // 250,000: tier 2: IM 10,000, MM 5,000 − 500 = 4,500
    ['250000', 2, '10000', '4500'],
    // above every bounded tier: the last tier still applies (600,000 × 2% − 500 = 11,500)
    ['600000', 2, '24000', '11500'],
    ['0', 1, '0', '0'],
  ])('notional %s → tier %d, IM %s, MM %s', (notional, tier, im, mm) => {
    expect(margins(notional)).toEqual({ tier, im, mm });
  });
});
