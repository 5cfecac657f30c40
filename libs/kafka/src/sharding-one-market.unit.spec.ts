import type { InputEvent } from '@clearsim/events';
import { localizeInput } from './sharding';

/** Rules whose decisions move a market (impact, leveraged tokens) run on one shard only (docs/rules.md §11, §12). */
const rules = (extra: Record<string, unknown>): InputEvent => ({
  type: 'RulesActivated',
  ts: 0,
  rules: { name: 'r', model: 'cross', accounts: { insurance: 'insurance', fees: 'fees', backstop: 'backstop' }, ...extra },
});
const impact = { instruments: { '*': { law: 'linear', k: '1', depth: '1000000', halfLifeSeconds: 60 } } };
const tokens = { BULL: { instrument: 'BTC-PERP', account: 'bull', counterparty: 'mm', targetLeverage: '3', band: { max: '4' } } };

describe('rules that move a market on a sharded run', () => {
  it.each([
    ['impact', { impact }],
    ['tokens', { tokens }],
  ])('refuses rules with %s on more than one shard, naming the field and what to do', (field, extra) => {
    const local = localizeInput(rules(extra), { shards: 4, shard: 2 });
    expect(local).toEqual({ action: 'refused', reason: expect.stringMatching(new RegExp(`^rules\\.${field}: not on 4 shards: .*; run this market on one shard \\(--shards 1\\)$`)) });
  });

  it('applies them on one shard, and applies rules without them on many', () => {
    expect(localizeInput(rules({ impact, tokens }), { shards: 1, shard: 0 }).action).toBe('apply');
    expect(localizeInput(rules({}), { shards: 4, shard: 2 }).action).toBe('apply');
  });
});
