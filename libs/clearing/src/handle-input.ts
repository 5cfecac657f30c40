import type { DecisionEvent, InputEvent } from '@clearsim/events';
import { underlyingOf } from '@clearsim/ledger';
import { bandsFor, floatBandsFor, toMarkNumber, type Band } from '@clearsim/margin';
import { isSystemAccount } from '@clearsim/rules';
import { checkAccount, decideFunding, decideWithdrawal, expireGracePeriods, hasOpenCall, type SagaContext } from '@clearsim/saga';
import type { ClearingState } from './clearing.state';
import { evolve } from './evolve';
import { validateInput } from './validate';

export interface HandleResult {
  /** The input repeated an idempotency key already applied: nothing happened. */
  duplicate: boolean;
  decisions: readonly DecisionEvent[];
}

const NOTHING_DECIDED: HandleResult = Object.freeze({ duplicate: false, decisions: Object.freeze([]) as readonly DecisionEvent[] });

/**
 * Instruments whose mark (or scenario values) an input moves: the priced
 * instrument and the options on it; under the portfolio model every
 * instrument on the same underlying (they share its scenarios); the options
 * of an underlying whose volatility changed; every live option as the clock
 * moves (time decay).
 */
function remarkedBy(state: ClearingState, input: InputEvent): string[] {
  const instruments = () => state.ledger.instruments.values();
  const options = (underlying?: string) => [...instruments()].filter((i) => i.premiumStyle && !i.settled && (underlying === undefined || i.underlying === underlying)).map((i) => i.id);
  switch (input.type) {
    case 'PriceUpdated': {
      const out = new Set([input.instrument, ...options(input.instrument)]);
      if (state.rules && !bandsApply(state)) {
        // scenario, VaR and dynamic requirements move with the underlying (and its history) for every instrument on it
        const underlying = underlyingOf(state.ledger.instruments.get(input.instrument)!);
        for (const i of instruments()) if (underlyingOf(i) === underlying) out.add(i.id);
      }
      return [...out];
    }
    case 'VolatilityUpdated':
      return options(input.underlying);
    case 'ClockAdvanced':
      return options();
    default:
      return [];
  }
}

/** Price bands apply to the tiered models (margin linear in each mark within a tier, rates fixed). */
const bandsApply = (state: ClearingState): boolean =>
  state.fastPaths && state.rules !== undefined && (state.rules.model === 'cross' || state.rules.model === 'isolated') && !state.rules.dynamic;

/** The holders of any of the instruments, unsorted (the pending checks are sorted once). */
function holdersOfAny(state: ClearingState, instruments: readonly string[]): string[] {
  const out: string[] = [];
  for (const instrument of instruments) for (const account of state.ledger.holders.get(instrument) ?? []) out.push(account);
  return out;
}

/** Accounts an input can change, i.e. the only ones the saga must re-evaluate (besides band crossings); in no particular order. */
function touchedBy(state: ClearingState, input: InputEvent, remarked: readonly string[]): string[] {
  switch (input.type) {
    case 'Deposited':
    case 'WithdrawalRequested':
      return [input.account];
    case 'TradeExecuted':
      return [input.buyer, input.seller];
    case 'PriceUpdated':
      // a collateral asset's price moves its holders' equity whatever their positions
      return [...(bandsApply(state) ? [] : holdersOfAny(state, remarked)), ...(state.ledger.collateralHolders.get(input.instrument) ?? [])];
    case 'VolatilityUpdated':
    case 'ClockAdvanced':
      return bandsApply(state) ? [] : holdersOfAny(state, remarked);
    case 'FundingRateApplied':
    case 'InstrumentSettled':
      return holdersOfAny(state, [input.instrument]);
    case 'RulesActivated':
      return [...state.ledger.accounts.keys()];
    case 'InstrumentListed':
      return [];
  }
}

/**
 * One step of the shard loop, pure over the state: validate → evolve the
 * input → decide → evolve each decision as it is made. Decisions are folded in
 * the order they are logged (right after their input), so replay, which folds
 * the log in order, reaches exactly the live state. Within a step:
 * 1. the input is folded in, and the clock moves to its `ts`;
 * 2. grace periods whose deadline is now in the past expire and liquidate;
 * 3. the input's own decisions (withdrawal, funding);
 * 4. margin checks of the accounts it touched, in account-id order, then of
 *    accounts the decisions touched (ADL, socialized losses), until none is left.
 * Throws InputRejected before changing anything if the input cannot apply.
 */
export function handleInput(state: ClearingState, input: InputEvent): HandleResult {
  if (validateInput(state, input) === 'duplicate') {
    state.stats.duplicates++;
    return { duplicate: true, decisions: [] };
  }
  // the hot path: a price update (of an instrument no option is written on) that leaves every band
  // and fires no timer decides nothing
  let crossed: readonly string[] | undefined;
  if (input.type === 'PriceUpdated' && bandsApply(state) && !state.bandsStale && !(input.ts > state.saga.earliestDeadline) && !state.ledger.underlyingsWithOptions.has(input.instrument) && !state.ledger.collateralHolders.get(input.instrument)?.size) {
    evolve(state, input);
    crossed = state.bands.crossed(input.instrument, toMarkNumber(input.price));
    if (crossed.length === 0 || screenAll(state, crossed)) return NOTHING_DECIDED;
  }
  const decisions: DecisionEvent[] = [];
  const pending = new Set<string>(crossed);
  const ctx: SagaContext = {
    ledger: state.ledger,
    get rules() {
      if (!state.rules) throw new Error('no rules are active');
      return state.rules;
    },
    saga: state.saga,
    ts: input.ts,
    fastPaths: state.fastPaths,
    emit(decision) {
      evolve(state, decision);
      decisions.push(decision);
    },
    touch(account) {
      pending.add(account);
    },
  };

  if (state.bandsStale && state.rules) rebandAll(state);
  const remarked = crossed ? [] : remarkedBy(state, input);
  const touched = touchedBy(state, input, remarked);
  if (!crossed) evolve(state, input);
  if (state.rules) expireGracePeriods(ctx);
  if (input.type === 'WithdrawalRequested') decideWithdrawal(ctx, input);
  if (input.type === 'FundingRateApplied') decideFunding(ctx, input);
  if (!state.rules) return { duplicate: false, decisions };

  for (const account of touched) pending.add(account);
  if (bandsApply(state) && !crossed) {
    for (const id of remarked) {
      const mark = state.ledger.instruments.get(id)?.mark;
      if (mark !== undefined) for (const account of state.bands.crossed(id, toMarkNumber(mark))) pending.add(account);
    }
  }
  const checked = new Set<string>();
  // the float screen (tiered models): an account it proves above its call level, with no call open, would decide
  // nothing in its check; its bands come from the same proof (kept for re-banding if nothing was decided meanwhile)
  const screen = bandsApply(state);
  const screened = new Map<string, Band[]>();
  for (let round = 0; pending.size > 0; round++) {
    if (round > 1000) throw new Error('margin checks did not settle after 1000 rounds');
    const batch = [...pending].sort();
    pending.clear();
    for (const account of batch) {
      checked.add(account);
      if (screen) {
        const bands = screenedBands(state, account);
        if (bands) {
          screened.set(account, bands);
          continue;
        }
      }
      checkAccount(ctx, account);
    }
  }
  if (bandsApply(state)) reband(state, checked, decisions, screened);
  return { duplicate: false, decisions };
}

/**
 * The hot path's crossings when the float screen passes every one of them:
 * then the margin checks below would decide nothing and band each from the
 * screen, which is done here without the checks' machinery. False (and no
 * band set) as soon as one needs the exact check: the input then takes the
 * whole path.
 */
function screenAll(state: ClearingState, crossed: readonly string[]): boolean {
  const bands: Band[][] = [];
  for (const id of crossed) {
    const screened = screenedBands(state, id);
    if (!screened) return false;
    bands.push(screened);
  }
  for (let i = 0; i < crossed.length; i++) state.bands.set(crossed[i]!, bands[i]!);
  return true;
}

/** The bands the float screen proves for an account with no call open that a check would leave alone; undefined: check it exactly. */
function screenedBands(state: ClearingState, id: string): Band[] | undefined {
  const rules = state.rules!;
  if (isSystemAccount(rules, id) || hasOpenCall(state.saga, id)) return undefined;
  const account = state.ledger.accounts.get(id);
  return account && floatBandsFor(state.ledger, rules, account);
}

/**
 * Every account an input or its decisions changed gets fresh bands. An
 * account the screen passed keeps the bands it proved when nothing was
 * decided since (its state is what the screen saw).
 */
function reband(state: ClearingState, checked: Set<string>, decisions: readonly DecisionEvent[], screened: ReadonlyMap<string, Band[]>): void {
  if (decisions.length === 0) {
    for (const id of checked) {
      const bands = screened.get(id);
      if (bands) state.bands.set(id, bands);
      else bandAccount(state, id);
    }
    return;
  }
  const changed = new Set(checked);
  for (const d of decisions) {
    const e = d as { account?: string; counterparty?: string; shares?: { account: string }[] };
    if (e.account) changed.add(e.account);
    if (e.counterparty) changed.add(e.counterparty);
    for (const share of e.shares ?? []) changed.add(share.account);
  }
  for (const id of changed) bandAccount(state, id);
}

function bandAccount(state: ClearingState, id: string): void {
  const rules = state.rules!;
  const account = state.ledger.accounts.get(id);
  if (!account || isSystemAccount(rules, id) || account.positions.size === 0) {
    state.bands.remove(id);
    return;
  }
  const called = hasOpenCall(state.saga, id);
  state.bands.set(id, (!called && floatBandsFor(state.ledger, rules, account)) || bandsFor(state.ledger, rules, account, called));
}

/** After a replay (or a rules change of the cache's inputs) every account is banded from scratch. */
export function rebandAll(state: ClearingState): void {
  for (const id of state.ledger.accounts.keys()) bandAccount(state, id);
  state.bandsStale = false;
}
