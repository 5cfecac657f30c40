/**
 * Characters a terminal does not show as themselves: controls (C0 with ESC, NUL, CR, TAB…; DEL; C1, where U+009B is
 * a CSI to some terminals), format characters (bidi overrides and isolates such as U+202E, zero-width spaces and
 * joiners, the BOM, soft hyphens), the line and paragraph separators U+2028/U+2029, and lone surrogates. Printed raw,
 * an id holding one moves the cursor, clears the screen or reorders the line; or two different ids look the same.
 */
const SPECIAL = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
const SPECIALS = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu;
/** The same, but for the line feed, which clearsim itself puts in its multi-line cells and messages. */
const SPECIALS_BUT_NEWLINE = /(?!\n)[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu;

/** `\uXXXX` for each UTF-16 unit of `char` (an astral format character is two units, as in JSON). */
const unitEscapes = (char: string): string => {
  let out = '';
  for (let i = 0; i < char.length; i++) out += `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
};

/**
 * A value of the user's (an account or instrument id, a rules name, a reason, a path) as the CLI's human-readable
 * output prints it: unchanged when it holds no special character (letters of any script, spaces and punctuation are
 * ordinary); else quoted and escaped as the core quotes ids in its refusals (JSON, `"a\u001b[2Jb"`), with the
 * characters JSON leaves raw (DEL, C1, format characters, U+2028/U+2029) escaped as `\uXXXX` too. A value that starts
 * with `"` is quoted as well, so that a printed value is either the text itself or, quoted, an escaped one: never both.
 * Only what is printed changes: the log, the hashes and the JSON output keep the value as it is.
 */
export function displayText(text: string): string {
  return SPECIAL.test(text) || text.startsWith('"') ? quotedText(text) : text;
}

/** `text` always quoted as displayText quotes it: for a value the output prints between quotes anyway (`scenario "crash"`). */
export function quotedText(text: string): string {
  // JSON.stringify escapes C0, `"`, `\` and lone surrogates; what it leaves raw is escaped after it
  return JSON.stringify(text).replace(SPECIALS, unitEscapes);
}

/**
 * Text clearsim composed (a table's cell, a JSON line of the log, an error message) with every special character
 * still in it escaped as `\uXXXX`, but its line feeds kept (a cell of several lines, a message and its hint). Not
 * quoted, and a no-op on text without them: what displayText made is left as it is, so it is safe to apply to text
 * whose values went through displayText already. In a JSON text it gives the same JSON (these characters can only be
 * inside its strings, where `\uXXXX` means them).
 */
export function escapeControls(text: string): string {
  return SPECIAL.test(text) ? text.replace(SPECIALS_BUT_NEWLINE, unitEscapes) : text;
}
