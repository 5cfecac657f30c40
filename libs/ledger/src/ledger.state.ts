import type { Fixed } from '@clearsim/money';
import type { Timestamp } from '@clearsim/events';
import { EMPTY_VOLATILITY_SURFACE, type VolatilitySurface } from '@clearsim/options';
import type { HolderSet } from './holder-set';
import type { PositionMap } from './position-map';

export type InstrumentKind = 'perpetual' | 'future' | 'option' | 'index';

export interface Instrument {
  id: string;
  kind: InstrumentKind;
  underlying?: string;
  settlementAsset: string;
  multiplier: Fixed;
  expiry?: Timestamp;
  optionType?: 'call' | 'put';
  strike?: Fixed;
  /**
   * Premium style (options): the premium moves through cash at the trade and
   * the position counts at its full value; futures style (perpetuals,
   * futures): nothing moves at the trade and the position counts at
   * value − cost (variation margin).
   */
  premiumStyle: boolean;
  /**
   * Inverse (coin-margined) payoff: `multiplier` is the face value of a contract in the quote currency and
   * every amount (cost, PnL, notional, margin, funding) is in the coin, the settlement asset: a position's
   * value at price p is −qty × multiplier / p (see position-math.ts). Absent (undefined) on linear instruments.
   */
  inverse?: true;
  /** Last `PriceUpdated` (or the first trade's price when none came yet); for options, derived by Black-76. */
  mark?: Fixed;
  /** When an option's mark was last derived (its time to expiry in scenarios is measured from here). */
  markedAt?: Timestamp;
  settled: boolean;
  /**
   * Σ qty of the long positions (= Σ |qty| of the shorts): the open interest, kept by every fill and settlement
   * for margin that scales with it (dYdX's open-interest-scaled IMF). Undefined only in a state restored from a
   * snapshot written before it existed; margin then counts it once from the holders (openInterestOf).
   */
  openInterest?: Fixed;
}

/**
 * A signed position. `cost` is the signed cost basis in cash: the sum of the
 * signed trade notionals of the open quantity (qty × entry × multiplier), so
 * unrealized PnL = qty × mark × multiplier − cost, exactly. For an inverse
 * instrument the signed value of qty at p is −qty × multiplier / p (in coin),
 * so `cost` = −Σ qty × multiplier / entry (negative for a long) and
 * unrealized PnL = −qty × multiplier / mark − cost = multiplier × qty × (1/entry − 1/mark).
 */
export interface Position {
  instrument: string;
  qty: Fixed;
  cost: Fixed;
  /**
   * Isolated positions only: the margin set aside for this position. Realized
   * PnL, fees and funding of the position land here, not in cash. A liquidated
   * isolated position whose margin went negative keeps its record (qty 0) until
   * the bankruptcy waterfall has covered the deficit.
   */
  isolatedMargin: Fixed;
}

export interface Account {
  id: string;
  /** Balance of the shard's cash asset (the instruments' settlement asset). */
  cash: Fixed;
  isolated: boolean;
  /** By instrument, in the order they were opened (a Map's order; see position-map.ts for why not a Map). */
  positions: PositionMap;
  /** Non-cash collateral balances by asset (see rules.collateral). */
  collateral: Map<string, Fixed>;
  deposited: Fixed;
  withdrawn: Fixed;
  /**
   * Bumped whenever a position changes (caches of derived views compare it).
   * Set from the start (0): a field added later would move it out of the
   * object into a separate property array (40 more bytes per account).
   */
  version: number;
}

export interface LedgerState {
  /** The shard's cash asset (the instruments' settlement asset); other assets are collateral (rules.collateral). */
  cashAsset?: string;
  instruments: Map<string, Instrument>;
  accounts: Map<string, Account>;
  /** instrument → accounts holding a position in it (qty ≠ 0), for touching only what a price can change. */
  holders: Map<string, HolderSet>;
  totalDeposited: Fixed;
  totalWithdrawn: Fixed;
  /** Implied volatilities (`VolatilityUpdated`): flat per underlying, or points per strike and expiry. */
  volatility: VolatilitySurface;
  /** Instruments some option is written on (their price re-marks the options). */
  underlyingsWithOptions: Set<string>;
  /** asset → accounts holding it as collateral (its price changes their equity). */
  collateralHolders: Map<string, HolderSet>;
  /** Net deposits of non-cash collateral per asset (deposits − approved withdrawals), for the conservation check. */
  collateralNet: Map<string, Fixed>;
  /** Sampled returns of every priced instrument, for the VaR models and dynamic margin (see price-history.ts). */
  priceHistory: Map<string, PriceSeries>;
  /**
   * Bumped with any account's version: a cache that saw every account at one
   * count knows none has changed while it stays the same.
   */
  positionChanges: number;
}

/** Close-to-close returns of one instrument, one per sampling period of log time. */
export interface PriceSeries {
  /** The sampling period the latest price falls in (floor(ts / period)). */
  period: number;
  /** Close of the last completed period, once there is one. */
  close?: number;
  /** The latest price (the current period's close so far). */
  last: number;
  /** Oldest first, at most `capacity`. */
  returns: number[];
}

export function emptyLedger(): LedgerState {
  return { instruments: new Map(), accounts: new Map(), holders: new Map(), totalDeposited: 0n, totalWithdrawn: 0n, volatility: EMPTY_VOLATILITY_SURFACE, underlyingsWithOptions: new Set(), collateralHolders: new Map(), collateralNet: new Map(), priceHistory: new Map(), positionChanges: 0 };
}
