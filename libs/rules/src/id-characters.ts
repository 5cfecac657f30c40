// The characters an id may hold, in a module with no schema (no zod): the events' byte and object fast decoders
// (libs/events/src/fast-codec.ts) load it through @clearsim/rules/id-characters without the schemas, and it is here,
// in the lowest library with schemas, so that the rules' account ids and the events' ids (libs/events, which imports
// from this library as it imports the decimal schemas) follow the one rule.

/**
 * The index (in UTF-16 code units, as an id's length is counted) of the first control character of
 * `text[from, to)`, or −1: C0 (U+0000–U+001F), DEL (U+007F) or C1 (U+0080–U+009F). An id is written raw into
 * terminal tables, CSV-like outputs and reports, where a NUL cuts a C string, a newline or a TAB splits a row, and
 * an ESC (U+001B) or a CSI (U+009B) starts a terminal escape sequence; every other character (letters of any
 * script, symbols, emoji) is left to the id.
 */
export function controlCharacterAt(text: string, from = 0, to = text.length): number {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return i;
  }
  return -1;
}

/**
 * The same rule as a JSON Schema / OpenAPI `pattern` (an ECMA-262 regular expression), for the documents that
 * describe an id (schemas/*.schema.json, the OpenAPI document): no character of controlCharacterAt's ranges.
 */
export const ID_CHARACTERS_PATTERN = '^[^\\u0000-\\u001f\\u007f-\\u009f]*$';

/** Why `text` may not be an id for its characters — `must not contain control characters (U+001B at index 3)` — or undefined. */
export function controlCharacterProblem(text: string): string | undefined {
  const at = controlCharacterAt(text);
  if (at < 0) return undefined;
  const code = text.charCodeAt(at).toString(16).toUpperCase().padStart(4, '0');
  return `must not contain control characters (U+${code} at index ${at})`;
}
