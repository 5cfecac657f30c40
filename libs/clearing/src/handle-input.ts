import type { DecisionEvent, InputEvent } from '@clearsim/events';
import { holdersOf } from '@clearsim/ledger';
import { checkAccount, decideFunding, decideWithdrawal, expireGracePeriods, type SagaContext } from '@clearsim/saga';
import type { ClearingState } from './clearing.state';
import { evolve } from './evolve';
import { validateInput } from './validate';

export interface HandleResult {
  /** The input repeated an idempotency key already applied: nothing happened. */
  duplicate: boolean;
  decisions: DecisionEvent[];
}

/** Accounts an input can change, i.e. the only ones the saga must re-evaluate. */
function touchedBy(state: ClearingState, input: InputEvent): string[] {
  switch (input.type) {
    case 'Deposited':
    case 'WithdrawalRequested':
      return [input.account];
    case 'TradeExecuted':
      return [input.buyer, input.seller];
    case 'PriceUpdated':
    case 'FundingRateApplied':
    case 'InstrumentSettled':
      return holdersOf(state.ledger, input.instrument);
    case 'RulesActivated':
      return [...state.ledger.accounts.keys()];
    case 'InstrumentListed':
    case 'VolatilityUpdated':
    case 'ClockAdvanced':
      return [];
  }
}

/**
 * One step of the shard loop, pure over the state: validate → evolve the
 * input → decide → evolve each decision as it is made. Order within a step:
 * 1. the clock moves to the input's `ts`: grace periods that ended before it
 *    expire and liquidate (on the state before the input);
 * 2. the input is folded in;
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
  const decisions: DecisionEvent[] = [];
  const pending = new Set<string>();
  const ctx: SagaContext = {
    ledger: state.ledger,
    get rules() {
      if (!state.rules) throw new Error('no rules are active');
      return state.rules;
    },
    saga: state.saga,
    ts: input.ts,
    emit(decision) {
      evolve(state, decision);
      decisions.push(decision);
    },
    touch(account) {
      pending.add(account);
    },
  };

  if (state.rules) expireGracePeriods(ctx);
  const touched = touchedBy(state, input);
  evolve(state, input);
  if (input.type === 'WithdrawalRequested') decideWithdrawal(ctx, input);
  if (input.type === 'FundingRateApplied') decideFunding(ctx, input);
  if (!state.rules) return { duplicate: false, decisions };

  for (const account of touched) pending.add(account);
  for (let round = 0; pending.size > 0; round++) {
    if (round > 1000) throw new Error('margin checks did not settle after 1000 rounds');
    const batch = [...pending].sort();
    pending.clear();
    for (const account of batch) checkAccount(ctx, account);
  }
  return { duplicate: false, decisions };
}
