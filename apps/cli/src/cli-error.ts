/** Exit codes of DESIGN §5: 0 success, 1 runtime failure, 2 bad usage or bad input. */
export const EXIT_RUNTIME = 1;
export const EXIT_BAD_INPUT = 2;

/** Bad usage or bad input: exit 2 with a message that names the file, line and field. */
export class UsageError extends Error {}
