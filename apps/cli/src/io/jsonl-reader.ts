import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { InputError } from '@clearsim/events';

/** How far a reader has got in its file (for a progress bar). */
export interface ReadProgress {
  bytesRead: number;
}

/**
 * The longest line read, in characters: as large as the server's default body
 * (a batch of 10,000 inputs), far beyond any one input event. A file with no
 * line break is refused once this much of it is buffered, instead of being
 * held in memory whole.
 */
export const MAX_LINE_LENGTH = 16 * 1024 * 1024;

/**
 * The lines of a text file, read in large chunks and handed out a chunk's
 * worth at a time (one promise per chunk instead of one per line, as with
 * `readline`). The lines are exactly `readline`'s (with `crlfDelay:
 * Infinity`): split at "\n", "\r\n" and a lone "\r", the last line given even
 * without a final line break, UTF-8 decoded the same way (a multi-byte
 * character cut by a chunk boundary is joined, an invalid byte becomes
 * U+FFFD), so line numbers in error messages do not change.
 */
export async function* readLineBatches(file: string, chunkBytes = 4 << 20, progress?: ReadProgress, maxLineLength = MAX_LINE_LENGTH): AsyncGenerator<string[]> {
  const handle = await open(file, 'r');
  let linesRead = 0;
  const checkLength = (unfinished: string): void => {
    if (unfinished.length > maxLineLength) throw new InputError([{ field: '', message: `line longer than ${maxLineLength} characters` }], file, linesRead + 1);
  };
  try {
    const decoder = new StringDecoder('utf8');
    const buffer = Buffer.allocUnsafe(chunkBytes);
    let carry = '';
    let pendingCr = false;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, chunkBytes, null);
      if (bytesRead === 0) break;
      if (progress) progress.bytesRead += bytesRead;
      let text = carry + decoder.write(buffer.subarray(0, bytesRead));
      // a "\r" that ended the previous chunk was a line break; a "\n" right after it belongs to it
      if (pendingCr && text.length > 0) {
        if (text.startsWith('\n')) text = text.slice(1);
        pendingCr = false;
      }
      const lines: string[] = [];
      const hasCr = text.includes('\r');
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        pushLine(lines, text.slice(start, nl), hasCr, true);
        start = nl + 1;
      }
      carry = text.slice(start);
      if (hasCr && carry.includes('\r')) {
        // lone "\r" breaks inside the unfinished line: everything before the last one is complete
        const lastCr = carry.lastIndexOf('\r');
        pushLine(lines, carry.slice(0, lastCr), true, false);
        carry = carry.slice(lastCr + 1);
        pendingCr = carry === '';
      }
      checkLength(carry);
      linesRead += lines.length;
      if (lines.length > 0) yield lines;
    }
    carry += decoder.end();
    checkLength(carry);
    if (carry !== '') {
      const lines: string[] = [];
      pushLine(lines, carry, carry.includes('\r'), false);
      yield lines;
    }
  } finally {
    await handle.close();
  }
}

/** One "\n"-terminated piece of text (`endedByNewline`) or an unterminated one, split at its "\r" breaks. */
function pushLine(lines: string[], piece: string, hasCr: boolean, endedByNewline: boolean): void {
  if (!hasCr || !piece.includes('\r')) {
    lines.push(piece);
    return;
  }
  // "\r\n" is one break: drop the "\r" right before the "\n"
  const body = endedByNewline && piece.endsWith('\r') ? piece.slice(0, -1) : piece;
  for (const line of body.split('\r')) lines.push(line);
}
