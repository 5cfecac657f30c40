import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { decodeEvent, decodeLine, decodePriceBytes, InputError, type InputEvent, type Sha256State } from '@clearsim/events';
import { generatedInputCount, generateInputStream, parseScenario, rulesReference, ScenarioError, type Scenario } from '@clearsim/scenario';
import { isLocatedArray, locatedInputs, type InputBatch, type LocatedInput, type SourcedInputs } from '@clearsim/shard';
import { parseBoundedYaml, RulesError, YamlBoundsError } from '@clearsim/rules';
import type { AppendTransaction } from '@clearsim/store';
import { UsageError } from '../cli-error';
import { readLineChunks, type ReadProgress } from './jsonl-reader';
import { loadRules } from './rules-source';
import { decodeThreadFor, startDecodeThread } from './decode-thread';
import { isBlank } from './mark-columns';
import { resolveImportedPaths } from './imported-paths';
import { checkInputFile } from './file-paths';
import { displayText, escapeControls, quotedText } from '../output/display-text';
import { readTextBounded } from './bounded-read';

export interface InputSource {
  /** What the inputs are, for the summary line. */
  description: string;
  /** The inputs an array at a time (a chunk of the file's lines): what `run` feeds the runner. */
  batches: AsyncIterable<InputBatch>;
  /** The same inputs one at a time. */
  inputs: AsyncIterable<LocatedInput>;
  /** How far the inputs have been read, of `total`: bytes of a JSONL file, or generated events of a scenario. */
  progress(): { done: number; total: number; unit: 'bytes' | 'events' };
  /** Stops what reads the input ahead (the decode thread), if anything does; safe to call again. */
  close(): Promise<void>;
  /**
   * With a decode thread: the run's store transaction with its lines written by that thread (log-thread.ts), and with
   * `decisionsHash` its decisions hashed there (RunOptions.decisionsHashedByTransaction).
   */
  writeLog?: (transaction: AppendTransaction, decisionsHash?: Sha256State) => Promise<AppendTransaction>;
}

export const isScenarioFile = (file: string): boolean => /\.ya?ml$/i.test(file);

/**
 * Opens `run`'s input: a JSONL file of input events, or a scenario YAML that
 * generates them. With `--rules`, the given rules replace every
 * `RulesActivated` of the input, activated at the first event's time.
 */
export function openInput(file: string, rulesOverride?: string, options: { decodeThread?: boolean; logThread?: boolean } = {}): InputSource {
  if (!existsSync(file)) throw new UsageError(`input file not found: ${file}`);
  checkInputFile('input', file);
  const override = rulesOverride ? loadRules(rulesOverride) : undefined;
  if (isScenarioFile(file)) return scenarioInputs(file, override);
  const total = statSync(file).size;
  const read: ReadProgress = { bytesRead: 0 };
  // bytesRead runs ahead of the line being decided by at most one chunk (4 MiB): close enough for a percentage
  const batches = () => withRules(jsonlBatches(file, read), override, file);
  // `run` of a large file without --rules takes the lines from the decode thread (mark lines as columns,
  // decode-thread.ts), started now so that its start-up overlaps the opening of the store
  const thread = options.decodeThread && !override && decodeThreadFor(total) ? startDecodeThread(file, read, { forLog: options.logThread }) : undefined;
  return {
    description: file,
    batches: thread?.batches ?? batches(),
    inputs: oneByOne(batches()),
    close: async () => thread?.close(),
    writeLog: thread?.writeLog,
    progress: () => ({ done: Math.min(read.bytesRead, total), total, unit: 'bytes' }),
  };
}

/**
 * The decoded lines of a JSONL file, a chunk at a time. A mark line of the
 * usual layout is decoded from its bytes (decodePriceBytes: no string of the
 * line); any other line is decoded to text and goes through decodeLine, whose
 * schema is the authority for every refusal. A line that does not decode ends
 * its batch: the inputs before it are handed out first and the error is
 * thrown when the next batch is asked for, so a refusal of an earlier input
 * by the engine is still the one reported (as line by line).
 */
/**
 * Inputs handed to the engine per batch. A read chunk (4 MiB, ~40,000 lines) decoded all at once kept every
 * input alive until the last was decided: they outlived two scavenges and were promoted, and the old
 * generation filled with them between full collections (the run's peak RSS). Decoded 1,024 at a time, they
 * die young (docs/performance.md, B1-scale).
 */
const SUB_BATCH = 1024;
export async function* jsonlBatches(file: string, read: ReadProgress): AsyncIterable<SourcedInputs> {
  let line = 0;
  for await (const { bytes, ranges } of readLineChunks(file, undefined, read)) {
    // the inputs and their line numbers side by side: no object per line besides the input; sized for every line
    // of the chunk (a blank line leaves them one shorter), so they are not regrown while filled
    let inputs: InputEvent[] = new Array<InputEvent>(Math.min(SUB_BATCH, ranges.length / 2));
    let lines = new Int32Array(inputs.length);
    let count = 0;
    for (let i = 0; i < ranges.length; i += 2) {
      if (count === SUB_BATCH) {
        yield sourced(inputs, count, file, lines);
        inputs = new Array<InputEvent>(Math.min(SUB_BATCH, (ranges.length - i) / 2));
        lines = new Int32Array(inputs.length);
        count = 0;
      }
      line++;
      const start = ranges[i]!;
      const end = ranges[i + 1]!;
      let input: InputEvent | undefined = decodePriceBytes(bytes, start, end);
      if (input === undefined) {
        const text = bytes.toString('utf8', start, end);
        if (isBlank(text)) continue;
        try {
          input = decodeLine(text, 'input', file, line) as InputEvent;
        } catch (error) {
          if (count > 0) yield sourced(inputs, count, file, lines);
          throw error;
        }
      }
      inputs[count] = input;
      lines[count++] = line;
    }
    if (count > 0) yield sourced(inputs, count, file, lines);
  }
}

/** The first `count` of `inputs` and `lines` as SourcedInputs. */
function sourced(inputs: InputEvent[], count: number, source: string, lines: Int32Array): SourcedInputs {
  inputs.length = count;
  return { inputs, source, lines: lines.subarray(0, count) };
}

async function* withRules(batches: AsyncIterable<InputBatch>, override: { rules: Record<string, unknown>; source: string } | undefined, file: string): AsyncIterable<InputBatch> {
  if (!override) {
    yield* batches;
    return;
  }
  let first = true;
  for await (const batch of batches) {
    const kept: LocatedInput[] = [];
    for (const located of locatedInputs(batch)) {
      if (first) {
        kept.push({ input: decodeEvent({ type: 'RulesActivated', ts: new Date(located.input.ts).toISOString(), rules: override.rules }, 'input') as InputEvent, source: override.source });
        first = false;
      }
      if (located.input.type !== 'RulesActivated') kept.push(located);
    }
    yield kept;
  }
  if (first) throw new InputError([{ field: '', message: 'the input has no events' }], file);
}

async function* oneByOne(batches: AsyncIterable<InputBatch>): AsyncIterable<LocatedInput> {
  for await (const batch of batches) yield* isLocatedArray(batch) ? batch : locatedInputs(batch);
}

/**
 * Rules given with `--rules` for a scenario that issues leveraged tokens: the tokens are the scenario's products
 * (FTX's BULL is FTX's, whichever venue's rulebook clears the book), so a token the given rules do not define keeps
 * its definition from the scenario's own rules, with a notice on stderr. Returns `rules` itself when nothing is missing.
 */
function withScenarioTokens(rules: Record<string, unknown>, issued: Record<string, unknown>, ownRules: () => Record<string, unknown>, file: string): Record<string, unknown> {
  const given = (rules.tokens ?? {}) as Record<string, unknown>;
  const missing = Object.keys(issued).filter((token) => !Object.hasOwn(given, token));
  if (missing.length === 0) return rules;
  const own = (ownRules().tokens ?? {}) as Record<string, unknown>;
  const carried = missing.filter((token) => Object.hasOwn(own, token));
  if (carried.length === 0) return rules; // the scenario's check names what is missing
  process.stderr.write(`clearsim: ${escapeControls(file)}: the rules ${quotedText(String(rules.name))} define no token ${carried.map(displayText).join(', ')}: kept from the scenario's own rules (its products, not the venue's)\n`);
  return { ...rules, tokens: { ...given, ...Object.fromEntries(carried.map((token) => [token, own[token]])) } };
}

/**
 * A scenario file's text (`run`, `diff`, `backtest`, `stress`) parsed and validated, its exchange files (`{ file: … }`)
 * resolved: a YAML or scenario refusal as a usage error naming the file (and the YAML's line).
 */
export function parseScenarioFile(file: string, text: string): Scenario {
  let raw: unknown;
  try {
    raw = parseBoundedYaml(text);
  } catch (error) {
    if (error instanceof YamlBoundsError) throw new UsageError(`${file}${error.line ? `:line ${error.line}` : ''}: ${error.syntax ? 'YAML syntax error: ' : ''}${error.message}`);
    throw error;
  }
  try {
    return parseScenario(resolveImportedPaths(raw, file), file);
  } catch (error) {
    if (error instanceof ScenarioError) throw new UsageError(error.message);
    throw error;
  }
}

function scenarioInputs(file: string, override: { rules: Record<string, unknown>; source: string } | undefined): InputSource {
  const scenario = parseScenarioFile(file, readTextBounded(file));
  try {
    const ownRules = (): Record<string, unknown> => {
      const reference = rulesReference(scenario);
      return reference.kind === 'inline' ? reference.rules : loadRules(reference.kind === 'preset' ? reference.name : reference.path, dirname(file)).rules;
    };
    const rules = override ? withScenarioTokens(override.rules, scenario.tokens, ownRules, file) : ownRules();
    // made as they are taken (the price path is never held whole); every refusal of the scenario itself comes here
    const generated = generateInputStream(scenario, rules);
    // the progress counts every tick of the path (a MarketMoved counts its marks): the count of generatedInputCount
    const count = generatedInputCount(scenario);
    const total = count.total;
    let done = 0;
    const source = `${file} [generated event]`;
    let taken = false;
    /** The generated events decoded, up to 4,096 at a time; one that does not decode ends its batch (as in jsonlBatches). */
    async function* located(): AsyncIterable<LocatedInput[]> {
      if (taken) throw new Error(`${source}: the generated events are taken once`);
      taken = true;
      let batch: LocatedInput[] = [];
      let line = 0;
      let ticks = 0;
      for (const event of generated) {
        line++;
        let input: InputEvent;
        try {
          input = decodeEvent(event, 'input') as InputEvent;
        } catch (error) {
          if (batch.length > 0) yield batch;
          if (error instanceof InputError) throw error.withLocation(source, line);
          throw error;
        }
        batch.push({ input, source, line });
        ticks += input.type === 'MarketMoved' ? input.marks.length : 1;
        if (batch.length === 4096) {
          done = Math.min(ticks, total);
          yield batch;
          batch = [];
        }
      }
      done = total;
      if (batch.length > 0) yield batch;
    }
    return {
      description: `${file} (scenario "${scenario.name}": ${count.marks} price marks and ${count.total - count.marks} other inputs, generated as it runs)`,
      batches: located(),
      inputs: oneByOne(located()),
      progress: () => ({ done, total, unit: 'events' }),
      close: async () => undefined,
    };
  } catch (error) {
    if (error instanceof ScenarioError || error instanceof RulesError) throw new UsageError(error.message);
    throw error;
  }
}
