/**
 * The longest row (in characters) the CSV reader takes. A row of an exchange
 * file is a few hundred characters; the only way to a longer one is a quote
 * that opens a cell and is never closed, which would otherwise swallow the
 * rest of the file into one cell — all of it in memory — before the reader
 * says so at the end. With the bound it says so at most this far on.
 */
export const MAX_CSV_ROW_CHARACTERS = 1 << 20;

/** What csv-parse tells of the record it just made (its `info`: the line the record ends on, the blank lines skipped so far). */
export interface CsvRecordContext {
  lines: number;
  empty_lines: number;
}

/** csv-parse's error (CsvError): a code (CSV_QUOTE_NOT_CLOSED, …) and the parser's position when it gave up. */
export interface CsvParseError {
  code: string;
  message: string;
  lines?: number;
  empty_lines?: number;
}

/**
 * Where the CSV reader is in a file, to name the line of an error it cannot
 * skip as a bad row. csv-parse reports an unclosed quote at the line where it
 * gave up (the end of the file, or MAX_CSV_ROW_CHARACTERS on), but the quote
 * opened in the row it was reading: the one after the last complete row, past
 * any blank lines. Feed it every record the parser made before the error, in
 * order (the reader of a stream must see them all: import.command.ts keeps the
 * parser from dropping the ones still buffered when it fails).
 */
export class CsvPosition {
  private lastLine = 0;
  private blankLinesThen = 0;

  /** A record's info: where it ended, and the blank lines skipped so far. */
  record(context: CsvRecordContext): void {
    this.lastLine = context.lines;
    this.blankLinesThen = context.empty_lines;
  }

  /** `line N: what is wrong`, for an error of the parser. */
  describe(error: CsvParseError): string {
    const started = this.lastLine + 1 + Math.max(0, (error.empty_lines ?? this.blankLinesThen) - this.blankLinesThen);
    if (error.code === 'CSV_QUOTE_NOT_CLOSED') {
      // (not "to line N": csv-parse counts the empty line after the file's last line break as a line)
      return `line ${started}: a quote opens a cell and is never closed (the cell runs on to the end of the file): remove the stray quote, or close it`;
    }
    const at = error.lines ?? started;
    if (error.code === 'CSV_MAX_RECORD_SIZE') {
      // within its first line: no quote carried it over line breaks, the line itself is that long (no line break at all, say)
      if (at === started) return `line ${started}: the line runs on past ${MAX_CSV_ROW_CHARACTERS} characters without a line break (a row of these files is a few hundred): not a CSV file of rows`;
      return `line ${started}: the row runs on past ${MAX_CSV_ROW_CHARACTERS} characters, to line ${at}: a quote that opens a cell and is never closed? (remove the stray quote, or close it)`;
    }
    return `line ${at}: the file cannot be read as CSV here: ${error.message} (${error.code})`;
  }
}

/** Whether an error is csv-parse's (its codes: CSV_… and INVALID_OPENING_QUOTE). */
export function isCsvParseError(error: unknown): error is CsvParseError {
  const code = (error as { code?: unknown } | undefined)?.code;
  return error instanceof Error && typeof code === 'string' && (code.startsWith('CSV_') || code === 'INVALID_OPENING_QUOTE');
}
