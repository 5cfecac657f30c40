import { ClearingEngine } from '@clearsim/clearing';
import { decodeEvent, type InputEvent } from '@clearsim/events';
import { writeJsonSummary } from './summary-json';

/** An engine with `n` accounts, each a deposit and a position (integer-like ids among them, which JSON.stringify writes first). */
function engineWith(n: number): ClearingEngine {
  const engine = ClearingEngine.create();
  const input = (raw: Record<string, unknown>) => engine.handle(decodeEvent({ ts: '2026-01-01T00:00:00Z', ...raw }, 'input') as InputEvent);
  input({ type: 'RulesActivated', rules: { name: 't', model: 'cross', marginCall: { graceSeconds: 0 }, liquidation: { immediateBelow: '0.5', step: '1', slippage: '0', feeRate: '0' }, bankruptcy: 'adl', accounts: { insurance: 'insurance', fees: 'fees', backstop: 'backstop' }, instruments: { '*': { tiers: [{ initialRate: '0.1', maintenanceRate: '0.05' }] } } } });
  input({ type: 'InstrumentListed', instrument: 'BTC-PERP', kind: 'perpetual', underlying: 'BTC' });
  input({ type: 'PriceUpdated', instrument: 'BTC-PERP', price: '10000' });
  input({ type: 'Deposited', account: 'mm', asset: 'USD', amount: '100000000' });
  for (let i = 0; i < n; i++) {
    const account = i % 3 === 0 ? String(n - i) : `trader-${i}`;
    input({ type: 'Deposited', account, asset: 'USD', amount: String(1000 + i) });
    input({ type: 'TradeExecuted', tradeId: `t${i}`, instrument: 'BTC-PERP', buyer: account, seller: 'mm', qty: '0.01', price: '10000' });
  }
  return engine;
}

describe('writeJsonSummary', () => {
  it('writes exactly JSON.stringify of the whole summary, in several writes when it is long', () => {
    const engine = engineWith(4000);
    const writes: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    try {
      writeJsonSummary({ store: 'memory:', head: 8005 }, engine);
    } finally {
      spy.mockRestore();
    }
    // ~400 characters per account: more than one 1 MiB write
    expect(writes.length).toBeGreaterThan(1);
    expect(writes.join('')).toBe(JSON.stringify({ store: 'memory:', head: 8005, ...engine.summary() }) + '\n');
  });
});
