/**
 * Finds the first NUL byte (U+0000) of a file read in chunks, and the line it is on. No CSV or text file of an
 * exchange holds one, while a binary file (a zip, a parquet file, /dev/zero) holds many: without this the CSV reader
 * takes NULs as characters of a cell, and a file of them with no line break ends as a row past the row bound, read
 * as a stray quote. Lines are counted as csv-parse counts them: ended by \n, \r\n or a lone \r. Pure: the caller
 * reads the file and feeds every chunk, in order.
 */
export class NulByteScan {
  /** The line the next byte is on. */
  private line = 1;
  /** Whether the last byte fed was a \r (a \n first in the next chunk ends the same line). */
  private afterCarriageReturn = false;

  /** Feeds the next chunk: the 1-based line of its first NUL byte, or undefined (there is none; the lines are counted on). */
  feed(chunk: Uint8Array): number | undefined {
    const nul = chunk.indexOf(0);
    const end = nul < 0 ? chunk.length : nul;
    // native searches (memchr) rather than a loop over every byte: most chunks hold no \r at all
    for (let at = chunk.indexOf(13); at >= 0 && at < end; at = chunk.indexOf(13, at + 1)) this.line++;
    for (let at = chunk.indexOf(10); at >= 0 && at < end; at = chunk.indexOf(10, at + 1)) {
      // a \n after a \r ends the line the \r already counted
      const afterCarriageReturn = at === 0 ? this.afterCarriageReturn : chunk[at - 1] === 13;
      if (!afterCarriageReturn) this.line++;
    }
    if (end > 0) this.afterCarriageReturn = chunk[end - 1] === 13;
    return nul < 0 ? undefined : this.line;
  }
}

/** What a file with a NUL byte is told: `line 3 holds a NUL byte (U+0000): not a CSV/text file`. */
export const nulByteProblem = (line: number): string => `line ${line} holds a NUL byte (U+0000): not a CSV/text file`;
