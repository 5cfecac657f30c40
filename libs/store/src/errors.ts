/**
 * A stored event that cannot be what the store wrote (a line of the file log,
 * a row of PostgreSQL, an event of KurrentDB), or a gap in the positions.
 * Not repaired: someone has to look at it. `file` names the log, `line` the position.
 */
export class CorruptLogError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
    options?: { cause?: unknown; unit?: 'line' | 'position' },
  ) {
    super(`${file}:${options?.unit ?? 'line'} ${line}: corrupt event log: ${detail}`, options);
  }
}
