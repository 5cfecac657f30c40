import { parseFixed } from '@clearsim/money';
import { stressReportData } from './stress-report';

describe('stressReportData', () => {
  it('gives each figure per path and rule set (amounts as numbers for the histograms) and the percentiles as printed', () => {
    const path = (bankruptcies: number, low: string) => ({ bankruptcies, autoDeleverages: 0, socializedLoss: 0n, insuranceFundLow: parseFixed(low), marginHeld: parseFixed('100.5') });
    const byPath = [
      [path(3, '10.25'), path(0, '50')],
      [path(5, '-1.5'), path(1, '49')],
    ];
    const distribution = { p50: 3, p95: 5, p99: 5, worst: 5 };
    const summary = { bankruptcies: distribution, insuranceFundLow: distribution, autoDeleverages: distribution, socializedLoss: distribution, marginHeld: distribution };
    const data = stressReportData({ scenario: 's.yaml', name: 's', seed: '7', byPath, ruleSets: [{ label: 'a', summary }, { label: 'b', summary }] });
    expect(data.paths).toBe(2);
    expect(data.metrics.map((m) => m.key)).toEqual(['bankruptcies', 'insuranceFundLow', 'autoDeleverages', 'socializedLoss', 'marginHeld']);
    expect(data.ruleSets[0]!.values.bankruptcies).toEqual([3, 5]);
    expect(data.ruleSets[1]!.values.bankruptcies).toEqual([0, 1]);
    expect(data.ruleSets[0]!.values.insuranceFundLow).toEqual([10.25, -1.5]);
    expect(data.ruleSets[1]!.values.marginHeld).toEqual([100.5, 100.5]);
    expect(data.ruleSets[0]!.percentiles.bankruptcies).toEqual({ p50: '3', p95: '5', p99: '5', worst: '5' });
  });
});
