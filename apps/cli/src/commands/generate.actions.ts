import { writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { z } from 'zod';
import { formatTimestamp, INPUT_SCHEMAS, parseTimestamp, quoteInput, timestampProblem } from '@clearsim/events';
import { parseFixed } from '@clearsim/money';
import { parseBoundedYaml, RulesError, RulesSchema, YamlBoundsError } from '@clearsim/rules';
import { generateInputStream, parseScenario, rulesReference, ScenarioError, ScenarioSchema, type ScenarioInput } from '@clearsim/scenario';
import { makeDirectoriesSync } from '@clearsim/store/directories';
import { generateLog, setupEvents } from '../../../../bench/generate-log';
import { UsageError } from '../cli-error';
import { prepareOutputFile } from '../io/file-paths';
import { PendingFile } from '../io/pending-file';
import { loadRules } from '../io/rules-source';
import { wholeNumberOption } from '../io/whole-number-option';

/** What `clearsim generate`'s subcommands do (generate.command.ts declares them and loads this module when one runs). */

interface PopulationOptions {
  instrument: string;
  price: string;
  start: string;
  margin: string;
  seed: string;
  count: string;
  long: string;
  leverage: string;
  collateral: string;
}

/** The scenario (as written) of a population: one perpetual held flat at `price`, a market maker, the insurance fund. */
function populationScenario(options: PopulationOptions & { name?: string; drop?: string; hours?: string }): ScenarioInput & Record<string, unknown> {
  const count = wholeNumberOption('--count', options.count, 1, 1_000_000);
  const long = fraction('--long', options.long);
  const longs = Math.round(count * long);
  const leverage = range('--leverage', options.leverage);
  const collateral = range('--collateral', options.collateral);
  if (options.margin !== 'cross' && options.margin !== 'isolated') throw new UsageError(`--margin: "${options.margin}" is not cross or isolated`);
  instrumentOption(options.instrument);
  priceOption(options.price);
  startOption(options.start);
  // the market maker backs every trader at the most collateral and leverage: a decimal the scenario takes
  const mmDeposit = String(count * Number(collateral[1]) * Number(leverage[1]));
  try {
    parseFixed(mmDeposit);
  } catch {
    throw new UsageError(`--count × --collateral × --leverage: the market maker's deposit (${count} × ${collateral[1]} × ${leverage[1]}) is beyond a decimal's 30 digits; lower them`);
  }
  const underlying = options.instrument.split('-')[0] || options.instrument;
  const groups = [
    ...(longs > 0 ? [{ prefix: 'long', count: longs, side: 'long', instrument: options.instrument, leverage, collateral, counterparty: 'mm' }] : []),
    ...(count - longs > 0 ? [{ prefix: 'short', count: count - longs, side: 'short', instrument: options.instrument, leverage, collateral, counterparty: 'mm' }] : []),
  ];
  return {
    name: options.name ?? 'population',
    rules: options.margin === 'cross' ? 'crypto-cross' : 'crypto-isolated',
    seed: wholeNumberOption('--seed', options.seed, 1, Number.MAX_SAFE_INTEGER),
    start: options.start,
    instruments: { [options.instrument]: { kind: 'perpetual', underlying, settlementAsset: 'USD', multiplier: '1' } },
    prices: { every: 60, noise: '0', decimals: 2, paths: { [options.instrument]: [{ at: options.start, price: options.price }] } },
    accounts: { insurance: { deposit: '1000000' }, fees: {}, mm: { deposit: mmDeposit, asset: 'USD' } },
    population: groups,
  } as ScenarioInput & Record<string, unknown>;
}

export function writePopulation(file: string, options: PopulationOptions): void {
  const raw = populationScenario(options);
  // every refusal of the scenario comes here, before a line is written (generateInputStream checks up front)
  const { scenario, events } = asUsage('population', () => {
    const scenario = parseScenario(raw, file);
    const reference = rulesReference(scenario);
    const rules = reference.kind === 'inline' ? reference.rules : loadRules(reference.kind === 'preset' ? reference.name : reference.path).rules;
    return { scenario, events: generateInputStream(scenario, rules) };
  });
  prepareOutputFile('<file.jsonl>', file);
  // written as they are made, a few thousand lines at a time (a million traders are two million lines), to a
  // temporary renamed at the end: a failure or an interruption half-way leaves no half-written file
  const out = new PendingFile(file);
  let count = 0;
  try {
    let chunk: string[] = [];
    for (const event of events) {
      chunk.push(JSON.stringify(event));
      count++;
      if (chunk.length === 4096) {
        out.write(chunk.join('\n') + '\n');
        chunk = [];
      }
    }
    if (chunk.length > 0) out.write(chunk.join('\n') + '\n');
    out.keep();
  } catch (error) {
    out.discard();
    throw error;
  }
  process.stderr.write(`clearsim generate population: ${count} events (${scenario.population.reduce((n, g) => n + g.count, 0)} traders on ${options.instrument}) → ${file}\n`);
}

export function writeScenario(file: string, options: PopulationOptions & { name: string; drop: string; hours: string }): void {
  const raw = populationScenario(options);
  // the waypoints at 1 or h/3, then an hour later, then at the end: strictly increasing from 3 hours on
  const hours = wholeNumberOption('--hours', options.hours, 3, 24 * 366);
  const drop = fraction('--drop', options.drop);
  const startMs = startOption(options.start);
  const end = parseTimestamp(formatTimestamp(startMs + hours * 3_600_000));
  if (end === undefined) throw new UsageError(`--start ${options.start} and --hours ${hours}: the scenario would end after 9999-12-31T23:59:59Z`);
  const at = (h: number) => formatTimestamp(startMs + h * 3_600_000);
  const price = Number(options.price);
  const low = (price * (1 - drop)).toFixed(2);
  if (!(Number(low) > 0)) throw new UsageError(`--drop: ${quoteInput(options.drop)} takes the price ${price.toFixed(2)} to ${low} at its low; a price stays above 0`);
  const name = nameOption(options.name);
  const rebound = (price * (1 - drop / 2)).toFixed(2);
  const population = (raw.population as { prefix: string; count: number; side: string; leverage: string[]; collateral: string[] }[])
    .map((g) => `  - { prefix: ${g.prefix}, count: ${g.count}, side: ${g.side}, instrument: ${options.instrument}, leverage: [${g.leverage.join(', ')}], collateral: ["${g.collateral[0]}", "${g.collateral[1]}"], counterparty: mm }`)
    .join('\n');
  const yaml = `# yaml-language-server: $schema=${schemaPath(file, 'scenario')}
# A starter scenario written by \`clearsim generate scenario\`: edit it, then
#   ./bin/clearsim run ${file} --reset --report out/${options.name}.html
# Format: docs/scenarios.md. The population is synthetic (seeded draws).
name: ${name}
description: ${options.instrument} falls ${Math.round(drop * 100)} % and recovers half of it; a leveraged population under ${raw.rules as string}
rules: ${raw.rules as string}            # a preset (libs/rules/presets/), a rules file path, or the rules inline
seed: ${raw.seed as number}                       # every random draw (population, noise) follows from it
start: ${options.start}
end: ${at(hours)}      # a ClockAdvanced here: grace timers fire up to it

instruments:
  ${options.instrument}: { kind: perpetual, underlying: ${options.instrument.split('-')[0]}, settlementAsset: USD, multiplier: "1" }

prices:
  every: 60                           # seconds between generated marks
  noise: "0.001"                      # seeded jitter around the path (0: exactly on it)
  decimals: 2
  paths:                              # waypoints (or { file: data.csv, format: binance-klines }: docs/import.md)
    ${options.instrument}:
      - { at: ${options.start}, price: "${price.toFixed(2)}" }
      - { at: ${at(Math.max(1, Math.floor(hours / 3)))}, price: "${price.toFixed(2)}" }
      - { at: ${at(Math.max(2, Math.floor(hours / 3) + 1))}, price: "${low}" }      # the crash: −${Math.round(drop * 100)} % in an hour
      - { at: ${at(hours)}, price: "${rebound}" }

accounts:
  insurance: { deposit: "1000000" }   # the insurance fund
  fees: {}
  mm: { deposit: "${(raw.accounts as Record<string, { deposit?: string }>).mm.deposit}", asset: USD }   # the market maker every trader opens against

population:                           # leverage and collateral drawn uniformly in [low, high]
${population}

events: []                            # extra inputs (withdrawals, funding …) in the JSONL shape
`;
  // the file must be a valid scenario: parse what we wrote
  asUsage('scenario', () => parseScenario(parseBoundedYaml(yaml), file));
  prepareOutputFile('<file.yaml>', file);
  writeFileSync(file, yaml);
  process.stderr.write(`clearsim generate scenario: ${file} (run it: ./bin/clearsim run ${file} --reset)\n`);
}

export async function writeDay(file: string, options: { events: string; accounts: string; instruments: string; seed: string; positionsPerAccount?: string }): Promise<void> {
  const spec = {
    events: wholeNumberOption('--events', options.events, 1, 1_000_000_000),
    accounts: wholeNumberOption('--accounts', options.accounts, 1, 10_000_000),
    instruments: wholeNumberOption('--instruments', options.instruments, 1, 99),
    seed: wholeNumberOption('--seed', options.seed, 1, Number.MAX_SAFE_INTEGER),
    ...(options.positionsPerAccount ? { positionsPerAccount: wholeNumberOption('--positions-per-account', options.positionsPerAccount, 1, 3) } : {}),
  };
  // every trader's deposit and opening trades come first, whatever --events says: a day smaller than them would be
  // written larger than asked (100 events for 10^7 traders wrote 2 × 10^7 and more, minutes and gigabytes)
  const opening = setupEvents({ accounts: spec.accounts, instruments: spec.instruments, positionsPerAccount: spec.positionsPerAccount ?? 1 });
  if (spec.events < opening) {
    throw new UsageError(`--events: ${spec.events} cannot hold the opening events of ${spec.accounts} traders on ${spec.instruments} perpetuals (${spec.positionsPerAccount === undefined ? 'at least ' : ''}${opening}: the rules, the listings, a deposit and the opening trades of each); raise --events or lower --accounts`);
  }
  prepareOutputFile('<file.jsonl>', file);
  // to a temporary renamed at the end: a failure or an interruption half-way leaves no half-written day
  const out = new PendingFile(file);
  let written: number;
  try {
    out.close();
    written = await generateLog(out.temporary, spec);
    out.keep();
  } catch (error) {
    out.discard();
    throw error;
  }
  process.stderr.write(`clearsim generate day: ${written} events (${spec.accounts} traders, ${spec.instruments} perpetuals, seed ${spec.seed}) → ${file}\n`);
}

/** The JSON Schemas, from the zod schemas of the validators (as written: decimals as strings or numbers, times as text). */
export function jsonSchemas(): Record<'input-event' | 'rules' | 'scenario', Record<string, unknown>> {
  const options = { io: 'input', unrepresentable: 'any' } as const;
  const withId = (name: string, title: string, schema: Record<string, unknown>) => ({ $id: `https://clearsim.dev/schemas/${name}.schema.json`, title, ...schema });
  const scenario = z.toJSONSchema(ScenarioSchema, options) as Record<string, unknown> & { properties?: { prices?: { properties?: { paths?: { additionalProperties?: unknown } } } } };
  // the CLI also takes an exchange file as an instrument's path (docs/import.md)
  const paths = scenario.properties?.prices?.properties?.paths;
  if (paths?.additionalProperties) {
    paths.additionalProperties = {
      anyOf: [
        paths.additionalProperties,
        {
          type: 'object',
          required: ['file', 'format'],
          additionalProperties: false,
          properties: Object.fromEntries(['file', 'format', 'barPath', 'interval', 'mark', 'timeFormat', 'timeCol', 'priceCol', 'qtyCol', 'delimiter'].map((k) => [k, { type: 'string' }])),
        },
      ],
    };
  }
  return {
    'input-event': withId('input-event', 'A clearsim input event (one line of an input JSONL file)', z.toJSONSchema(z.union(Object.values(INPUT_SCHEMAS) as unknown as [z.ZodType, ...z.ZodType[]]), options) as Record<string, unknown>),
    rules: withId('rules', 'A clearsim rule set (a rules YAML file, or RulesActivated.rules)', z.toJSONSchema(RulesSchema, options) as Record<string, unknown>),
    scenario: withId('scenario', 'A clearsim scenario (docs/scenarios.md)', scenario),
  };
}

export function writeSchemas(dir: string): void {
  try {
    makeDirectoriesSync(dir);
  } catch (error) {
    // a file where the folder (or one above it) should be: the flag's mistake, named as such
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new UsageError(`--out: ${dir} cannot be a directory: it, or a path above it, is a file`);
    throw error;
  }
  for (const [name, schema] of Object.entries(jsonSchemas())) writeFileSync(join(dir, `${name}.schema.json`), JSON.stringify(schema, null, 2) + '\n');
  process.stderr.write(`clearsim generate schemas: input-event, rules, scenario → ${dir}/\n`);
}

function schemaPath(file: string, name: string): string {
  const target = join(process.cwd(), 'schemas', `${name}.schema.json`);
  return relative(dirname(join(process.cwd(), file)), target) || `${name}.schema.json`;
}

/**
 * What the options make is checked by the scenario's own validation (a price the population's collateral cannot buy
 * a unit of, say): its refusal is the options' (exit 2), said as such, not an internal error.
 */
function asUsage<T>(what: string, make: () => T): T {
  try {
    return make();
  } catch (error) {
    if (error instanceof ScenarioError || error instanceof RulesError || error instanceof YamlBoundsError) {
      throw new UsageError(`generate ${what}: the options make a scenario clearsim refuses: ${error.message}`);
    }
    throw error;
  }
}

/** `--instrument`: an id written unquoted into the scenario's YAML and its flow maps, so letters, digits and `_ . : -`. */
function instrumentOption(text: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/.test(text)) {
    throw new UsageError(`--instrument: ${quoteInput(text)} is not an instrument id of 1 to 128 letters, digits and _ . : - (starting with a letter or digit)`);
  }
}

/** `--price`: above 0, with at most the 2 decimals of the generated prices and 15 digits (exact as a float64). */
function priceOption(text: string): void {
  if (!/^\d{1,15}(\.\d{1,2})?$/.test(text) || !(Number(text) > 0)) {
    throw new UsageError(`--price: ${quoteInput(text)} is not a price above 0 with at most 15 digits and 2 decimals (e.g. 60000 or 0.25)`);
  }
}

/** `--start`: an ISO-8601 UTC timestamp naming a real instant, as the scenario's `start` must be. */
function startOption(text: string): number {
  const ts = parseTimestamp(text);
  if (ts === undefined) {
    const problem = timestampProblem(text);
    throw new UsageError(`--start: ${quoteInput(text)} ${problem === undefined || problem.startsWith('is not an ISO-8601') ? 'is not an ISO-8601 UTC timestamp (e.g. 2026-01-01T00:00:00Z)' : problem}`);
  }
  return ts;
}

/** `--name`: written into the YAML (quoted unless it is a plain word) and into a comment line: not empty, no control characters. */
function nameOption(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (text === '' || /[\u0000-\u001f\u007f-\u009f]/.test(text)) throw new UsageError(`--name: ${quoteInput(text)} is empty or holds a control character`);
  return /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(text) ? text : JSON.stringify(text);
}

function fraction(flag: string, text: string): number {
  const value = Number(text);
  if (!/^(0(\.\d+)?|1(\.0+)?)$/.test(text)) throw new UsageError(`${flag}: "${text}" is not a fraction from 0 to 1`);
  return value;
}

function range(flag: string, text: string): [string, string] {
  // decimals of the scenario: at most 30 digits before the point and 8 after
  const match = /^(\d{1,30}(?:\.\d{1,8})?)-(\d{1,30}(?:\.\d{1,8})?)$/.exec(text);
  if (!match || Number(match[1]) <= 0 || Number(match[1]) > Number(match[2])) throw new UsageError(`${flag}: "${text}" is not a range low-high with 0 < low ≤ high, e.g. 2-25`);
  return [match[1], match[2]];
}
