import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { streamFor } from '@clearsim/scenario';

export interface GeneratedLogSpec {
  events: number;
  accounts: number;
  instruments: number;
  seed: number;
  /** Positions each account opens: a fixed count (B7: 1), or (unset) one to three drawn from the seed. */
  positionsPerAccount?: number;
}

/** The events the generator writes before its first price tick: rules, listings, the two funders, deposits and trades. */
export function setupEvents(spec: Pick<GeneratedLogSpec, 'accounts' | 'instruments'> & { positionsPerAccount: number }): number {
  return 1 + 2 * spec.instruments + 2 + spec.accounts * (1 + spec.positionsPerAccount);
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
  // the stream's first error (a full disk, a path it cannot open): thrown at the next wait below, not left as an
  // unhandled 'error' event (a crash with a stack) or a 'drain' that never comes (a hang)
  let failure: Error | undefined;
  out.on('error', (error) => (failure ??= error));
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
    // the fixed count draws nothing, so the default day (seed 1) is the same file as before the option existed
    const positions = spec.positionsPerAccount ?? 1 + Math.floor(uniform() * 3);
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
      await new Promise<void>((resolve) => {
        const settle = () => {
          out.off('drain', settle);
          out.off('close', settle);
          resolve();
        };
        out.on('drain', settle);
        out.on('close', settle); // a stream that failed closes instead of draining
      });
      if (failure) throw failure;
    }
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  if (failure) throw failure;
  return written;
}

/**
 * A generated log, cached under `dir` by its spec (a 10^7-event day takes about a minute to write): generated
 * only when missing, and trusted only with its `.done` marker (the lines written), so an interrupted generation
 * is written again rather than measured.
 */
export async function cachedLog(dir: string, spec: GeneratedLogSpec): Promise<{ file: string; lines: number }> {
  const name = `day-e${spec.events}-a${spec.accounts}${spec.instruments === 20 ? '' : `-i${spec.instruments}`}${spec.positionsPerAccount === undefined ? '' : `-p${spec.positionsPerAccount}`}${spec.seed === 1 ? '' : `-s${spec.seed}`}.jsonl`;
  const file = join(dir, name);
  const done = `${file}.done`;
  if (existsSync(file) && existsSync(done)) return { file, lines: Number(readFileSync(done, 'utf8')) };
  mkdirSync(dir, { recursive: true });
  rmSync(done, { force: true });
  process.stderr.write(`generating ${spec.events.toLocaleString('en-US')} events (${spec.accounts.toLocaleString('en-US')} accounts) → ${file}\n`);
  const lines = await generateLog(file, spec);
  writeFileSync(done, String(lines));
  return { file, lines };
}
