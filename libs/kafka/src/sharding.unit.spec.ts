import { decodeEvent, type InputEvent } from '@clearsim/events';
import fc from 'fast-check';
import { Partitioners, type PartitionerArgs } from 'kafkajs';
import { InputRouter, keyPartition, localizeInput, murmur2, routeInput, shardOf } from './sharding';

const ev = (raw: Record<string, unknown>): InputEvent => decodeEvent({ ts: '2026-01-01T00:00:00Z', ...raw }, 'input') as InputEvent;
const deposit = (account: string, ts = '2026-01-01T00:00:00Z') => ev({ type: 'Deposited', ts, account, asset: 'USD', amount: '1' });
const trade = (buyer: string, seller: string) =>
  ev({ type: 'TradeExecuted', tradeId: 't1', instrument: 'BTC-PERP', buyer, seller, qty: '1', price: '100', buyerFee: '1', sellerFee: '2' });
const price = (ts = '2026-01-01T00:00:00Z') => ev({ type: 'PriceUpdated', ts, instrument: 'BTC-PERP', price: '100' });
const accounts = { insurance: 'insurance', fees: 'fees', backstop: 'backstop' };

// With 2 shards (murmur2): bob, carol, dave, fees, backstop, insurance → 0; alice, gina, mm → 1.
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('murmur2 and keyPartition (the Kafka producers\' key partitioner)', () => {
  it("hashes as the Java client's Utils.murmur2 (Kafka's UtilsTest.testMurmur2 vectors)", () => {
    expect(murmur2(bytes('21'))).toBe(-973932308);
    expect(murmur2(bytes('foobar'))).toBe(-790332482);
    expect(murmur2(bytes('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(bytes('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(bytes('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
    expect(murmur2(bytes('abc'))).toBe(479470107);
  });

  it('partitions a key as toPositive(murmur2) mod N', () => {
    // toPositive(-790332482) = -790332482 & 0x7fffffff = 2,147,483,648 − 790,332,482 = 1,357,151,166; mod 10 = 6, mod 3 = 0
    expect(keyPartition('foobar', 10)).toBe(6);
    expect(keyPartition('foobar', 3)).toBe(0);
    // 479,470,107 is positive: mod 10 = 7
    expect(keyPartition('abc', 10)).toBe(7);
  });

  it("picks the partition kafkajs's DefaultPartitioner picks for the same key (any key, UTF-8 included; 1 to 64 partitions)", () => {
    const partitioner = Partitioners.DefaultPartitioner();
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.integer({ min: 1, max: 64 }), (key, partitions) => {
        const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
        const args = { topic: 'clearsim.inputs', partitionMetadata, message: { key, value: '{}' } } as PartitionerArgs;
        expect(keyPartition(key, partitions)).toBe(partitioner(args));
        expect(shardOf(key, partitions)).toBe(partitioner(args));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('shardOf', () => {
  it('is the key partition of the account id', () => {
    expect(shardOf('alice', 2)).toBe(1);
    expect(shardOf('bob', 2)).toBe(0);
    expect(shardOf('alice', 3)).toBe(0);
    expect(shardOf('anything', 1)).toBe(0);
    expect(shardOf('zoë', 7)).toBe(keyPartition('zoë', 7)); // multi-byte UTF-8: its bytes are hashed
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

  it('puts every account-keyed message on the partition a stock producer picks for its key (trades: each copy keyed by its party there)', () => {
    const account = fc.constantFrom('alice', 'bob', 'carol', 'dave', 'gina', 'mm', 'zoë', 'acct-17');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.tuple(account, account), { minLength: 1, maxLength: 10 }), (shards, pairs) => {
        const router = new InputRouter(shards, { clockTicks: false });
        for (const [buyer, seller] of pairs) {
          const routed = buyer === seller ? router.route(deposit(buyer)) : router.route(trade(buyer, seller));
          for (const r of routed) expect(r.partition).toBe(keyPartition(r.key, shards));
        }
      }),
    );
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
  // with 2 shards: bob, carol, dave → 0; alice, gina, mm → 1
  const multi = (legs: [string, string][]) =>
    ev({ type: 'MultiLegTradeExecuted', tradeId: 'm1', legs: legs.map(([buyer, seller], i) => ({ instrument: i === 0 ? 'BTC-PERP' : 'ETH-PERP', buyer, seller, qty: '1', price: '100', buyerFee: '1', sellerFee: '2' })) });
  const at = (shard: number) => ({ shards: 2, shard, accounts });

  it('goes to the shards of every leg party (system accounts excepted when known), each copy keyed by a party of its shard', () => {
    expect(routeInput(multi([['alice', 'mm'], ['mm', 'alice']]), 2)).toEqual([1]);
    expect(routeInput(multi([['alice', 'mm'], ['bob', 'mm']]), 2)).toEqual([0, 1]);
    expect(routeInput(multi([['alice', 'backstop'], ['alice', 'backstop']]), 2, { systemAccounts: ['backstop'] })).toEqual([1]);
    expect(new InputRouter(2, { clockTicks: false }).route(multi([['alice', 'mm'], ['bob', 'mm']])).map((r) => [r.partition, r.key])).toEqual([
      [0, 'bob'],
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
    const local = multi([['alice', 'mm'], ['mm', 'gina']]);
    expect(localizeInput(local, at(1))).toEqual({ action: 'apply', input: local });
  });

  it('skips a copy whose legs with system accounts belong elsewhere; refuses one with no account of the shard', () => {
    expect(localizeInput(multi([['alice', 'backstop']]), at(0))).toEqual({ action: 'skip', reason: expect.stringContaining('belong to shard(s) 1') });
    expect(localizeInput(multi([['alice', 'mm']]), at(0))).toEqual({ action: 'misrouted', reason: expect.stringContaining('no leg has an account of shard 0 of 2') });
  });
});
