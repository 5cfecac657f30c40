/**
 * What is wrong with a log that cannot be what the store wrote:
 * - `malformed-line`: a line/row that does not parse as a stored event;
 * - `tampered-line`: a line whose bytes changed (its checksum or the hash chain disagrees);
 * - `missing-line`: a position missing from the middle (a line removed);
 * - `truncated-log`: the log is shorter than a commit it acknowledged (proved by HEAD or a snapshot);
 * - `invalid-bytes`: a NUL byte or bytes that are not UTF-8;
 * - `missing-decisions`: an input kept without the rest of its committed batch (a batch cut inside);
 * - `corrupt-snapshot`: a snapshot that cannot be what the store wrote, or one that disagrees with the log;
 * - `old-format`: a log written by an older clearsim (no commit records).
 */
export type CorruptionKind =
  | 'malformed-line'
  | 'tampered-line'
  | 'missing-line'
  | 'truncated-log'
  | 'invalid-bytes'
  | 'missing-decisions'
  | 'corrupt-snapshot'
  | 'old-format';

/**
 * A stored event that cannot be what the store wrote (a line of the file log,
 * a row of PostgreSQL, an event of KurrentDB), or a gap in the positions.
 * Not repaired: someone has to look at it. `file` names the log, `line` the
 * line (or position, per `unit`; 0 with unit `file`), `kind` what is wrong.
 */
export class CorruptLogError extends Error {
  readonly kind: CorruptionKind;
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
    options?: { cause?: unknown; unit?: 'line' | 'position' | 'file'; kind?: CorruptionKind },
  ) {
    const where = options?.unit === 'file' ? file : `${file}:${options?.unit ?? 'line'} ${line}`;
    super(`${where}: ${options?.kind === 'corrupt-snapshot' ? 'corrupt snapshot' : 'corrupt event log'}: ${detail}`, options);
    this.kind = options?.kind ?? 'malformed-line';
  }
}

/**
 * A read-only open of a store that does not exist or holds no event. The
 * message names the URL and what is missing. The CLI maps it to exit 2.
 */
export class StoreNotFoundError extends Error {
  constructor(
    readonly url: string,
    /** What is missing, e.g. `no such directory`, `no events file`, `the log is empty`. */
    readonly missing: string,
  ) {
    super(`no clearsim store at ${url} (${missing}); check --store, or create one with clearsim run`);
  }
}

/** A write (append, beginAppend, saveSnapshot) on a store opened read-only. */
export class ReadOnlyStoreError extends Error {
  constructor(
    readonly url: string,
    readonly operation: string,
  ) {
    super(`event store ${url} is open read-only: ${operation} refused`);
  }
}

/** A write on a store while one of its append transactions is open (one transaction or append at a time per store). */
export class AppendInProgressError extends Error {
  constructor(
    readonly url: string,
    readonly operation: string,
  ) {
    super(`event store ${url}: ${operation} refused while an append transaction is open (commit or abort it first)`);
  }
}

/** append/commit on a transaction that was already committed or aborted. */
export class TransactionFinishedError extends Error {
  constructor(
    readonly url: string,
    readonly state: 'committed' | 'aborted',
    readonly operation: string,
  ) {
    super(`event store ${url}: ${operation} on an append transaction that was already ${state}`);
  }
}

/** A store URL that names no store clearsim can open (no scheme, an unknown one, no path). The CLI maps it to exit 2. */
export class StoreUrlError extends Error {}

/**
 * The writer lock of a file store is held by another live process (or this
 * one). The message names the lock file and the holder's pid; the CLI maps it
 * to exit 1 and suggests the read-only commands, which need no lock.
 */
export class StoreLockedError extends Error {
  constructor(
    message: string,
    /** The lock file, e.g. `data/LOCK`. */
    readonly lockPath: string,
  ) {
    super(message);
  }
}

/** A store server (PostgreSQL, KurrentDB) that cannot be reached or refuses the connection. The CLI maps it to exit 1. */
export class StoreUnavailableError extends Error {}
