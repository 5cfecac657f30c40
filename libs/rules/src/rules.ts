import { formatFixed } from '@clearsim/money';
import { parseBoundedYaml, YamlBoundsError } from './bounded-yaml';
import { RulesSchema, type InstrumentRules, type Rules, type Tier } from './rules.schema';

export class RulesError extends Error {
  constructor(
    readonly source: string,
    readonly issues: { path: string; message: string; line?: number }[],
  ) {
    super(`invalid rules in ${source}:\n` + issues.map((i) => `  ${i.line ? `line ${i.line}: ` : ''}${i.path || '(root)'}: ${i.message}`).join('\n'));
  }
}

/** Validates a rules object (from YAML or from a `RulesActivated` event). */
export function parseRules(raw: unknown, source = 'rules'): Rules {
  const result = RulesSchema.safeParse(raw);
  if (!result.success) {
    throw new RulesError(
      source,
      result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    );
  }
  return result.data;
}

/** Parses rules YAML text; errors name the file, the YAML line where known, and the field. */
export function parseRulesYaml(text: string, source: string): Rules {
  let raw: unknown;
  try {
    raw = parseBoundedYaml(text);
  } catch (error) {
    if (error instanceof YamlBoundsError) throw new RulesError(source, [{ path: '', message: error.message, line: error.line }]);
    throw error;
  }
  return parseRules(raw, source);
}

/** The canonical, JSON-safe form of validated rules (decimals as strings), as recorded in the log. */
export function rulesToJson(rules: Rules): Record<string, unknown> {
  return JSON.parse(JSON.stringify(rules, (_key, value: unknown) => (typeof value === 'bigint' ? formatFixed(value) : value))) as Record<string, unknown>;
}

/**
 * The entry of a map of the rules (instruments, collateral, portfolio.underlyings, lending.assets, tokens) under an
 * id that comes from an input: its own entry only. An asset, instrument or token named "constructor", "toString" or
 * "__proto__" is not Object.prototype's member of that name (taken as an entry, it passed validation and then had no
 * figures: a deposit of "constructor" was taken as collateral, an instrument of that name as margined, an internal
 * error later).
 */
export function ownEntry<T>(map: Readonly<Record<string, T>> | undefined, id: string): T | undefined {
  return map !== undefined && Object.hasOwn(map, id) ? map[id] : undefined;
}

/** An asset the rules take as collateral (besides the shard's cash asset): one of `collateral`, or a lending model's asset. */
export function takesAsCollateral(rules: Rules, asset: string): boolean {
  return ownEntry(rules.collateral, asset) !== undefined || ownEntry(rules.lending?.assets, asset) !== undefined;
}

/** The margin rules of an instrument: its own entry, else the "*" default, else undefined. */
export function instrumentRules(rules: Rules, instrument: string): InstrumentRules | undefined {
  return ownEntry(rules.instruments, instrument) ?? rules.instruments['*'];
}

export function isSystemAccount(rules: Rules, account: string): boolean {
  const { insurance, fees, backstop } = rules.accounts;
  return account === insurance || account === fees || account === backstop;
}

export type { Tier };
