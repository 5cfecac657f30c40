import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { decodeEvent, decodeLine, InputError, parseTimestamp, quoteInput, timestampProblem, type InputEvent } from '@clearsim/events';
import { generateInputs, parseScenario, rulesReference, ScenarioError } from '@clearsim/scenario';
import type { LocatedInput } from '@clearsim/shard';
import { parseBoundedYaml, RulesError, YamlBoundsError } from '@clearsim/rules';
import { UsageError } from '../cli-error';
import { readLineBatches, type ReadProgress } from './jsonl-reader';
import { loadRules } from './rules-source';
import { resolveImportedPaths } from './imported-paths';

export interface InputSource {
  /** What the inputs are, for the summary line. */
  description: string;
  inputs: AsyncIterable<LocatedInput>;
  /** How far the inputs have been read, of `total`: bytes of a JSONL file, or generated events of a scenario. */
  progress(): { done: number; total: number; unit: 'bytes' | 'events' };
}

export const isScenarioFile = (file: string): boolean => /\.ya?ml$/i.test(file);

/**
 * Opens `run`'s input: a JSONL file of input events, or a scenario YAML that
 * generates them. With `--rules`, the given rules replace every
 * `RulesActivated` of the input, activated at the first event's time.
 */
export function openInput(file: string, rulesOverride?: string): InputSource {
  if (!existsSync(file)) throw new UsageError(`input file not found: ${file}`);
  const override = rulesOverride ? loadRules(rulesOverride) : undefined;
  if (isScenarioFile(file)) return scenarioInputs(file, override);
  const total = statSync(file).size;
  const read: ReadProgress = { bytesRead: 0 };
  // bytesRead runs ahead of the line being decided by at most one chunk (4 MiB): close enough for a percentage
  return { description: file, inputs: withRules(jsonlInputs(file, read), override, file), progress: () => ({ done: Math.min(read.bytesRead, total), total, unit: 'bytes' }) };
}

async function* jsonlInputs(file: string, read: ReadProgress): AsyncIterable<LocatedInput> {
  let line = 0;
  for await (const batch of readLineBatches(file, undefined, read)) {
    for (const text of batch) {
      line++;
      if (text.trim() === '') continue;
      yield { input: decodeLine(text, 'input', file, line) as InputEvent, source: file, line };
    }
  }
}

async function* withRules(inputs: AsyncIterable<LocatedInput>, override: { rules: Record<string, unknown>; source: string } | undefined, file: string): AsyncIterable<LocatedInput> {
  let first = true;
  for await (const located of inputs) {
    if (override && first) {
      yield { input: decodeEvent({ type: 'RulesActivated', ts: new Date(located.input.ts).toISOString(), rules: override.rules }, 'input') as InputEvent, source: override.source };
    }
    first = false;
    if (override && located.input.type === 'RulesActivated') continue;
    yield located;
  }
  if (first && override) throw new InputError([{ field: '', message: 'the input has no events' }], file);
}

function scenarioInputs(file: string, override: { rules: Record<string, unknown>; source: string } | undefined): InputSource {
  let raw: unknown;
  try {
    raw = parseBoundedYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    if (error instanceof YamlBoundsError) throw new UsageError(`${file}${error.line ? `:line ${error.line}` : ''}: ${error.syntax ? 'YAML syntax error: ' : ''}${error.message}`);
    throw error;
  }
  try {
    const scenario = parseScenario(resolveImportedPaths(raw, file), file);
    let rules = override?.rules;
    if (!rules) {
      const reference = rulesReference(scenario);
      rules = reference.kind === 'inline' ? reference.rules : loadRules(reference.kind === 'preset' ? reference.name : reference.path, dirname(file)).rules;
    }
    const generated = generateInputs(scenario, rules);
    let done = 0;
    async function* located(): AsyncIterable<LocatedInput> {
      for (let i = 0; i < generated.length; i++) {
        done = i + 1;
        const source = `${file} [generated event]`;
        try {
          yield { input: decodeEvent(generated[i], 'input') as InputEvent, source, line: i + 1 };
        } catch (error) {
          if (error instanceof InputError) throw error.withLocation(source, i + 1);
          throw error;
        }
      }
    }
    return { description: `${file} (scenario "${scenario.name}", ${generated.length} generated events)`, inputs: located(), progress: () => ({ done, total: generated.length, unit: 'events' }) };
  } catch (error) {
    if (error instanceof ScenarioError || error instanceof RulesError) throw new UsageError(error.message);
    throw error;
  }
}

/** Parses `--at`: an ISO-8601 UTC timestamp. */
export function parseAt(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ts = parseTimestamp(text);
  if (ts === undefined) {
    const problem = timestampProblem(text);
    throw new UsageError(`--at: ${quoteInput(text)} ${problem === undefined || problem.startsWith('is not an ISO-8601') ? 'is not an ISO-8601 UTC timestamp (e.g. 2020-03-13T02:16:00Z)' : problem}`);
  }
  return ts;
}
