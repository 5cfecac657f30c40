import { decodeEvent, toCanonicalJson, type DecisionEvent, type InputEvent } from '@clearsim/events';
import { ClearingEngine } from '../clearing-engine';
import { accountJson, accountView } from '../views';

/**
 * Given/when/then for the clearing core. Inputs are written as the JSON users
 * write (decimal strings) and go through the same codec as every edge;
 * decisions come back in canonical JSON form, easy to compare in a table.
 */
export const T0 = Date.parse('2026-01-01T00:00:00Z');
export const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString().replace('.000Z', 'Z');

export function rulesFor(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'test',
    model: 'cross',
    marginCall: { graceSeconds: 3600, cureAt: 'initial' },
    liquidation: { immediateBelow: '0.5', step: '1', slippage: '0', feeRate: '0.01' },
    bankruptcy: 'socialize',
    accounts: { insurance: 'insurance', fees: 'fees', backstop: 'backstop' },
    instruments: { '*': { tiers: [{ initialRate: '0.1', maintenanceRate: '0.05' }] } },
    ...overrides,
  };
}

export class Given {
  readonly engine = ClearingEngine.create();
  private t = 0;

  /** The cash asset deposits are made in: the listing's settlement asset. */
  private readonly cashAsset: string;

  constructor(rules: Record<string, unknown> = rulesFor(), listing: Record<string, unknown> = { instrument: 'BTC-PERP', kind: 'perpetual', underlying: 'BTC' }) {
    this.input({ type: 'RulesActivated', rules });
    this.input({ type: 'InstrumentListed', ...listing });
    this.cashAsset = typeof listing.settlementAsset === 'string' ? listing.settlementAsset : 'USD';
  }

  /** Feeds one input (ts defaults to the current test clock) and returns its decisions, canonical. */
  input(raw: Record<string, unknown>): Record<string, unknown>[] {
    if (typeof raw.ts === 'number') this.t = raw.ts;
    const event = decodeEvent({ ts: at(this.t), ...raw, ...(typeof raw.ts === 'number' ? { ts: at(raw.ts) } : {}) }, 'input') as InputEvent;
    return this.engine.handle(event).decisions.map((d: DecisionEvent) => strip(toCanonicalJson(d)));
  }

  deposit(account: string, amount: string): this {
    this.input({ type: 'Deposited', account, asset: this.cashAsset, amount });
    return this;
  }

  price(price: string, instrument = 'BTC-PERP'): Record<string, unknown>[] {
    return this.input({ type: 'PriceUpdated', instrument, price });
  }

  private tradeCount = 0;
  trade(buyer: string, seller: string, qty: string, price: string, instrument = 'BTC-PERP'): Record<string, unknown>[] {
    return this.input({ type: 'TradeExecuted', tradeId: `t${++this.tradeCount}`, instrument, buyer, seller, qty, price });
  }

  at(seconds: number): this {
    this.t = seconds;
    return this;
  }

  account(id: string): Record<string, unknown> {
    return accountJson(accountView(this.engine.state, this.engine.state.ledger.accounts.get(id)!));
  }

  cash(id: string): string {
    return this.account(id).cash as string;
  }
}

/** Drops the envelope fields so expectations read as the decision itself. */
function strip(json: Record<string, unknown>): Record<string, unknown> {
  const { v: _v, ...rest } = json;
  return rest;
}
