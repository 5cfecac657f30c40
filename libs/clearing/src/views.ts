import { formatFixed, type Fixed } from '@clearsim/money';
import { entryPrice, type Account } from '@clearsim/ledger';
import { accountGreeks, computeRisk, healthFactorFixed, liquidationPrice, positionGreeksOf, positionRisk, unitsOf } from '@clearsim/margin';
import type { Greeks } from '@clearsim/options';
import { isSystemAccount } from '@clearsim/rules';
import { hasOpenCall } from '@clearsim/saga';
import type { ClearingState } from './clearing.state';
import { tokenHoldings, type TokenHolding } from './token-units';

export type AccountStatus = 'healthy' | 'margin-call' | 'liquidated' | 'bankrupt' | 'system';

export interface PositionView {
  instrument: string;
  qty: Fixed;
  entryPrice: Fixed;
  mark: Fixed;
  unrealizedPnl: Fixed;
  initialMargin: Fixed;
  maintenanceMargin: Fixed;
  isolatedMargin?: Fixed;
  liquidationPrice?: Fixed;
  /** Options only: with respect to the underlying's price (delta in its units, vega per 1.00 of vol, theta per year); floats. */
  greeks?: Greeks;
}

export interface AccountView {
  account: string;
  cash: Fixed;
  /** Non-cash collateral balances by asset. */
  collateral: Map<string, Fixed>;
  equity: Fixed;
  initialMargin: Fixed;
  maintenanceMargin: Fixed;
  status: AccountStatus;
  marginMode: 'cross' | 'isolated';
  positions: PositionView[];
  /** Per underlying, when the account holds options. */
  greeks: { underlying: string; greeks: Greeks }[];
  /** `model: lending` only: Σ collateral × LT / debt, rounded down; null without debt (∞). */
  healthFactor?: Fixed | null;
  /** Leveraged token units held (docs/rules.md §12), when any: shown, never margin collateral. */
  tokens?: TokenHolding[];
}

/** An account's equity and requirements summed over its margin units: the figures a list ranks accounts by. */
export interface AccountTotals {
  equity: Fixed;
  initialMargin: Fixed;
  maintenanceMargin: Fixed;
}

export function accountTotals(state: ClearingState, account: Account): AccountTotals {
  const rules = state.rules;
  // an isolated account's cash is in no margin unit; a cross account's is in its one unit (with its collateral)
  let equity = account.isolated || !rules ? account.cash : 0n;
  let initialMargin = 0n;
  let maintenanceMargin = 0n;
  if (rules) {
    for (const unit of unitsOf(account)) {
      const risk = computeRisk(state.ledger, rules, account, unit);
      initialMargin += risk.initialMargin;
      maintenanceMargin += risk.maintenanceMargin;
      equity += risk.equity;
    }
  }
  return { equity, initialMargin, maintenanceMargin };
}

/** The insurance fund's cash, or undefined before rules name its account. */
export function insuranceFundCash(state: ClearingState): Fixed | undefined {
  const id = state.rules?.accounts.insurance;
  return id ? (state.ledger.accounts.get(id)?.cash ?? 0n) : undefined;
}

/** Σ IM of the traders (system accounts excluded): what the rules make the book post. */
export function initialMarginHeld(state: ClearingState): Fixed {
  const rules = state.rules;
  let total = 0n;
  for (const [id, account] of state.ledger.accounts) {
    if (rules && isSystemAccount(rules, id)) continue;
    total += accountTotals(state, account).initialMargin;
  }
  return total;
}

/** An account as the saga sees it now: its totals (accountTotals), and each position with its stand-alone figures. */
export function accountView(state: ClearingState, account: Account): AccountView {
  const rules = state.rules;
  const { equity, initialMargin: im, maintenanceMargin: mm } = accountTotals(state, account);
  const positions: PositionView[] = [];
  if (rules) {
    for (const position of [...account.positions.values()].sort((a, b) => (a.instrument < b.instrument ? -1 : 1))) {
      if (position.qty === 0n) continue;
      const r = positionRisk(state.ledger, rules, position, account.id);
      const unit = account.isolated ? { account: account.id, instrument: position.instrument } : { account: account.id };
      positions.push({
        instrument: position.instrument,
        qty: position.qty,
        entryPrice: entryPrice(position.qty, position.cost, r.multiplier, r.inverse),
        mark: r.mark,
        unrealizedPnl: r.unrealizedPnl,
        initialMargin: r.initialMargin,
        maintenanceMargin: r.maintenanceMargin,
        isolatedMargin: account.isolated ? position.isolatedMargin : undefined,
        liquidationPrice: isSystemAccount(rules, account.id) ? undefined : liquidationPrice(state.ledger, rules, account, unit, position.instrument),
        // options only: a future's delta is just its quantity × multiplier
        greeks: r.premiumStyle ? positionGreeksOf(state.ledger, rules, position) : undefined,
      });
    }
  }
  const holdsOptions = rules !== undefined && [...account.positions.values()].some((p) => p.qty !== 0n && state.ledger.instruments.get(p.instrument)?.premiumStyle);
  const view: AccountView = { account: account.id, cash: account.cash, collateral: new Map(account.collateral), greeks: holdsOptions ? accountGreeks(state.ledger, rules, account) : [], equity, initialMargin: im, maintenanceMargin: mm, status: statusOf(state, account.id), marginMode: account.isolated ? 'isolated' : 'cross', positions };
  if (rules?.model === 'lending') view.healthFactor = healthFactorFixed(state.ledger, rules, account) ?? null;
  const tokens = tokenHoldings(state, account.id);
  if (tokens.length > 0) view.tokens = tokens;
  return view;
}

export function statusOf(state: ClearingState, accountId: string): AccountStatus {
  if (state.rules && isSystemAccount(state.rules, accountId)) return 'system';
  if (hasOpenCall(state.saga, accountId)) return 'margin-call';
  return state.saga.outcome.get(accountId) ?? 'healthy';
}

/** JSON form of an account (decimals as strings), the shape of `--json` and the HTTP API. */
export function accountJson(view: AccountView): Record<string, unknown> {
  return {
    cash: formatFixed(view.cash),
    ...(view.collateral.size > 0 ? { collateral: Object.fromEntries([...view.collateral].sort().map(([asset, amount]) => [asset, formatFixed(amount)])) } : {}),
    equity: formatFixed(view.equity),
    initialMargin: formatFixed(view.initialMargin),
    maintenanceMargin: formatFixed(view.maintenanceMargin),
    status: view.status,
    marginMode: view.marginMode,
    ...(view.healthFactor !== undefined ? { healthFactor: view.healthFactor === null ? null : formatFixed(view.healthFactor) } : {}),
    ...(view.tokens ? { tokens: Object.fromEntries(view.tokens.map((t) => [t.token, { units: formatFixed(t.units), navPerUnit: formatFixed(t.navPerUnit), value: formatFixed(t.value) }])) } : {}),
    ...(view.greeks.length > 0 ? { greeks: Object.fromEntries(view.greeks.map(({ underlying, greeks }) => [underlying, roundGreeks(greeks)])) } : {}),
    positions: Object.fromEntries(
      view.positions.map((p) => [
        p.instrument,
        {
          qty: formatFixed(p.qty),
          entryPrice: formatFixed(p.entryPrice),
          mark: formatFixed(p.mark),
          unrealizedPnl: formatFixed(p.unrealizedPnl),
          initialMargin: formatFixed(p.initialMargin),
          maintenanceMargin: formatFixed(p.maintenanceMargin),
          ...(p.isolatedMargin !== undefined ? { isolatedMargin: formatFixed(p.isolatedMargin) } : {}),
          liquidationPrice: p.liquidationPrice === undefined ? null : formatFixed(p.liquidationPrice),
          ...(p.greeks ? { greeks: roundGreeks(p.greeks) } : {}),
        },
      ]),
    ),
  };
}

/**
 * The conservation invariant (docs/rules.md), exactly: with Σ qty = 0 per
 * instrument, Σ equity over every account at the same marks reduces to
 * Σ (cash + isolated margin − cost basis of futures-style positions), which
 * must equal Σ deposits − Σ approved withdrawals to the last ledger unit.
 * A token's units outstanding are the sum of its holders' units.
 */
export function checkInvariants(state: ClearingState): string[] {
  const problems: string[] = [];
  let held = 0n;
  const openInterest = new Map<string, Fixed>();
  // the holders' index: exactly the accounts with an open position in each instrument (fills keep it so)
  const openPositions = new Map<string, number>();
  let unlisted = 0;
  for (const account of state.ledger.accounts.values()) {
    held += account.cash;
    for (const p of account.positions.values()) {
      // futures style: cash − cost basis; premium style: the premium already left cash
      held += p.isolatedMargin - (state.ledger.instruments.get(p.instrument)?.premiumStyle ? 0n : p.cost);
      openInterest.set(p.instrument, (openInterest.get(p.instrument) ?? 0n) + p.qty);
      if (p.qty === 0n) continue;
      openPositions.set(p.instrument, (openPositions.get(p.instrument) ?? 0) + 1);
      if (!state.ledger.holders.get(p.instrument)?.has(account.id) && unlisted++ < 5) problems.push(`${account.id} holds ${p.instrument} but is not among its holders`);
    }
  }
  if (unlisted > 5) problems.push(`… and ${unlisted - 5} more positions not among their instrument's holders`);
  for (const [instrument, holders] of state.ledger.holders) {
    const open = openPositions.get(instrument) ?? 0;
    if (holders.size !== open) problems.push(`${instrument} lists ${holders.size} holders but ${open} accounts hold it`);
  }
  const expected = state.ledger.totalDeposited - state.ledger.totalWithdrawn;
  if (held !== expected) problems.push(`money not conserved: accounts hold ${formatFixed(held)} (cash − cost basis) but deposits − withdrawals = ${formatFixed(expected)}`);
  for (const [asset, net] of state.ledger.collateralNet) {
    let total = 0n;
    for (const account of state.ledger.accounts.values()) total += account.collateral.get(asset) ?? 0n;
    if (total !== net) problems.push(`collateral ${asset} not conserved: accounts hold ${formatFixed(total)} but deposits − withdrawals = ${formatFixed(net)}`);
  }
  for (const [instrument, net] of openInterest) {
    if (net !== 0n) problems.push(`open interest of ${instrument} nets to ${formatFixed(net)}, not 0`);
  }
  // leveraged token units: the units outstanding are exactly the holders' (docs/rules.md §12)
  for (const [token, units] of state.tokenUnits ?? []) {
    let total = 0n;
    for (const held of units.holders.values()) total += held;
    if (total !== units.outstanding || total < 0n) problems.push(`token ${token}: ${formatFixed(units.outstanding)} units outstanding but holders hold ${formatFixed(total)}`);
  }
  return problems;
}

/** Greeks in JSON: 8 significant digits (they are float model outputs, not ledger amounts). */
function roundGreeks(g: Greeks): Record<string, number> {
  const r = (x: number) => Number(x.toPrecision(8));
  return { delta: r(g.delta), gamma: r(g.gamma), vega: r(g.vega), theta: r(g.theta) };
}
