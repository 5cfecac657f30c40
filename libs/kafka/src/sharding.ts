import type { InputEvent, MultiLegTradeExecuted, TradeExecuted, TradeLeg } from '@clearsim/events';

/**
 * Sharding (pure): which shard owns an account, which partitions of the
 * inputs topic an input goes to, and what a shard makes of an input it
 * receives. Partition i of the inputs topic is shard i.
 *
 * Cross-shard trades are *novated*: a trade between an account of shard A and
 * one of shard B goes to both partitions; shard A applies the leg
 * `local account ↔ backstop` and shard B the leg `backstop ↔ its account`, so
 * every shard's book stays balanced (open interest nets to zero per shard)
 * and each real account sees exactly the trade it would see in one process.
 * See libs/kafka/README.md for the trade-offs.
 */

const utf8 = new TextEncoder();

/** Kafka's murmur2 constants (org.apache.kafka.common.utils.Utils.murmur2). */
const MURMUR2_SEED = 0x9747b28c;
const MURMUR2_M = 0x5bd1e995;
const MURMUR2_R = 24;

/**
 * MurmurHash2, 32 bits, as the Kafka clients hash a record's key to choose its
 * partition (the Java client's `Utils.murmur2`, librdkafka's `murmur2`
 * partitioner, kafkajs's `Partitioners.DefaultPartitioner`): a signed 32-bit
 * result, like Java's `int`. Reference vectors (Kafka's UtilsTest.testMurmur2):
 * "21" → -973932308, "foobar" → -790332482, "abc" → 479470107.
 */
export function murmur2(bytes: Uint8Array): number {
  const length = bytes.length;
  let h = (MURMUR2_SEED ^ length) | 0;
  const whole = length - (length % 4);
  for (let i = 0; i < whole; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, MURMUR2_M);
    k ^= k >>> MURMUR2_R;
    k = Math.imul(k, MURMUR2_M);
    h = Math.imul(h, MURMUR2_M) ^ k;
  }
  // the 1 to 3 trailing bytes, as the Java switch folds them in (falling through from case 3 to case 1)
  const tail = length % 4;
  if (tail > 0) {
    if (tail === 3) h ^= bytes[whole + 2]! << 16;
    if (tail >= 2) h ^= bytes[whole + 1]! << 8;
    h ^= bytes[whole]!;
    h = Math.imul(h, MURMUR2_M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, MURMUR2_M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * The partition a stock Kafka producer picks for a record keyed `key` on a
 * topic of `partitions` partitions: `toPositive(murmur2(UTF-8 bytes)) % partitions`
 * (the Java client's built-in partitioner for keyed records; toPositive masks the sign bit).
 */
export function keyPartition(key: string, partitions: number): number {
  return (murmur2(utf8.encode(key)) & 0x7fffffff) % partitions;
}

export function assertShards(shards: number, shard?: number): void {
  if (!Number.isInteger(shards) || shards < 1) throw new RangeError(`shards must be an integer ≥ 1, got ${shards}`);
  if (shard !== undefined && (!Number.isInteger(shard) || shard < 0 || shard >= shards)) {
    throw new RangeError(`shard must be an integer in [0, ${shards - 1}], got ${shard}`);
  }
}

/**
 * The shard (= inputs partition) that owns `accountId`: the partition a stock
 * Kafka producer (Java, librdkafka, kafkajs's DefaultPartitioner) picks for a
 * record keyed by the account id, `keyPartition(accountId, shards)` — so a
 * producer in any language routes an account's inputs by keying them with the
 * account and leaving the partition to its client.
 */
export function shardOf(accountId: string, shards: number): number {
  assertShards(shards);
  return shards === 1 ? 0 : keyPartition(accountId, shards);
}

export interface RouteOptions {
  /**
   * The rules' system accounts (insurance, fees, backstop), if the producer
   * knows them. They exist in every shard, so a trade with a system account
   * goes only to the other party's shard. Without them such a trade also goes
   * to the system account's hash shard, which skips it (see `localizeInput`).
   */
  systemAccounts?: Iterable<string>;
}

const all = (shards: number): number[] => Array.from({ length: shards }, (_, i) => i);

/**
 * The partitions of the inputs topic an input must be produced to:
 * - `Deposited`, `WithdrawalRequested`: the account's shard;
 * - `TradeExecuted`: the shards of the buyer and of the seller (one if they share it);
 * - `MultiLegTradeExecuted`: the shards of every leg's buyer and seller;
 * - every other input (prices, clock, funding, expiry, volatility, rules, listings): every partition.
 */
export function routeInput(event: InputEvent, shards: number, options: RouteOptions = {}): number[] {
  assertShards(shards);
  switch (event.type) {
    case 'Deposited':
    case 'WithdrawalRequested':
      return [shardOf(event.account, shards)];
    case 'TradeExecuted':
      return [...new Set(tradeShards(event, new Set(options.systemAccounts ?? []), shards))].sort((a, b) => a - b);
    case 'MultiLegTradeExecuted': {
      const system = new Set(options.systemAccounts ?? []);
      return [...new Set(event.legs.flatMap((leg) => tradeShards(leg, system, shards)))].sort((a, b) => a - b);
    }
    default:
      return all(shards);
  }
}

/** The shards of a trade's (or leg's) parties that are not system accounts; the buyer's if both are. */
function tradeShards(trade: { buyer: string; seller: string }, system: ReadonlySet<string>, shards: number): number[] {
  const parties = [trade.buyer, trade.seller].filter((id) => !system.has(id));
  return (parties.length > 0 ? parties : [trade.buyer]).map((id) => shardOf(id, shards));
}

/** The message key of an input on the inputs topic: its account, the buyer of a trade (each copy of a cross-shard trade: its party on that partition), else its type. */
export function inputKey(event: InputEvent): string {
  switch (event.type) {
    case 'Deposited':
    case 'WithdrawalRequested':
      return event.account;
    case 'TradeExecuted':
      return event.buyer;
    case 'MultiLegTradeExecuted':
      return event.legs[0]!.buyer;
    default:
      return event.type;
  }
}

/**
 * A trade's copy for partition `partition` is keyed by its party that lives
 * there (the buyer if both do), so every account-keyed message sits on the
 * partition a stock producer would choose for its key (keyPartition).
 */
function partyKey(event: InputEvent, partition: number, shards: number): string | undefined {
  const parties = event.type === 'TradeExecuted' ? [event.buyer, event.seller] : event.type === 'MultiLegTradeExecuted' ? event.legs.flatMap((leg) => [leg.buyer, leg.seller]) : [];
  return parties.find((id) => shardOf(id, shards) === partition);
}

export interface RoutedInput {
  partition: number;
  key: string;
  event: InputEvent;
}

export interface InputRouterOptions extends RouteOptions {
  /**
   * Send a `ClockAdvanced` with the input's `ts` to every partition an
   * account-keyed input does not go to, whenever that partition has not seen
   * that time yet (default true). Timers (grace deadlines) are decided when a
   * shard's own clock passes them; without these ticks a deadline passed by
   * another shard's deposit would be decided later, at the shard's next
   * event (the same decisions, at the deadline on the state then, but late).
   */
  clockTicks?: boolean;
}

/**
 * The producer side of sharding: routes each input to its partitions and,
 * unless disabled, keeps every shard's clock in step (see `clockTicks`).
 * Stateful (it remembers the last time sent to each partition); use one
 * router per producer, feeding it the inputs in order.
 */
export class InputRouter {
  private readonly lastTs: number[];

  constructor(
    readonly shards: number,
    private readonly options: InputRouterOptions = {},
  ) {
    assertShards(shards);
    this.lastTs = new Array<number>(shards).fill(-Infinity);
  }

  route(event: InputEvent): RoutedInput[] {
    const partitions = routeInput(event, this.shards, this.options);
    const out: RoutedInput[] = [];
    const key = inputKey(event);
    const targets = new Set(partitions);
    if (this.options.clockTicks !== false && targets.size < this.shards) {
      for (let p = 0; p < this.shards; p++) {
        if (!targets.has(p) && this.lastTs[p]! < event.ts) {
          out.push({ partition: p, key: 'ClockAdvanced', event: { type: 'ClockAdvanced', ts: event.ts } });
          this.lastTs[p] = event.ts;
        }
      }
    }
    for (const p of partitions) {
      out.push({ partition: p, key: partyKey(event, p, this.shards) ?? key, event });
      if (this.lastTs[p]! < event.ts) this.lastTs[p] = event.ts;
    }
    return out;
  }
}

/** The rules' system accounts, as a shard knows them (undefined before any RulesActivated). */
export interface ShardAccounts {
  insurance: string;
  fees: string;
  backstop: string;
}

export type Localized =
  | { action: 'apply'; input: InputEvent }
  /** An extra copy of a trade with a system account: another shard applies it. */
  | { action: 'skip'; reason: string }
  /** The input does not belong to this shard: the producer did not route it with `routeInput`. */
  | { action: 'misrouted'; reason: string }
  /** The input cannot run sharded (rules whose decisions move a market every shard copies): dead-lettered as rejected. */
  | { action: 'refused'; reason: string };

export interface LocalizeContext {
  shards: number;
  shard: number;
  /** The shard's active rules' system accounts; undefined before RulesActivated. */
  accounts?: ShardAccounts;
}

/**
 * What shard `shard` makes of an input it received (pure):
 * - account events of its own accounts (or of a system account, which exists
 *   in every shard) apply; others are misrouted;
 * - a trade between two of its accounts applies as is; a trade with one of
 *   its accounts and one of another shard applies as the local leg against
 *   the backstop (novation; the remote side's fee is charged on its own
 *   shard); a trade with none of its accounts is misrouted;
 * - a trade with a system account belongs to the shard of the other party
 *   (of the buyer if both are system accounts); another shard skips its copy;
 * - a multi-leg trade applies as the legs this shard would apply as trades
 *   (novated the same way), booked together; each account's legs all land on
 *   its own shard, so each account is margined once after all of them (a
 *   refusal, though, is per shard: another shard may book its legs);
 * - rules with `impact` or `tokens` are refused on more than one shard: a
 *   forced fill's impact (and a token's rebalance) moves the mark of the shard
 *   that decided it, while every shard holds its own copy of the mark, so the
 *   shards' marks would part (and a token's fund and counterparty may live on
 *   two shards); such a market runs on one shard;
 * - everything else (prices, clock, funding, …) applies.
 * Before any rules are active a trade is passed through unchanged: the core
 * refuses it (no active rules), as a single process would.
 */
export function localizeInput(input: InputEvent, ctx: LocalizeContext): Localized {
  const { shards, shard, accounts } = ctx;
  assertShards(shards, shard);
  if (shards === 1) return { action: 'apply', input };
  const isSystem = (id: string): boolean => accounts !== undefined && (id === accounts.insurance || id === accounts.fees || id === accounts.backstop);
  const home = (id: string): number => shardOf(id, shards);
  switch (input.type) {
    case 'Deposited':
    case 'WithdrawalRequested': {
      if (home(input.account) === shard || isSystem(input.account)) return { action: 'apply', input };
      return { action: 'misrouted', reason: `account "${input.account}" belongs to shard ${home(input.account)} of ${shards}, not shard ${shard} (route inputs with routeInput)` };
    }
    case 'TradeExecuted':
      return accounts ? localizeTrade(input, shard, shards, accounts, isSystem, home) : { action: 'apply', input };
    case 'MultiLegTradeExecuted':
      return accounts ? localizeMultiLeg(input, shard, shards, accounts, isSystem, home) : { action: 'apply', input };
    case 'RulesActivated': {
      const unshardable = input.rules.impact !== undefined ? 'impact' : input.rules.tokens !== undefined ? 'tokens' : undefined;
      if (unshardable === undefined) return { action: 'apply', input };
      const what = unshardable === 'impact' ? "market impact moves the mark of the shard whose fills made it, and each shard holds its own copy of every mark (docs/rules.md §11)" : "a token's rebalance moves its fund's shard only, and its fund and counterparty may live on different shards (docs/rules.md §12)";
      return { action: 'refused', reason: `rules.${unshardable}: not on ${shards} shards: ${what}; run this market on one shard (--shards 1)` };
    }
    default:
      return { action: 'apply', input };
  }
}

/** What a shard makes of one trade or leg: the leg it applies (maybe novated), another shard's copy to skip, or not its own. */
type LegFate = { action: 'apply'; leg: TradeLeg } | { action: 'skip'; owner: number } | { action: 'misrouted' };

function localizeLeg(leg: TradeLeg, shard: number, accounts: ShardAccounts, isSystem: (id: string) => boolean, home: (id: string) => number): LegFate {
  const { buyer, seller } = leg;
  const buyerSystem = isSystem(buyer);
  const sellerSystem = isSystem(seller);
  if (buyerSystem || sellerSystem) {
    const owner = buyerSystem && sellerSystem ? home(buyer) : home(buyerSystem ? seller : buyer);
    return owner === shard ? { action: 'apply', leg } : { action: 'skip', owner };
  }
  const buyerHere = home(buyer) === shard;
  const sellerHere = home(seller) === shard;
  if (buyerHere && sellerHere) return { action: 'apply', leg };
  if (buyerHere) return { action: 'apply', leg: { ...leg, seller: accounts.backstop, sellerFee: 0n } };
  if (sellerHere) return { action: 'apply', leg: { ...leg, buyer: accounts.backstop, buyerFee: 0n } };
  return { action: 'misrouted' };
}

function localizeTrade(
  trade: TradeExecuted,
  shard: number,
  shards: number,
  accounts: ShardAccounts,
  isSystem: (id: string) => boolean,
  home: (id: string) => number,
): Localized {
  const fate = localizeLeg(trade, shard, accounts, isSystem, home);
  switch (fate.action) {
    case 'apply':
      return { action: 'apply', input: fate.leg === trade ? trade : { ...trade, ...fate.leg } };
    case 'skip':
      return { action: 'skip', reason: `trade "${trade.tradeId}" with a system account belongs to shard ${fate.owner}` };
    case 'misrouted':
      return {
        action: 'misrouted',
        reason: `trade "${trade.tradeId}": neither buyer "${trade.buyer}" (shard ${home(trade.buyer)}) nor seller "${trade.seller}" (shard ${home(trade.seller)}) belongs to shard ${shard} of ${shards} (route inputs with routeInput)`,
      };
  }
}

function localizeMultiLeg(
  trade: MultiLegTradeExecuted,
  shard: number,
  shards: number,
  accounts: ShardAccounts,
  isSystem: (id: string) => boolean,
  home: (id: string) => number,
): Localized {
  const fates = trade.legs.map((leg) => localizeLeg(leg, shard, accounts, isSystem, home));
  const legs = fates.flatMap((fate) => (fate.action === 'apply' ? [fate.leg] : []));
  if (legs.length === trade.legs.length && legs.every((leg, i) => leg === trade.legs[i])) return { action: 'apply', input: trade };
  if (legs.length > 0) return { action: 'apply', input: { ...trade, legs } };
  const owners = [...new Set(fates.flatMap((fate) => (fate.action === 'skip' ? [fate.owner] : [])))].sort((a, b) => a - b);
  if (owners.length > 0) return { action: 'skip', reason: `multi-leg trade "${trade.tradeId}": its legs with a system account belong to shard(s) ${owners.join(', ')}` };
  return { action: 'misrouted', reason: `multi-leg trade "${trade.tradeId}": no leg has an account of shard ${shard} of ${shards} (route inputs with routeInput)` };
}
