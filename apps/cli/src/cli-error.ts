/** Exit codes (README: exit codes): 0 success, 1 runtime failure, 2 bad usage or bad input. */
export const EXIT_RUNTIME = 1;
export const EXIT_BAD_INPUT = 2;

/** Bad usage or bad input: exit 2 with a message that names the file, line and field. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The fix, when there is an obvious one (printed on its own line, or as `hint` under --json). */
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** A failure of the environment rather than of the input (a port in use, say): exit 1, one line, and the fix. */
export class RuntimeFailure extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Attaches the fix to an error thrown deeper down (read by the CLI's error printer as `hint`). */
export function withHint<E extends Error>(error: E, hint: string): E {
  return Object.assign(error, { hint });
}
