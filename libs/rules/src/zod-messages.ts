import { z } from 'zod';

/**
 * The wording of a missing field, for every schema of clearsim (inputs, decisions, rules, scenarios): zod's own says
 * `Invalid input: expected string, received undefined` (or, for a decimal's string-or-number union, only
 * `Invalid input`; for a list of values, `Invalid option: expected one of …`), which puts "undefined" in front of a user who simply left the field out. A message a schema
 * gives itself still wins (zod's order: the schema's, then this).
 */
/** zod's names of types, as a user of the JSON inputs and YAML files knows them. */
const EXPECTED: Record<string, string> = { object: 'an object', record: 'an object', array: 'a list', int: 'a whole number' };

const expectedType = (type: string): string => EXPECTED[type] ?? `a ${type}`;

/** What a union (a decimal: a string or a number) or a list of values expects, in words; undefined when zod does not say. */
function expectedOf(issue: { code: string; errors?: unknown; values?: unknown }): string | undefined {
  if (issue.code === 'invalid_union' && Array.isArray(issue.errors)) {
    // each option's first issue says what that option expected (zod tries every option on the missing value)
    const types = (issue.errors as { code?: string; expected?: string }[][]).map((option) => option[0]).filter((first) => first?.code === 'invalid_type' && typeof first.expected === 'string');
    if (types.length !== (issue.errors as unknown[]).length || types.length === 0) return undefined;
    return [...new Set(types.map((first) => expectedType(first!.expected!)))].join(' or ');
  }
  if (issue.code === 'invalid_value' && Array.isArray(issue.values) && issue.values.length > 0) {
    const values = issue.values.map((value) => JSON.stringify(value));
    return values.length === 1 ? values[0] : `one of ${values.join(', ')}`;
  }
  return undefined;
}

z.config({
  customError: (issue) => {
    if (issue.input !== undefined) return undefined;
    if (issue.code === 'invalid_type') return `is missing (expected ${expectedType(issue.expected)})`;
    if (issue.code === 'invalid_union' || issue.code === 'invalid_value') {
      const expected = expectedOf(issue);
      return expected === undefined ? 'is missing' : `is missing (expected ${expected})`;
    }
    return undefined;
  },
});
