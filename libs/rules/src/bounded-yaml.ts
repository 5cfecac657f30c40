import { yamlLibrary } from './yaml-library';

/**
 * Bounds of a YAML document clearsim reads (rules files, scenarios): at most
 * 1 MiB of text (the largest shipped file is 14 kB), at most 100 alias
 * expansions (the yaml library's own guard against "billion laughs"), and at
 * most `MAX_YAML_DEPTH` levels of nesting — the JSON bodies' bound
 * (a rules file is about six levels deep). The parser's own recursion is
 * stopped by the size bound and reported as nesting, never as "Maximum call
 * stack size exceeded".
 */
export const MAX_YAML_LENGTH = 1024 * 1024;
export const MAX_YAML_DEPTH = 32;

export class YamlBoundsError extends Error {
  constructor(
    message: string,
    readonly line?: number,
    /** A syntax error of the text, rather than a bound. */
    readonly syntax = false,
  ) {
    super(message);
  }
}

/** Parses one YAML document within the bounds; YamlBoundsError (with the line where known) otherwise. */
export function parseBoundedYaml(text: string): unknown {
  if (text.length > MAX_YAML_LENGTH) throw new YamlBoundsError(`longer than ${MAX_YAML_LENGTH} characters`);
  // the parser recurses per flow collection: a document thousands of brackets deep is refused before it runs
  // (the exact depth is checked on the parsed value below; this only keeps the parser's stack and heap small)
  const deep = bracketBeyond(text, 8 * MAX_YAML_DEPTH);
  if (deep >= 0) throw new YamlBoundsError(`nested deeper than ${MAX_YAML_DEPTH} levels`, text.slice(0, deep).split('\n').length);
  const { parseDocument, YAMLParseError } = yamlLibrary();
  let raw: unknown;
  try {
    // parse() as the library writes it, but its warnings refused instead of printed by the process (a tag it does
    // not know, `seed: !foo 7`, was printed as a Node warning and the value taken as the plain scalar)
    const doc = parseDocument(text, { prettyErrors: true });
    if (doc.errors.length > 0) throw doc.errors[0];
    const warning = doc.warnings[0];
    if (warning) throw new YamlBoundsError((warning.message.split('\n')[0] ?? 'YAML warning').replace(/:$/, ''), warning.linePos?.[0]?.line, true);
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    if (error instanceof YamlBoundsError) throw error;
    if (error instanceof YAMLParseError) {
      const line = error.linePos?.[0]?.line;
      // the parser turns its own stack overflow into a parse error: that is a document nested too deep
      if (/Maximum call stack size exceeded/.test(error.message)) throw new YamlBoundsError(`nested deeper than ${MAX_YAML_DEPTH} levels`, line);
      throw new YamlBoundsError(error.message.split('\n')[0] ?? 'YAML syntax error', line, true);
    }
    if (error instanceof RangeError || (error instanceof Error && /alias/i.test(error.message))) throw new YamlBoundsError(error.message);
    throw error;
  }
  const path = tooDeep(raw);
  if (path !== undefined) throw new YamlBoundsError(`${path || '(root)'}: nested deeper than ${MAX_YAML_DEPTH} levels`);
  return raw;
}

/** Where the nesting of `[`/`{` outside quotes and comments (an upper bound of the flow nesting) first passes `limit`; −1 if it never does. */
function bracketBeyond(text: string, limit: number): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return i;
    } else if (c === 0x5d || c === 0x7d) {
      if (depth > 0) depth--;
    } else if (c === 0x22 || c === 0x27) {
      const end = text.indexOf(text[i]!, i + 1);
      if (end < 0) break;
      i = end;
    } else if (c === 0x23) {
      const end = text.indexOf('\n', i);
      if (end < 0) break;
      i = end;
    }
  }
  return -1;
}

/** The path of the first collection deeper than the bound, or undefined (an iterative walk: no recursion on the input). */
function tooDeep(root: unknown): string | undefined {
  const stack: { value: unknown; depth: number; path: string }[] = [{ value: root, depth: 1, path: '' }];
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_YAML_DEPTH) return path;
    const entries = Array.isArray(value) ? value.map((item, i) => [`[${i}]`, item] as const) : Object.entries(value).map(([key, item]) => [(path === '' ? '' : '.') + key, item] as const);
    for (const [step, item] of entries) stack.push({ value: item, depth: depth + 1, path: path + step });
  }
  return undefined;
}
