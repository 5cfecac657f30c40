import type { z } from 'zod';
import { ScenarioSchema, type Scenario } from './scenario.schema';

/** A scenario refused by validation; every issue names the field (`population.0.leverage`). */
export class ScenarioError extends Error {
  constructor(
    readonly source: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(`invalid scenario in ${source}:\n` + issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n'));
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  // a map's key (instrument, account, token id) that fails the id check: zod's own message is "Invalid key in record"
  if (issue.code === 'invalid_key') return `the id ${issue.issues.map((inner) => inner.message).join('; ')}`;
  return issue.message;
}

/**
 * Validates an already-parsed scenario (YAML or JSON object). `source` (the
 * file name) is only used in error messages.
 */
export function parseScenario(raw: unknown, source: string): Scenario {
  const result = ScenarioSchema.safeParse(raw);
  if (!result.success) {
    throw new ScenarioError(
      source,
      result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: describeIssue(issue) })),
    );
  }
  return result.data;
}

/**
 * Where the scenario's rules come from, for the caller (the CLI) to resolve:
 * - `inline`: the `rules` field is the rules object itself;
 * - `preset`: a bare name (letters, digits, `-`, `_`; no `/`, no extension),
 *   resolved to the shipped preset `libs/rules/presets/<name>.yaml`;
 * - `path`: anything else, a file path relative to the scenario file.
 */
export type RulesReference = { kind: 'inline'; rules: Record<string, unknown> } | { kind: 'preset'; name: string } | { kind: 'path'; path: string };

export function rulesReference(scenario: Pick<Scenario, 'rules'>): RulesReference {
  const { rules } = scenario;
  if (typeof rules !== 'string') return { kind: 'inline', rules };
  return /^[A-Za-z0-9_-]+$/.test(rules) ? { kind: 'preset', name: rules } : { kind: 'path', path: rules };
}
