import { decodeEvent, type InputEvent } from '@clearsim/events';
import { fnv1a32, InputRouter, localizeInput, routeInput, shardOf } from './sharding';

const ev = (raw: Record<string, unknown>): InputEvent => decodeEvent({ ts: '2026-01-01T00:00:00Z', ...raw }, 'input') as InputEvent;
const deposit = (account: string, ts = '2026-01-01T00:00:00Z') => ev({ type: 'Deposited', ts, account, asset: 'USD', amount: '1' });
const trade = (buyer: string, seller: string) =>
  ev({ type: 'TradeExecuted', tradeId: 't1', instrument: 'BTC-PERP', buyer, seller, qty: '1', price: '100', buyerFee: '1', sellerFee: '2' });
const price = (ts = '2026-01-01T00:00:00Z') => ev({ type: 'PriceUpdated', ts, instrument: 'BTC-PERP', price: '100' });
const accounts = { insurance: 'insurance', fees: 'fees', backstop: 'backstop' };

// With 2 shards: bob, carol, fees, backstop → 0; alice, dave, mm, insurance → 1.
describe('shardOf', () => {
  it('is FNV-1a 32 over the UTF-8 bytes (reference vectors), mod N', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    expect(fnv1a32('zoë')).toBe(1125401212); // multi-byte UTF-8
    expect(shardOf('alice', 2)).toBe(1);
    expect(shardOf('bob', 2)).toBe(0);
    expect(shardOf('alice', 3)).toBe(2);
    expect(shardOf('anything', 1)).toBe(0);
  });

  it('refuses a shard count that is not a positive integer', () => {
    expect(() => shardOf('a', 0)).toThrow(/shards must be an integer ≥ 1/);
    expect(() => shardOf('a', 1.5)).toThrow(RangeError);
  });

  it('spreads ids roughly evenly', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 10_000; i++) counts[shardOf(`acct-${i}`, 4)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(2_200);
  });
});

describe('routeInput', () => {
  it('sends account events to the account shard, trades to both parties, everything else everywhere', () => {
    expect(routeInput(deposit('alice'), 2)).toEqual([1]);
    expect(routeInput(ev({ type: 'WithdrawalRequested', requestId: 'w', account: 'bob', asset: 'USD', amount: '1' }), 2)).toEqual([0]);
    expect(routeInput(trade('alice', 'bob'), 2)).toEqual([0, 1]);
    expect(routeInput(trade('alice', 'mm'), 2)).toEqual([1]);
    expect(routeInput(price(), 3)).toEqual([0, 1, 2]);
    expect(routeInput(ev({ type: 'ClockAdvanced' }), 2)).toEqual([0, 1]);
    expect(routeInput(ev({ type: 'FundingRateApplied', instrument: 'X', rate: '0.001' }), 2)).toEqual([0, 1]);
  });

  it('sends a trade with a system account only to the other party when it knows the system accounts', () => {
    expect(routeInput(trade('alice', 'backstop'), 2)).toEqual([0, 1]);
    expect(routeInput(trade('alice', 'backstop'), 2, { systemAccounts: ['backstop'] })).toEqual([1]);
  });
});

describe('InputRouter', () => {
  it('ticks the clock of shards an account event does not reach, once per new time', () => {
    const router = new InputRouter(2);
    expect(router.route(price('2026-01-01T00:00:00Z')).map((r) => [r.partition, r.event.type])).toEqual([
      [0, 'PriceUpdated'],
      [1, 'PriceUpdated'],
    ]);
    expect(router.route(deposit('alice', '2026-01-01T00:00:00Z')).map((r) => [r.partition, r.event.type])).toEqual([[1, 'Deposited']]);
    const later = router.route(deposit('alice', '2026-01-01T01:00:00Z'));
    expect(later.map((r) => [r.partition, r.event.type, r.key])).toEqual([
      [0, 'ClockAdvanced', 'ClockAdvanced'],
      [1, 'Deposited', 'alice'],
    ]);
    expect(later[0]!.event.ts).toBe(later[1]!.event.ts);
    expect(router.route(deposit('dave', '2026-01-01T01:00:00Z')).map((r) => r.event.type)).toEqual(['Deposited']);
  });

  it('can leave the clocks alone', () => {
    const router = new InputRouter(2, { clockTicks: false });
    router.route(price());
    expect(router.route(deposit('alice', '2026-01-02T00:00:00Z'))).toHaveLength(1);
  });
});

describe('localizeInput', () => {
  const at = (shard: number) => ({ shards: 2, shard, accounts });

  it('applies everything on a single shard', () => {
    const t = trade('alice', 'bob');
    expect(localizeInput(t, { shards: 1, shard: 0, accounts })).toEqual({ action: 'apply', input: t });
  });

  it('applies own and system accounts events, refuses others as misrouted', () => {
    expect(localizeInput(deposit('alice'), at(1)).action).toBe('apply');
    expect(localizeInput(deposit('insurance'), at(0)).action).toBe('apply');
    const wrong = localizeInput(deposit('alice'), at(0));
    expect(wrong).toEqual({ action: 'misrouted', reason: expect.stringContaining('account "alice" belongs to shard 1 of 2, not shard 0') });
  });

  it('novates a cross-shard trade: each shard applies its leg against the backstop, the remote fee stays remote', () => {
    const t = trade('alice', 'bob'); // alice on 1, bob on 0
    expect(localizeInput(t, at(1))).toEqual({ action: 'apply', input: { ...t, seller: 'backstop', sellerFee: 0n } });
    expect(localizeInput(t, at(0))).toEqual({ action: 'apply', input: { ...t, buyer: 'backstop', buyerFee: 0n } });
  });

  it('applies a same-shard trade as is and refuses a trade of two foreign accounts', () => {
    const t = trade('alice', 'mm');
    expect(localizeInput(t, at(1))).toEqual({ action: 'apply', input: t });
    expect(localizeInput(t, at(0))).toEqual({ action: 'misrouted', reason: expect.stringContaining('neither buyer "alice" (shard 1) nor seller "mm" (shard 1) belongs to shard 0') });
  });

  it("gives a trade with a system account to the other party's shard; the other copy is skipped", () => {
    const t = trade('alice', 'backstop');
    expect(localizeInput(t, at(1))).toEqual({ action: 'apply', input: t });
    expect(localizeInput(t, at(0)).action).toBe('skip');
  });

  it('passes trades through before any rules are active (the core refuses them)', () => {
    const t = trade('alice', 'bob');
    expect(localizeInput(t, { shards: 2, shard: 0 })).toEqual({ action: 'apply', input: t });
  });
});

describe('multi-leg trades across shards', () => {
  // with 2 shards: bob, carol → 0; alice, dave, mm → 1
  const multi = (legs: [string, string][]) =>
    ev({ type: 'MultiLegTradeExecuted', tradeId: 'm1', legs: legs.map(([buyer, seller], i) => ({ instrument: i === 0 ? 'BTC-PERP' : 'ETH-PERP', buyer, seller, qty: '1', price: '100', buyerFee: '1', sellerFee: '2' })) });
  const at = (shard: number) => ({ shards: 2, shard, accounts });

  it('goes to the shards of every leg party (system accounts excepted when known), keyed by the first buyer', () => {
    expect(routeInput(multi([['alice', 'mm'], ['mm', 'alice']]), 2)).toEqual([1]);
    expect(routeInput(multi([['alice', 'mm'], ['bob', 'mm']]), 2)).toEqual([0, 1]);
    expect(routeInput(multi([['alice', 'backstop'], ['alice', 'backstop']]), 2, { systemAccounts: ['backstop'] })).toEqual([1]);
    expect(new InputRouter(2, { clockTicks: false }).route(multi([['alice', 'mm'], ['bob', 'mm']])).map((r) => [r.partition, r.key])).toEqual([
      [0, 'alice'],
      [1, 'alice'],
    ]);
  });

  it('a shard applies the legs of its accounts, together, novating cross-shard legs against the backstop', () => {
    const t = multi([['alice', 'mm'], ['bob', 'alice']]) as Extract<InputEvent, { type: 'MultiLegTradeExecuted' }>;
    // shard 1 (alice, mm): the first leg as is, the second with bob's side novated to the backstop (bob's fee stays on shard 0)
    expect(localizeInput(t, at(1))).toEqual({ action: 'apply', input: { ...t, legs: [t.legs[0], { ...t.legs[1], buyer: 'backstop', buyerFee: 0n }] } });
    // shard 0 (bob): only the second leg, alice's side novated
    expect(localizeInput(t, at(0))).toEqual({ action: 'apply', input: { ...t, legs: [{ ...t.legs[1], seller: 'backstop', sellerFee: 0n }] } });
    // every leg local: the input itself
    const local = multi([['alice', 'mm'], ['mm', 'dave']]);
    expect(localizeInput(local, at(1))).toEqual({ action: 'apply', input: local });
  });

  it('skips a copy whose legs with system accounts belong elsewhere; refuses one with no account of the shard', () => {
    expect(localizeInput(multi([['alice', 'backstop']]), at(0))).toEqual({ action: 'skip', reason: expect.stringContaining('belong to shard(s) 1') });
    expect(localizeInput(multi([['alice', 'mm']]), at(0))).toEqual({ action: 'misrouted', reason: expect.stringContaining('no leg has an account of shard 0 of 2') });
  });
});
