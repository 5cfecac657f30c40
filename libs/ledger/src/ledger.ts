import { divRound, type Fixed } from '@clearsim/money';
import { intrinsicValue } from '@clearsim/options';
import { HolderSet } from './holder-set';
import { PositionMap } from './position-map';
import type { Account, Instrument, LedgerState, Position } from './ledger.state';
import { applyFill, positionValue, tradeNotional } from './position-math';

/**
 * Ledger operations: the evolve half of the clearing core. They mutate the
 * ledger they are given (one writer per shard owns it) and never decide
 * anything; every amount they move is either given by an event or computed by
 * a documented rounding rule.
 */

/**
 * The collateral of every account that never held any: one shared empty map
 * (an empty Map costs ~200 bytes, most accounts hold only cash). It refuses
 * writes; adjustCollateral gives an account its own map on its first deposit.
 */
class NoCollateral extends Map<string, Fixed> {
  override set(): this {
    throw new Error('an account without collateral shares this empty map: give it its own first');
  }
}
export const NO_COLLATERAL: Map<string, Fixed> = new NoCollateral();

export function ensureAccount(ledger: LedgerState, id: string, isolated: boolean): Account {
  let account = ledger.accounts.get(id);
  if (!account) {
    account = { id, cash: 0n, isolated, positions: new PositionMap(), collateral: NO_COLLATERAL, deposited: 0n, withdrawn: 0n, version: 0 };
    ledger.accounts.set(id, account);
  }
  return account;
}

export function getAccount(ledger: LedgerState, id: string): Account {
  const account = ledger.accounts.get(id);
  if (!account) throw new Error(`unknown account ${id}`);
  return account;
}

export function getInstrument(ledger: LedgerState, id: string): Instrument {
  const instrument = ledger.instruments.get(id);
  if (!instrument) throw new Error(`unknown instrument ${id}`);
  return instrument;
}

export function deposit(ledger: LedgerState, account: Account, amount: Fixed): void {
  // A first deposit keeps the amount itself (a bigint is immutable) rather than 0 + amount: cash and
  // deposited then share one object, 24 bytes less per account that deposited once (most of them).
  account.cash = account.cash === 0n ? amount : account.cash + amount;
  account.deposited = account.deposited === 0n ? amount : account.deposited + amount;
  ledger.totalDeposited += amount;
}

export function withdraw(ledger: LedgerState, account: Account, amount: Fixed): void {
  account.cash -= amount;
  account.withdrawn += amount;
  ledger.totalWithdrawn += amount;
}

/** Adds (or, negative, removes) non-cash collateral from outside (a deposit or a withdrawal). */
export function moveCollateral(ledger: LedgerState, account: Account, asset: string, amount: Fixed): void {
  adjustCollateral(ledger, account, asset, amount);
  ledger.collateralNet.set(asset, (ledger.collateralNet.get(asset) ?? 0n) + amount);
}

/** Moves collateral between two accounts (a lending liquidation): net deposits do not change. */
export function transferCollateral(ledger: LedgerState, from: Account, to: Account, asset: string, amount: Fixed): void {
  adjustCollateral(ledger, from, asset, -amount);
  adjustCollateral(ledger, to, asset, amount);
}

function adjustCollateral(ledger: LedgerState, account: Account, asset: string, amount: Fixed): void {
  const balance = (account.collateral.get(asset) ?? 0n) + amount;
  let holders = ledger.collateralHolders.get(asset);
  if (!holders) ledger.collateralHolders.set(asset, (holders = new HolderSet()));
  if (balance === 0n) {
    account.collateral.delete(asset);
    holders.delete(account.id);
  } else {
    if (account.collateral === NO_COLLATERAL) account.collateral = new Map();
    account.collateral.set(asset, balance);
    holders.add(account.id);
  }
}

/** Moves cash between two accounts (fees, insurance draws, socialized losses). */
export function transfer(from: Account, to: Account, amount: Fixed): void {
  from.cash -= amount;
  to.cash += amount;
}

/** A position of the account is about to change. */
function bumpVersion(ledger: LedgerState, account: Account): void {
  account.version++;
  ledger.positionChanges++;
}

function positionOf(account: Account, instrument: string): Position {
  let position = account.positions.get(instrument);
  if (!position) {
    position = { instrument, qty: 0n, cost: 0n, isolatedMargin: 0n };
    account.positions.set(instrument, position);
  }
  return position;
}

/**
 * The margin balance a margin unit draws on: cash for a cross account, the
 * position's isolated margin for an isolated position.
 */
export function unitBalance(account: Account, instrument?: string): Fixed {
  if (instrument === undefined) return account.cash;
  return account.positions.get(instrument)?.isolatedMargin ?? 0n;
}

/** Credits (or debits, if negative) a margin unit's balance. */
export function creditUnit(account: Account, instrument: string | undefined, amount: Fixed): void {
  if (instrument === undefined) {
    account.cash += amount;
    return;
  }
  const position = positionOf(account, instrument);
  position.isolatedMargin += amount;
  releaseClosedIsolated(account, position);
}

/**
 * A socialized share charged against an open position's gain: its cost basis
 * rises by `amount` (a long's entry price up, a short's down), so its
 * unrealized PnL at the same mark falls by exactly `amount` and the same gain
 * cannot be charged twice. A futures-style position pays at close through the
 * moved basis; a premium-style one, whose value (not value − cost) counts in
 * equity, pays `amount` from its unit's balance now.
 */
export function chargeGain(ledger: LedgerState, account: Account, instrument: string, amount: Fixed): void {
  const position = account.positions.get(instrument);
  if (!position || position.qty === 0n) throw new Error(`a socialized share charges ${account.id}'s ${instrument} position, which is not open`);
  bumpVersion(ledger, account);
  position.cost += amount;
  if (ledger.instruments.get(instrument)?.premiumStyle) creditUnit(account, account.isolated ? instrument : undefined, -amount);
}

/** A closed isolated position returns its margin to cash once it is not in deficit. */
function releaseClosedIsolated(account: Account, position: Position): void {
  if (position.qty === 0n && position.isolatedMargin >= 0n) {
    account.cash += position.isolatedMargin;
    account.positions.delete(position.instrument);
  }
}

function trackHolder(ledger: LedgerState, account: Account, position: Position): void {
  let holders = ledger.holders.get(position.instrument);
  if (!holders) {
    holders = new HolderSet();
    ledger.holders.set(position.instrument, holders);
  }
  if (position.qty === 0n) {
    holders.delete(account.id);
    if (!account.isolated || position.isolatedMargin === 0n) account.positions.delete(position.instrument);
  } else {
    holders.add(account.id);
  }
}

export interface FillOptions {
  /** Isolated margin to move from cash into the position before the fill (new exposure). */
  allocateIsolated?: Fixed;
  /** A liquidation keeps a negative isolated margin on the record for the waterfall. */
  liquidation?: boolean;
}

/**
 * Books a fill of signed `delta` for one side. The realized PnL goes to cash
 * (cross) or to the position's isolated margin (isolated).
 */
export function fill(ledger: LedgerState, account: Account, instrument: Instrument, delta: Fixed, price: Fixed, notional: Fixed, options: FillOptions = {}): Fixed {
  const position = positionOf(account, instrument.id);
  // a position open before and after the fill is among the instrument's holders already (trackHolder keeps them so)
  const heldBefore = position.qty !== 0n;
  bumpVersion(ledger, account);
  const result = applyFill(position.qty, position.cost, delta, price, instrument.multiplier, notional, instrument.inverse);
  if (instrument.openInterest !== undefined) instrument.openInterest += longPart(result.qty) - longPart(position.qty);
  position.qty = result.qty;
  position.cost = result.cost;
  if (instrument.premiumStyle) {
    // the premium is paid (or received) in cash now; `cost` only remembers the entry
    result.realized = delta > 0n ? -notional : notional;
  }
  if (account.isolated) {
    if (options.allocateIsolated) {
      account.cash -= options.allocateIsolated;
      position.isolatedMargin += options.allocateIsolated;
    }
    position.isolatedMargin += result.realized;
    if (position.qty === 0n && (!options.liquidation || position.isolatedMargin >= 0n)) {
      // closed by its owner (or solvent): whatever is left (even a loss) settles against cash
      account.cash += position.isolatedMargin;
      position.isolatedMargin = 0n;
    }
  } else if (result.realized !== 0n) {
    // (opening or adding realizes nothing: cash keeps its object, possibly shared with `deposited`)
    account.cash += result.realized;
  }
  if (!(heldBefore && position.qty !== 0n)) trackHolder(ledger, account, position);
  return result.realized;
}

/** The long part of a signed quantity (what it adds to the open interest). */
const longPart = (qty: Fixed): Fixed => (qty > 0n ? qty : 0n);

/** A bilateral trade: both sides book the same half-even notional. */
export function trade(ledger: LedgerState, buyer: Account, seller: Account, instrument: Instrument, qty: Fixed, price: Fixed, options: { buyer?: FillOptions; seller?: FillOptions } = {}): void {
  const notional = tradeNotional(qty, price, instrument.multiplier, instrument.inverse);
  fill(ledger, buyer, instrument, qty, price, notional, options.buyer);
  fill(ledger, seller, instrument, -qty, price, notional, options.seller);
}

/** Charges a fee (or pays a rebate, if negative) from an account's margin unit to `collector`. */
export function chargeFee(account: Account, instrument: string | undefined, collector: Account, fee: Fixed): void {
  if (fee === 0n) return;
  // an isolated position pays from its own margin while it exists
  creditUnit(account, account.isolated && instrument !== undefined && account.positions.has(instrument) ? instrument : undefined, -fee);
  collector.cash += fee;
}

/**
 * Expiry: closes every position at the settlement price. Each account
 * realizes `qty × price × multiplier − cost` (inverse: `−qty × face / price − cost`, in coin) rounded down (against the
 * account); the rounding residual (≥ 0) goes to the fee collector, so the
 * settlement conserves money exactly.
 */
export function settleInstrument(ledger: LedgerState, instrument: Instrument, price: Fixed, feeCollector: Account): void {
  // an option settles at its payoff per unit, a future at the settlement price
  const unitValue = settlementValue(instrument, price);
  let residual = 0n;
  for (const id of holdersOf(ledger, instrument.id)) {
    const account = getAccount(ledger, id);
    const position = account.positions.get(instrument.id);
    if (!position) continue;
    const value = positionValue(position.qty, unitValue, instrument.multiplier, instrument.inverse === true, 'floor');
    const realized = instrument.premiumStyle ? value : value - position.cost;
    bumpVersion(ledger, account);
    position.qty = 0n;
    position.cost = 0n;
    if (account.isolated) {
      position.isolatedMargin += realized;
      account.cash += position.isolatedMargin;
      position.isolatedMargin = 0n;
    } else {
      account.cash += realized;
    }
    trackHolder(ledger, account, position);
    residual -= value;
  }
  instrument.mark = unitValue;
  instrument.settled = true;
  if (instrument.openInterest !== undefined) instrument.openInterest = 0n;
  // Σ qty = 0, so Σ exact values = 0 and −Σ floored values is the rounding residual
  feeCollector.cash += residual;
}

/** Per-unit settlement value: the price for a future; max(S − K, 0) or max(K − S, 0) for an option on S. */
export function settlementValue(instrument: Instrument, price: Fixed): Fixed {
  if (!instrument.premiumStyle) return price;
  return intrinsicValue(instrument.optionType === 'put' ? 'put' : 'call', price, instrument.strike ?? 0n);
}

/** Funding payment of one position, from the account's view (negative = pays), rounded down. */
export function fundingPayment(position: Position, instrument: Instrument, mark: Fixed, rate: Fixed): Fixed {
  // longs pay shorts when the rate is positive: amount = −qty × mark × rate × multiplier;
  // inverse: −qty × face / mark × rate, in coin (BitMEX, Binance COIN-M, Deribit)
  if (instrument.inverse) return divRound(-position.qty * rate * instrument.multiplier, mark * 10n ** 8n, 'floor');
  return divRound(-position.qty * mark * rate * instrument.multiplier, 10n ** 24n, 'floor');
}

export function holdersOf(ledger: LedgerState, instrument: string): string[] {
  return [...(ledger.holders.get(instrument) ?? [])].sort();
}

