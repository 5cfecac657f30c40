import { formatFixed, type Fixed } from '@clearsim/money';
import { chargeFee, emptyLedger, ensureAccount, fill, PositionMap, tradeNotional, type Account, type Instrument, type LedgerState } from '@clearsim/ledger';
import { computeRisk, meetsInitialMargin, meetsMaintenanceMargin } from '@clearsim/margin';
import { isSystemAccount, type Rules } from '@clearsim/rules';
import type { ClearingState } from './clearing.state';
import { isolatedAllocation } from './evolve';
import { InputRejected, quotedId, tradableInstrument } from './validate';
import { accountView } from './views';

/** A trade an account is thinking of making; nothing of it is applied to the shard. */
export interface ProposedTrade {
  account: string;
  instrument: string;
  side: 'buy' | 'sell';
  /** Unsigned quantity (> 0). */
  qty: Fixed;
  price: Fixed;
  /** Fee the account would pay (a negative fee is a rebate); 0 when absent. */
  fee?: Fixed;
}

/** The traded instrument's position of the account, as the margin engine sees it. */
export interface WhatIfPosition {
  qty: Fixed;
  entryPrice: Fixed;
  initialMargin: Fixed;
  maintenanceMargin: Fixed;
  liquidationPrice?: Fixed;
}

/** An account's margin figures (all of its margin units summed), plus the predicates of the unit the trade lands in. */
export interface MarginFigures {
  cash: Fixed;
  equity: Fixed;
  initialMargin: Fixed;
  maintenanceMargin: Fixed;
  /** equity − initialMargin (negative: short of initial margin). */
  freeCollateral: Fixed;
  /** The position in the traded instrument; undefined when flat. */
  position?: WhatIfPosition;
  /** equity ≥ IM of the margin unit the trade lands in (the account when cross, the position when isolated). */
  meetsInitialMargin: boolean;
  /** equity ≥ MM of that unit. */
  meetsMaintenanceMargin: boolean;
}

export interface WhatIfResult {
  /** The mark the figures are computed at (the trade price when the instrument has none yet, as the first trade sets it). */
  mark: Fixed;
  before: MarginFigures;
  after: MarginFigures;
}

/**
 * What a proposed trade would do to one account's margin, at the current
 * marks: the fill is applied with the ledger's own `fill` (position math,
 * realized PnL, isolated margin) and fee charge to a deep copy of just that
 * account, in a scratch ledger that shares only the (unchanged) instruments;
 * risk is `computeRisk` through `accountView`, as for the live account. The
 * live state is never touched and nothing is decided: whether the saga would
 * call or liquidate is for the log to tell, this only reports the figures and
 * the two margin predicates.
 *
 * Refuses (InputRejected, the codes of `validateInput`) a proposal the shard
 * could not book: no rules yet, unknown or settled instrument, an index, no
 * margin tiers, an unknown account.
 */
export function whatIfTrade(state: ClearingState, trade: ProposedTrade): WhatIfResult {
  // the same checks as a real trade's
  const live = tradableInstrument(state, trade.instrument);
  const rules = state.rules!;
  const account = state.ledger.accounts.get(trade.account);
  if (!account) throw new InputRejected('unknown-account', 'account', `unknown account ${quotedId(trade.account)} (an account exists once it has a Deposited event)`);

  // the first trade of an instrument sets its mark (evolveTrade): so does the hypothetical one, in the scratch copy
  // (a copy always: the fill moves its open interest)
  const instrument: Instrument = { ...live, mark: live.mark ?? trade.price };
  const ledger: LedgerState = { ...state.ledger, instruments: new Map(state.ledger.instruments).set(instrument.id, instrument), holders: new Map() };
  const scratch: ClearingState = { ...state, ledger };

  const before = figures(scratch, rules, account, instrument.id);
  const after = copyAccount(account);
  const delta = trade.side === 'buy' ? trade.qty : -trade.qty;
  const allocateIsolated = isolatedAllocation(rules, after, instrument.id, delta, trade.price, instrument.multiplier, instrument.inverse);
  fill(ledger, after, instrument, delta, trade.price, tradeNotional(trade.qty, trade.price, instrument.multiplier, instrument.inverse), { allocateIsolated });
  chargeFee(after, instrument.id, ensureAccount(emptyLedger(), rules.accounts.fees, false), trade.fee ?? 0n);

  return { mark: instrument.mark!, before, after: figures(scratch, rules, after, instrument.id) };
}

/** A deep copy of an account: its positions one by one, every other map (balances by asset) as a new map. */
function copyAccount(account: Account): Account {
  const copy: Account = { ...account };
  for (const [key, value] of Object.entries(copy)) {
    if (value instanceof Map) (copy as unknown as Record<string, unknown>)[key] = new Map(value);
  }
  copy.positions = PositionMap.of([...account.positions.values()].map((position) => ({ ...position })));
  return copy;
}

function figures(state: ClearingState, rules: Rules, account: Account, instrument: string): MarginFigures {
  const view = accountView(state, account);
  const held = view.positions.find((p) => p.instrument === instrument);
  const unit = account.isolated && !isSystemAccount(rules, account.id) ? { account: account.id, instrument } : { account: account.id };
  const risk = computeRisk(state.ledger, rules, account, unit);
  return {
    cash: view.cash,
    equity: view.equity,
    initialMargin: view.initialMargin,
    maintenanceMargin: view.maintenanceMargin,
    freeCollateral: view.equity - view.initialMargin,
    position: held && {
      qty: held.qty,
      entryPrice: held.entryPrice,
      initialMargin: held.initialMargin,
      maintenanceMargin: held.maintenanceMargin,
      liquidationPrice: held.liquidationPrice,
    },
    meetsInitialMargin: meetsInitialMargin(risk),
    meetsMaintenanceMargin: meetsMaintenanceMargin(risk),
  };
}

/** JSON form (decimals as strings; a missing position or liquidation price is null), the shape of the HTTP API. */
export function whatIfJson(result: WhatIfResult): Record<string, unknown> {
  const side = (f: MarginFigures) => ({
    cash: formatFixed(f.cash),
    equity: formatFixed(f.equity),
    initialMargin: formatFixed(f.initialMargin),
    maintenanceMargin: formatFixed(f.maintenanceMargin),
    freeCollateral: formatFixed(f.freeCollateral),
    meetsInitialMargin: f.meetsInitialMargin,
    meetsMaintenanceMargin: f.meetsMaintenanceMargin,
    position: f.position
      ? {
          qty: formatFixed(f.position.qty),
          entryPrice: formatFixed(f.position.entryPrice),
          initialMargin: formatFixed(f.position.initialMargin),
          maintenanceMargin: formatFixed(f.position.maintenanceMargin),
          liquidationPrice: f.position.liquidationPrice === undefined ? null : formatFixed(f.position.liquidationPrice),
        }
      : null,
  });
  const { before, after } = result;
  return {
    mark: formatFixed(result.mark),
    before: side(before),
    after: side(after),
    change: {
      equity: formatFixed(after.equity - before.equity),
      initialMargin: formatFixed(after.initialMargin - before.initialMargin),
      maintenanceMargin: formatFixed(after.maintenanceMargin - before.maintenanceMargin),
      freeCollateral: formatFixed(after.freeCollateral - before.freeCollateral),
    },
  };
}
