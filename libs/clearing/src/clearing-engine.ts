import { formatFixed, type Fixed } from '@clearsim/money';
import { isDecision, OutputHasher, type ClearingEvent, type DecisionEvent, type InputEvent, type Sha256State, type Timestamp } from '@clearsim/events';
import type { AdlStats, ClearingState, ClearingStats } from './clearing.state';
import { clockIso, emptyClearingState } from './clearing.state';
import { deserializeSnapshot, serializeSnapshot } from './snapshot';
import { evolve } from './evolve';
import { handleInput, handleMark, type HandleResult } from './handle-input';
import { accountJson, accountTotals, accountView, checkInvariants, insuranceFundCash, statusOf, type AccountStatus } from './views';

/**
 * One shard's clearing core: `handle` for live inputs (decides), `apply` for
 * replay (folds logged inputs and decisions, decides nothing). Both keep the
 * running `outputHash` over the decisions. No I/O, no clock: the shell feeds it.
 */
export class ClearingEngine {
  /** Undefined while the decisions are hashed elsewhere (detachOutputHash). */
  private hasher: OutputHasher | undefined;

  private constructor(
    readonly state: ClearingState,
    hasher: OutputHasher,
  ) {
    this.hasher = hasher;
  }

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
    return serializeSnapshot(this.state, this.attachedHasher().state());
  }

  /**
   * Stops hashing decisions into `outputHash`, answering its running state: whoever takes it hashes every decision
   * this engine makes from now on, in order (`clearsim run`'s log writer, on a thread of its own: the same canonical
   * lines), and gives the state after them back with attachOutputHash. Until then `outputHash`, `snapshot` and
   * `apply` throw: a hash that misses decisions must not be read.
   */
  detachOutputHash(): Sha256State {
    const state = this.attachedHasher().state();
    this.hasher = undefined;
    return state;
  }

  /** Hashes decisions into `outputHash` again, from `state` (detachOutputHash's, carried over the decisions since). */
  attachOutputHash(state: Sha256State): void {
    this.hasher = new OutputHasher(state);
  }

  /** Hashes decisions this engine made while its hash was detached, in their order (what the taker did not). */
  hashDecisions(decisions: readonly ClearingEvent[]): void {
    const hasher = this.attachedHasher();
    for (let i = 0; i < decisions.length; i++) hasher.add(decisions[i] as DecisionEvent);
  }

  private attachedHasher(): OutputHasher {
    if (this.hasher === undefined) throw new Error("the engine's outputHash is detached: its decisions are being hashed elsewhere");
    return this.hasher;
  }

  handle(input: InputEvent): HandleResult {
    const result = handleInput(this.state, input);
    // by index: most inputs decide nothing, and an iterator over the empty array would still be made for each
    const { decisions } = result;
    const hasher = this.hasher;
    if (hasher !== undefined) for (let i = 0; i < decisions.length; i++) hasher.add(decisions[i]!);
    return result;
  }

  /**
   * `handle` of the price update `{ type: 'PriceUpdated', ts, instrument,
   * price }` (no `eventId`, no `postedBy`) given by its fields, with no event
   * object: `units` is the price in ledger units (10^-8), a positive safe
   * integer, as a decoder scans it off the line. The same decisions, state
   * and outputHash as `handle` of that event.
   */
  handlePrice(ts: Timestamp, instrument: string, units: number): HandleResult {
    if (!(Number.isSafeInteger(units) && units > 0)) throw new RangeError(`price units ${units} are not a positive safe integer`);
    // units < 2^53: units / 1e8 is toMarkNumber of the bigint, which needs no conversion back
    const result = handleMark(this.state, ts, instrument, BigInt(units) as Fixed, units / 1e8);
    const { decisions } = result;
    const hasher = this.hasher;
    if (hasher !== undefined) for (let i = 0; i < decisions.length; i++) hasher.add(decisions[i]!);
    return result;
  }

  apply(event: ClearingEvent): void {
    const hasher = this.attachedHasher();
    evolve(this.state, event);
    this.state.bandsStale = true;
    if (isDecision(event)) hasher.add(event);
  }

  get outputHash(): string {
    return this.attachedHasher().digest();
  }

  invariantViolations(): string[] {
    return checkInvariants(this.state);
  }

  /** The `--json` summary (the README's CLI section lists its keys). */
  summary(options: { accounts?: boolean } = {}): RunSummary {
    const { stats, rules } = this.state;
    const accounts: Record<string, Record<string, unknown>> = {};
    if (options.accounts !== false) for (const [id, json] of this.accountsJson()) accounts[id] = json;
    const { adl, ...counters } = stats;
    return {
      rules: rules?.name ?? null,
      clock: clockIso(this.state),
      ...counters,
      ...(adl ? { adl: adlSummary(adl) } : {}),
      insuranceDrawn: formatFixed(stats.insuranceDrawn),
      insuranceFund: formatFixed(insuranceFundCash(this.state) ?? 0n),
      outputHash: this.outputHash,
      accounts,
    };
  }

  /**
   * Every account's `--json` form, one at a time, in the order
   * `JSON.stringify(summary().accounts)` writes them (ids sorted, integer-like
   * ids first): a caller can stream a million accounts without holding
   * their views all at once.
   */
  *accountsJson(): Generator<[string, Record<string, unknown>]> {
    const { ledger } = this.state;
    const ids = [...ledger.accounts.keys()].sort();
    const indexLike = ids.filter(isArrayIndex).sort((a, b) => Number(a) - Number(b));
    const order = indexLike.length === 0 ? ids : [...indexLike, ...ids.filter((id) => !isArrayIndex(id))];
    for (const id of order) yield [id, accountJson(accountView(this.state, ledger.accounts.get(id)!))];
  }

  /**
   * The `limit` accounts most in trouble (bankrupt, liquidated, called,
   * healthy, then system accounts; within a status the lowest equity first,
   * then by id), for the table `run` and `replay` print: one pass over the
   * accounts keeping the `limit` worst so far, so memory stays O(limit) and
   * only those get a full view.
   */
  accountsInTrouble(limit: number): AccountsInTrouble {
    const { ledger } = this.state;
    const worst: TroubleKey[] = [];
    for (const account of ledger.accounts.values()) {
      if (limit <= 0) break;
      const rank = TROUBLE_RANK[statusOf(this.state, account.id)];
      // a full table whose last row has a worse status keeps it whatever this account's equity: its exact risk (the
      // costly part) is not computed. After a crash the table is all liquidated accounts, and the healthy are skipped.
      if (worst.length === limit && rank > worst[limit - 1]!.rank) continue;
      const key: TroubleKey = { id: account.id, rank, equity: accountTotals(this.state, account).equity };
      if (worst.length === limit && troubleOrder(key, worst[limit - 1]!) >= 0) continue;
      let at = worst.length;
      while (at > 0 && troubleOrder(key, worst[at - 1]!) < 0) at--;
      worst.splice(at, 0, key);
      if (worst.length > limit) worst.pop();
    }
    return { accounts: worst.map(({ id }) => [id, accountJson(accountView(this.state, ledger.accounts.get(id)!))]), total: ledger.accounts.size };
  }
}

/** Rank of a status in the table of the accounts most in trouble: the worst first. */
const TROUBLE_RANK: Record<AccountStatus, number> = { bankrupt: 0, liquidated: 1, 'margin-call': 2, healthy: 3, system: 4 };

/** An account's place in the table of the accounts most in trouble. */
interface TroubleKey {
  id: string;
  rank: number;
  equity: Fixed;
}

/** Worst first: by status (TROUBLE_RANK), then the lowest equity, then by id. */
function troubleOrder(a: TroubleKey, b: TroubleKey): number {
  return a.rank - b.rank || (a.equity < b.equity ? -1 : a.equity > b.equity ? 1 : 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** JSON.stringify writes an object's integer-like keys ("0" to "4294967294") first, ascending, then the others in insertion order. */
function isArrayIndex(key: string): boolean {
  const n = Number(key);
  return Number.isInteger(n) && n >= 0 && n < 4294967295 && String(n) === key;
}

/** The accounts most in trouble (see ClearingEngine.accountsInTrouble). */
export interface AccountsInTrouble {
  /** Worst first, at most the limit asked for, each as its `--json` form. */
  accounts: [string, Record<string, unknown>][];
  /** Accounts in the shard. */
  total: number;
}

/** The `--json` summary: every counter of the shard's stats (amounts as decimal strings), the fund, the hash, the accounts. */
/** The run's ADL figures as the summary shows them (amounts as decimal strings; overshoot = profitTaken − deficitCovered). */
export interface AdlSummary {
  deficitCovered: string;
  profitTaken: string;
  overshoot: string;
  accountsDeleveraged: number;
  notionalDeleveraged: string;
}

export function adlSummary(adl: AdlStats): AdlSummary {
  return {
    deficitCovered: formatFixed(adl.deficitCovered),
    profitTaken: formatFixed(adl.profitTaken),
    overshoot: formatFixed(adl.profitTaken - adl.deficitCovered),
    accountsDeleveraged: adl.accounts.size,
    notionalDeleveraged: formatFixed(adl.notionalDeleveraged),
  };
}

export type RunSummary = Omit<ClearingStats, 'insuranceDrawn' | 'adl'> & {
  /** Present once an ADL fill happened. */
  adl?: AdlSummary;
  rules: string | null;
  clock: string | null;
  insuranceDrawn: string;
  insuranceFund: string;
  outputHash: string;
  accounts: Record<string, Record<string, unknown>>;
};
