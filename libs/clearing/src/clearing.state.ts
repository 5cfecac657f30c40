import type { Fixed } from '@clearsim/money';
import { formatTimestamp, type Timestamp } from '@clearsim/events';
import { emptyLedger, type LedgerState } from '@clearsim/ledger';
import { PriceBands } from '@clearsim/margin';
import type { Rules } from '@clearsim/rules';
import { emptySaga, type ImpactState, type SagaState } from '@clearsim/saga';

export interface ClearingStats {
  eventsIn: number;
  duplicates: number;
  decisions: number;
  marginCalls: number;
  marginCallsMet: number;
  gracePeriodsExpired: number;
  liquidations: number;
  positionsLiquidated: number;
  bankruptcies: number;
  insuranceDraws: number;
  insuranceDrawn: Fixed;
  autoDeleverages: number;
  lossesSocialized: number;
  withdrawalsApproved: number;
  withdrawalsRejected: number;
  /** Rules with `impact` only (absent otherwise, so summaries without it are unchanged): marks moved by forced fills or their decay… */
  markImpacts?: number;
  /** …and rounds of liquidations an impact triggered in the same step (docs/rules.md §11). */
  cascadeWaves?: number;
  /** Rules with `tokens` only (absent otherwise): leveraged token rebalances (docs/rules.md §12). */
  tokenRebalances?: number;
  /** From the first ADL fill on (absent before, so summaries without ADL are unchanged): what ADL took, see AdlStats. */
  adl?: AdlStats;
}

/**
 * What the ADL fills did, summed over the run (docs/rules.md "ADL policies"):
 * - deficitCovered: Σ qty × (fill price − liquidation price) × multiplier over the fills, qty the
 *   deleveraged trader's change, the liquidation price the mark ∓ the rules' slippage against the
 *   bankrupt — the part of the bankrupts' deficits (reckoned at liquidation prices) the fills covered;
 * - profitTaken: Σ the unrealized PnL at the mark of the closed part of each deleveraged position
 *   (PnL × closed ÷ open, rounded down) — the profit forced out of winning positions;
 * - overshoot = profitTaken − deficitCovered (derived where shown);
 * - the accounts deleveraged, and Σ |qty| × mark × multiplier of the closed quantity.
 */
export interface AdlStats {
  deficitCovered: Fixed;
  profitTaken: Fixed;
  notionalDeleveraged: Fixed;
  accounts: Set<string>;
}

/** The whole state of one shard: what evolve folds and decide reads. */
export interface ClearingState {
  /** The log's clock: the newest `ts` seen (−∞ before the first event). */
  clock: Timestamp;
  rules?: Rules;
  ledger: LedgerState;
  saga: SagaState;
  /**
   * Idempotency keys already applied (idempotency.ts: `trade:…`, `withdrawal:…`,
   * `event:…`, scoped by `postedBy|`), each with the 30-bit digest of its
   * input's content: a repeat is a duplicate or a conflict. A small integer per
   * id, no copy of the input. Inputs keyed by their Kafka coordinates have no
   * entry each: `kafka|position:<topic>/<partition>` holds the highest offset
   * applied of that partition (idempotency.ts, kafkaPosition).
   */
  seenIds: Map<string, number>;
  stats: ClearingStats;
  /**
   * Price bands (a cache, rebuilt after replay): which holders a price update
   * can push below maintenance margin.
   */
  bands: PriceBands;
  bandsStale: boolean;
  /**
   * The shortcuts that skip checks proven to decide nothing: price bands
   * (tiered models) and the float screen (portfolio model). `false` checks
   * every holder exactly; tests use it to prove they change no decision.
   */
  fastPaths: boolean;
  /** Marks displaced by forced fills (rules `impact`); absent until the first impact. */
  impact?: ImpactState;
  /**
   * Units of leveraged tokens held by accounts (TokenUnitsCreated/Redeemed,
   * docs/rules.md §12): per token, the units outstanding and each holder's;
   * absent until the first creation.
   */
  tokenUnits?: Map<string, TokenUnits>;
}

/** One token's units: outstanding = the sum of its holders' (a holder with none left is removed). */
export interface TokenUnits {
  outstanding: Fixed;
  holders: Map<string, Fixed>;
}

export function emptyClearingState(): ClearingState {
  return {
    clock: -Infinity,
    ledger: emptyLedger(),
    saga: emptySaga(),
    seenIds: new Map(),
    bands: new PriceBands(),
    bandsStale: false,
    fastPaths: true,
    stats: {
      eventsIn: 0,
      duplicates: 0,
      decisions: 0,
      marginCalls: 0,
      marginCallsMet: 0,
      gracePeriodsExpired: 0,
      liquidations: 0,
      positionsLiquidated: 0,
      bankruptcies: 0,
      insuranceDraws: 0,
      insuranceDrawn: 0n,
      autoDeleverages: 0,
      lossesSocialized: 0,
      withdrawalsApproved: 0,
      withdrawalsRejected: 0,
    },
  };
}

/** The shard's clock as an ISO timestamp; null before its first event (the clock starts at −∞). */
export function clockIso(state: ClearingState): string | null {
  return Number.isFinite(state.clock) ? formatTimestamp(state.clock) : null;
}
