import { BacktestRecorder } from './backtest';
import { Given, rulesFor } from './testing/given';

describe('BacktestRecorder', () => {
  it('compares the margin held at the start of each period with the loss over it', () => {
    // alice long 1 @ 10,000 under IM 10 %. Hourly periods:
    //  hour 0 → 1: IM at the start 1,000; mark 10,000 → 9,500: loss 500 (no exceedance)
    //  hour 1 → 2: IM 950; 9,500 → 8,000: loss 1,500 > 950 (an exceedance)
    const g = new Given(rulesFor({ marginCall: { graceSeconds: 86400 }, liquidation: { immediateBelow: '0' } }));
    g.deposit('alice', '100000').deposit('mm', '10000000');
    g.price('10000');
    g.trade('alice', 'mm', '1', '10000');
    const recorder = new BacktestRecorder(3600);
    const feed = (seconds: number, price: string) => {
      recorder.beforeInput(g.engine.state, Date.parse('2026-01-01T00:00:00Z') + seconds * 1000);
      g.at(seconds).price(price);
    };
    feed(60, '10000'); // opens nothing yet: the first input only fixes the period
    feed(3600, '9500'); // period 1 starts: observations open at the marks before this input
    feed(7200, '8000');
    feed(10800, '8000');
    // the market maker, short 1, gains what alice loses (and holds the same IM)
    expect(recorder.rows).toEqual([
      { account: 'alice', period: 1, margin: 1000, realizedLoss: 500 },
      { account: 'mm', period: 1, margin: 1000, realizedLoss: -500 },
      { account: 'alice', period: 2, margin: 950, realizedLoss: 1500 },
      { account: 'mm', period: 2, margin: 950, realizedLoss: -1500 },
    ]);
    const report = recorder.report(0.99);
    expect(report.pooled).toMatchObject({ observations: 4, exceedances: 1, coverage: 0.75 });
    expect(report.accounts.find((a) => a.account === 'alice')).toMatchObject({ observations: 2, exceedances: 1 });
  });
});
