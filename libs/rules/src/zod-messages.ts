import { z } from 'zod';

/**
 * The wording of a missing field, for every schema of clearsim (inputs, decisions, rules, scenarios): zod's own says
 * `Invalid input: expected string, received undefined` (or, for a decimal's string-or-number union, only
 * `Invalid input`), which puts "undefined" in front of a user who simply left the field out. A message a schema
 * gives itself still wins (zod's order: the schema's, then this).
 */
/** zod's names of types, as a user of the JSON inputs and YAML files knows them. */
const EXPECTED: Record<string, string> = { object: 'an object', record: 'an object', array: 'a list', int: 'a whole number' };

z.config({
  customError: (issue) => {
    if (issue.input !== undefined) return undefined;
    if (issue.code === 'invalid_type') return `is missing (expected ${EXPECTED[issue.expected] ?? `a ${issue.expected}`})`;
    if (issue.code === 'invalid_union') return 'is missing';
    return undefined;
  },
});
