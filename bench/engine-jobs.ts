import { ClearingEngine } from '@clearsim/clearing';
import { decodeEvent, type InputEvent } from '@clearsim/events';
import { deposit, ensureAccount, trade } from '@clearsim/ledger';
import { parseFixed } from '@clearsim/money';

/**
 * The engine benchmarks that build a state in memory and time `ClearingEngine.handle` (each in a child of
 * the harness): B3, one price tick that crosses no band, and B9, a crash tick that bankrupts a set number of
 * accounts.
 */

const T0 = Date.parse('2026-01-01T00:00:00Z');
const INSTRUMENT = 'X-PERP';
const MM = 'mm';

const input = (ts: number, raw: Record<string, unknown>): InputEvent => decodeEvent({ ts: new Date(ts).toISOString(), ...raw }, 'input') as InputEvent;

/** A cross-margined venue with one perpetual at 100: IM 5 %, MM 2.5 % (one tier), no grace, full closes. */
function venue(bankruptcy: 'adl' | 'socialize'): ClearingEngine {
  const engine = ClearingEngine.create();
  engine.handle(
    input(T0, {
      type: 'RulesActivated',
      rules: {
        name: `bench-${bankruptcy}`,
        model: 'cross',
        marginCall: { graceSeconds: 0 },
        liquidation: { immediateBelow: '0.5', step: '1', slippage: '0', feeRate: '0' },
        bankruptcy,
        accounts: { insurance: 'insurance', fees: 'fees', backstop: 'backstop' },
        instruments: { '*': { tiers: [{ initialRate: '0.05', maintenanceRate: '0.025', maintenanceAmount: '0' }] } },
      },
    }),
  );
  engine.handle(input(T0, { type: 'InstrumentListed', instrument: INSTRUMENT, kind: 'perpetual', underlying: 'X', settlementAsset: 'USD', multiplier: '1' }));
  engine.handle(input(T0, { type: 'PriceUpdated', instrument: INSTRUMENT, price: '100' }));
  engine.handle(input(T0, { type: 'Deposited', account: MM, asset: 'USD', amount: '1000000000000' }));
  return engine;
}

const account = (i: number) => `h${String(i).padStart(7, '0')}`;

export interface TickResult {
  /** µs of each timed tick. */
  tickUs: number[];
  decisions: number;
  setupSeconds: number;
  /** The first (untimed) tick, which bands every holder from scratch. */
  bandingSeconds: number;
}

/**
 * B3: `holders` accounts (1,000 of cash each, a 10-lot position at 100: 1× leverage, alternately long and short
 * against a market maker) booked through the ledger's own ensureAccount/deposit/trade — 10^6 trades through
 * `handle` would each margin-check both sides — then every holder banded by one untimed tick, then `ticks`
 * ticks of ±0.01 % (100 ↔ 100.01), each timed alone. At 1× leverage an account is called only after a ~95 %
 * move, so no tick leaves a band: a tick that decides anything fails the benchmark.
 */
export function tickBench(holders: number, ticks: number): TickResult {
  const engine = venue('adl');
  const ledger = engine.state.ledger;
  const instrument = ledger.instruments.get(INSTRUMENT)!;
  const mm = ensureAccount(ledger, MM, false);
  const cash = parseFixed('1000');
  const lots = parseFixed('10');
  const price = parseFixed('100');
  const start = performance.now();
  for (let i = 0; i < holders; i++) {
    const holder = ensureAccount(ledger, account(i), false);
    deposit(ledger, holder, cash);
    if (i % 2 === 0) trade(ledger, holder, mm, instrument, lots, price);
    else trade(ledger, mm, holder, instrument, lots, price);
  }
  const setupSeconds = (performance.now() - start) / 1000;
  // the ledger was written behind the engine's back: its band cache must be rebuilt, as after a replay
  engine.state.bandsStale = true;
  let ts = T0 + 1000;
  const prices = ['100.01', '100'].map((p) => parseFixed(p));
  const tick = (k: number) => engine.handle({ type: 'PriceUpdated', ts: (ts += 1000), instrument: INSTRUMENT, price: prices[k % 2]! });
  const bandingStart = performance.now();
  let decisions = tick(1).decisions.length;
  const bandingSeconds = (performance.now() - bandingStart) / 1000;
  global.gc?.();
  const tickUs: number[] = [];
  for (let k = 0; k < ticks; k++) {
    const t = performance.now();
    decisions += tick(k).decisions.length;
    tickUs.push((performance.now() - t) * 1000);
  }
  if (decisions > 0) throw new Error(`B3: the ticks decided ${decisions} decisions; the benchmark is of ticks that cross no band`);
  return { tickUs, decisions, setupSeconds, bandingSeconds };
}

export interface CrashResult {
  tickMs: number;
  bankruptcies: number;
  decisions: number;
  byType: Record<string, number>;
  setupSeconds: number;
}

/**
 * B9: `accounts` accounts, each with 1,000 of cash and one position against a market maker, through
 * `ClearingEngine.handle` (Deposited and TradeExecuted, margin-checked as on a venue). The first `bankruptcies`
 * are long 150 lots at 100 (15×); the others alternate long and short 20 lots (2×). No insurance fund.
 * One PriceUpdated 100.01 → 90 (timed alone, after an untimed tick to 100.01) takes every 15× long to
 * 1,000 − 150 × 10.01 = −501.5: liquidated and bankrupt, the deficit deleveraged against the profitable shorts
 * (`adl`) or shared over the accounts in profit (`socialize`). A 2× long keeps 1,000 − 20 × 10.01 = 799.8 against
 * an MM of 2.5 % × 20 × 90 = 45: no other account is touched.
 */
export function crashBench(accounts: number, bankruptcies: number, mode: 'adl' | 'socialize'): CrashResult {
  if (bankruptcies > accounts) throw new Error(`B9: ${bankruptcies} bankruptcies need at least as many accounts (got ${accounts})`);
  const engine = venue(mode);
  const start = performance.now();
  let ts = T0;
  for (let i = 0; i < accounts; i++) {
    const id = account(i);
    const lots = i < bankruptcies ? '150' : '20';
    const long = i < bankruptcies || i % 2 === 0;
    engine.handle(input(ts, { type: 'Deposited', account: id, asset: 'USD', amount: '1000' }));
    engine.handle(input(ts, { type: 'TradeExecuted', tradeId: `t${i}`, instrument: INSTRUMENT, buyer: long ? id : MM, seller: long ? MM : id, qty: lots, price: '100', buyerFee: '0', sellerFee: '0' }));
  }
  const setupSeconds = (performance.now() - start) / 1000;
  const warm = engine.handle(input((ts += 1000), { type: 'PriceUpdated', instrument: INSTRUMENT, price: '100.01' }));
  if (warm.decisions.length > 0) throw new Error(`B9: the warm-up tick decided ${warm.decisions.length} decisions`);
  const crash = input((ts += 1000), { type: 'PriceUpdated', instrument: INSTRUMENT, price: '90' });
  global.gc?.();
  const t = performance.now();
  const { decisions } = engine.handle(crash);
  const tickMs = performance.now() - t;
  const byType: Record<string, number> = {};
  for (const d of decisions) byType[d.type] = (byType[d.type] ?? 0) + 1;
  const bankrupt = byType.AccountBankrupted ?? 0;
  if (bankrupt !== bankruptcies) throw new Error(`B9: the crash bankrupted ${bankrupt} accounts, not ${bankruptcies} (${JSON.stringify(byType)})`);
  return { tickMs, bankruptcies: bankrupt, decisions: decisions.length, byType, setupSeconds };
}
