import { formatFixed } from '@clearsim/money';
import { isDecision, OutputHasher, type ClearingEvent, type InputEvent } from '@clearsim/events';
import type { ClearingState, ClearingStats } from './clearing.state';
import { clockIso, emptyClearingState } from './clearing.state';
import { deserializeSnapshot, serializeSnapshot } from './snapshot';
import { evolve } from './evolve';
import { handleInput, type HandleResult } from './handle-input';
import { accountJson, accountView, checkInvariants } from './views';

/**
 * One shard's clearing core: `handle` for live inputs (decides), `apply` for
 * replay (folds logged inputs and decisions, decides nothing). Both keep the
 * running `outputHash` over the decisions. No I/O, no clock: the shell feeds it.
 */
export class ClearingEngine {
  private constructor(
    readonly state: ClearingState,
    private readonly hasher: OutputHasher,
  ) {}

  static create(): ClearingEngine {
    return new ClearingEngine(emptyClearingState(), new OutputHasher());
  }

  /** Restores an engine from `snapshot()` output; undefined if the snapshot is of another format. */
  static fromSnapshot(text: string): ClearingEngine | undefined {
    const payload = deserializeSnapshot(text);
    return payload && new ClearingEngine(payload.state, new OutputHasher(payload.outputHash));
  }

  /** The whole state and running outputHash as JSON text (see snapshot.ts). */
  snapshot(): string {
    return serializeSnapshot(this.state, this.hasher.state());
  }

  handle(input: InputEvent): HandleResult {
    const result = handleInput(this.state, input);
    for (const decision of result.decisions) this.hasher.add(decision);
    return result;
  }

  apply(event: ClearingEvent): void {
    evolve(this.state, event);
    this.state.bandsStale = true;
    if (isDecision(event)) this.hasher.add(event);
  }

  get outputHash(): string {
    return this.hasher.digest();
  }

  invariantViolations(): string[] {
    return checkInvariants(this.state);
  }

  /** The `--json` summary (the README's CLI section lists its keys). */
  summary(options: { accounts?: boolean } = {}): RunSummary {
    const { stats, rules, ledger } = this.state;
    const insuranceId = rules?.accounts.insurance;
    const accounts: Record<string, Record<string, unknown>> = {};
    if (options.accounts !== false) {
      for (const id of [...ledger.accounts.keys()].sort()) accounts[id] = accountJson(accountView(this.state, ledger.accounts.get(id)!));
    }
    return {
      rules: rules?.name ?? null,
      clock: clockIso(this.state),
      ...stats,
      insuranceDrawn: formatFixed(stats.insuranceDrawn),
      insuranceFund: formatFixed(insuranceId ? (ledger.accounts.get(insuranceId)?.cash ?? 0n) : 0n),
      outputHash: this.outputHash,
      accounts,
    };
  }
}

/** The `--json` summary: every counter of the shard's stats (amounts as decimal strings), the fund, the hash, the accounts. */
export type RunSummary = Omit<ClearingStats, 'insuranceDrawn'> & {
  rules: string | null;
  clock: string | null;
  insuranceDrawn: string;
  insuranceFund: string;
  outputHash: string;
  accounts: Record<string, Record<string, unknown>>;
};
