import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseRulesYaml, rulesToJson, RulesError } from '@clearsim/rules';
import { UsageError } from '../cli-error';
import { readTextBounded } from './bounded-read';
import { checkInputFile } from './file-paths';

/** The repository root (where package.json is), found from this file so it works from src and dist. */
export function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'libs'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the clearsim package root');
    dir = parent;
  }
  return dir;
}

export const presetsDir = (): string => join(packageRoot(), 'libs', 'rules', 'presets');

export function presetNames(): string[] {
  return readdirSync(presetsDir())
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/**
 * Resolves `--rules`: a preset name (`crypto-cross`) or a YAML file path.
 * Returns the validated rules in their canonical JSON form, as they will be
 * recorded in `RulesActivated`.
 */
export function loadRules(reference: string, relativeTo = process.cwd()): { rules: Record<string, unknown>; source: string } {
  const isPreset = /^[A-Za-z0-9_-]+$/.test(reference) && !existsSync(resolve(relativeTo, reference));
  const file = isPreset ? join(presetsDir(), `${reference}.yaml`) : resolve(relativeTo, reference);
  if (!existsSync(file)) {
    throw new UsageError(isPreset ? `unknown rules preset "${reference}" (presets: ${presetNames().join(', ')})` : `rules file not found: ${file}`);
  }
  checkInputFile('rules file', file);
  try {
    return { rules: rulesToJson(parseRulesYaml(readTextBounded(file), file)), source: file };
  } catch (error) {
    if (error instanceof RulesError) throw new UsageError(error.message);
    throw error;
  }
}
