import type { DecisionEvent, Timestamp } from '@clearsim/events';
import type { LedgerState } from '@clearsim/ledger';
import type { Rules } from '@clearsim/rules';
import type { SagaState } from './saga.state';

/**
 * What a decision procedure sees: the state (read only by convention), the
 * log's clock, and two effects. `emit` appends a decision and folds it into the
 * state at once (so the next step of a waterfall sees its effect); `touch`
 * schedules a margin re-check of an account the decision changed.
 *
 * A context serves one input: the marks do not move while it lives, which is
 * what lets the bankruptcy index (bankruptcy-index.ts) weigh the accounts
 * once per context and then follow only the accounts its decisions name (it
 * watches `emit` for that).
 */
export interface SagaContext {
  readonly ledger: LedgerState;
  readonly rules: Rules;
  readonly saga: SagaState;
  readonly ts: Timestamp;
  /**
   * May a check skip an account a float screen proves decides nothing (see
   * clearlyAboveMaintenanceFraction), and may bankruptcies rank and weigh
   * through the input's bankruptcy index instead of every account each time?
   * Off only in tests that prove these change no decision.
   */
  readonly fastPaths: boolean;
  emit(decision: DecisionEvent): void;
  touch(account: string): void;
}
