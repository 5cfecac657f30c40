import type { z } from 'zod';
import { formatTimestamp } from '@clearsim/events';
import { generatedInputCount, grouped, MAX_GENERATED_INPUTS, ScenarioSchema, type Scenario } from './scenario.schema';

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

/**
 * For a command that holds every input a scenario generates at once (`clearsim stress`: each path's inputs as one
 * array, in each worker): refuses, at `prices.every`, a scenario that would generate more than MAX_GENERATED_INPUTS.
 * `clearsim run`, `diff` and `backtest` take the inputs as they are made (generateInputStream) and need no such bound.
 */
export function checkHeldInputs(scenario: Scenario, source: string): void {
  const count = generatedInputCount(scenario);
  if (count.total <= MAX_GENERATED_INPUTS) return;
  const last = Math.max(...Object.values(scenario.prices.paths).map((path) => path[path.length - 1]!.at));
  throw new ScenarioError(source, [
    {
      path: 'prices.every',
      message:
        `the scenario would generate ${grouped(count.marks)} price marks (every ${scenario.prices.every} s from ${formatTimestamp(scenario.start)} to ${formatTimestamp(last)}) and ${grouped(count.total - count.marks)} other inputs; ` +
        `at most ${grouped(MAX_GENERATED_INPUTS)} generated inputs when they are all held at once: raise prices.every or shorten the paths`,
    },
  ]);
}
