import { createWriteStream } from 'node:fs';
import { streamFor } from '@clearsim/scenario';

export interface GeneratedLogSpec {
  events: number;
  accounts: number;
  instruments: number;
  seed: number;
}

/**
 * A synthetic venue day for benchmarks: `accounts` traders each open one to
 * three positions (2–20× leverage) against a market maker, then prices of
 * `instruments` perpetuals random-walk (mostly PriceUpdated), with a funding
 * round and a clock tick now and then. Deterministic from the seed.
 */
export async function generateLog(file: string, spec: GeneratedLogSpec): Promise<number> {
  const rng = streamFor(spec.seed, 'bench');
  const uniform = () => Number(rng.next() >> 11n) / 2 ** 53;
  const out = createWriteStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  let written = 0;
  let t = Date.parse('2026-01-01T00:00:00Z');
  const write = (event: Record<string, unknown>) => {
    written++;
    return out.write(JSON.stringify({ ts: new Date(t).toISOString(), ...event }) + '\n');
  };
  const instruments = Array.from({ length: spec.instruments }, (_, i) => `I${String(i).padStart(2, '0')}-PERP`);
  const prices = instruments.map((_, i) => 100 + 50 * i);
  write({
    type: 'RulesActivated',
    rules: {
      name: 'bench-cross',
      model: 'cross',
      marginCall: { graceSeconds: 0 },
      liquidation: { immediateBelow: '0.5', step: '0.5', slippage: '0.001', feeRate: '0.005' },
      bankruptcy: 'adl',
      accounts: { insurance: 'insurance', fees: 'fees', backstop: 'backstop' },
      instruments: {
        '*': {
          tiers: [
            { upToNotional: '50000', initialRate: '0.05', maintenanceRate: '0.025', maintenanceAmount: '0' },
            { upToNotional: '250000', initialRate: '0.1', maintenanceRate: '0.05', maintenanceAmount: '1250' },
            { initialRate: '0.2', maintenanceRate: '0.1', maintenanceAmount: '13750' },
          ],
        },
      },
    },
  });
  instruments.forEach((instrument, i) => {
    write({ type: 'InstrumentListed', instrument, kind: 'perpetual', underlying: instrument.slice(0, 3), settlementAsset: 'USD', multiplier: '1' });
    write({ type: 'PriceUpdated', instrument, price: prices[i]!.toFixed(2) });
  });
  write({ type: 'Deposited', account: 'mm', asset: 'USD', amount: '1000000000' });
  write({ type: 'Deposited', account: 'insurance', asset: 'USD', amount: '1000000' });
  let trade = 0;
  for (let a = 0; a < spec.accounts; a++) {
    const account = `acct${String(a).padStart(6, '0')}`;
    const collateral = 1000 + Math.floor(uniform() * 20000);
    write({ type: 'Deposited', account, asset: 'USD', amount: String(collateral) });
    const positions = 1 + Math.floor(uniform() * 3);
    for (let p = 0; p < positions; p++) {
      const i = Math.floor(uniform() * spec.instruments);
      const leverage = 2 + uniform() * 18;
      const qty = ((collateral * leverage) / positions / prices[i]!).toFixed(4);
      const long = uniform() < 0.6;
      write({ type: 'TradeExecuted', tradeId: `b${++trade}`, instrument: instruments[i], buyer: long ? account : 'mm', seller: long ? 'mm' : account, qty, price: prices[i]!.toFixed(2) });
    }
  }
  let i = 0;
  while (written < spec.events) {
    t += 250;
    const k = i++ % spec.instruments;
    if (i % 100_000 === 0) {
      write({ type: 'FundingRateApplied', instrument: instruments[k], rate: '0.0001' });
      continue;
    }
    if (i % 50_000 === 0) {
      write({ type: 'ClockAdvanced' });
      continue;
    }
    // a random walk (≈ 5% daily stdev) with a slight downward drift (≈ −3%), so the most leveraged longs get liquidated
    prices[k] = Math.max(1, prices[k]! * (1 + (uniform() - 0.50035) * 0.0012));
    if (!write({ type: 'PriceUpdated', instrument: instruments[k], price: prices[k]!.toFixed(2) })) {
      await new Promise<void>((resolve) => out.once("drain", () => resolve()));
    }
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return written;
}
