import { Command } from 'commander';

// what the subcommands do loads the schemas, the scenario generator and the day's generator: only when one runs
const actions = () => import('./generate.actions');

/**
 * `clearsim generate`: the scaffolding of a study — a starter scenario with
 * comments, a seeded population's opening events, the synthetic venue day the
 * benchmarks replay, and the JSON Schemas editors use to complete and check
 * inputs, rules and scenarios.
 */
export function generateCommand(): Command {
  const generate = new Command('generate').description('write a starter scenario, a seeded population, a synthetic venue day, or the JSON Schemas');

  const scenario = generate
    .command('scenario')
    .description('a starter scenario YAML with comments: one perpetual, a crash path, a leveraged population (edit it, then clearsim run it)')
    .argument('<file.yaml>', 'where to write it')
    .option('--name <name>', 'scenario name', 'my-crash')
    .option('--price <p>', 'the starting price', '60000')
    .option('--drop <fraction>', 'how far the price falls at its low (0.2 = −20 %)', '0.2')
    .option('--start <ts>', 'ISO-8601 UTC start', '2026-01-01T00:00:00Z')
    .option('--hours <n>', 'how long the scenario runs', '24');
  withPopulationOptions(scenario).action(async (file: string, options) => (await actions()).writeScenario(file, options));

  const population = generate
    .command('population')
    .description('a seeded population as input JSONL: rules, the instrument, deposits and opening trades against a market maker (append prices to it, or run it as is)')
    .argument('<file.jsonl>', 'where to write it')
    .option('--price <p>', 'the price the positions open at', '60000')
    .option('--start <ts>', 'ISO-8601 UTC time of the opening events', '2026-01-01T00:00:00Z');
  withPopulationOptions(population).action(async (file: string, options) => (await actions()).writePopulation(file, options));

  generate
    .command('day')
    .description("the benchmarks' synthetic venue day: traders open positions on perpetuals, then prices random-walk, with funding and clock ticks")
    .argument('<file.jsonl>', 'where to write it')
    .option('--events <n>', 'events in the file', '1000000')
    .option('--accounts <n>', 'traders', '10000')
    .option('--instruments <n>', 'perpetuals', '20')
    .option('--seed <n>', 'seed', '1')
    .option('--positions-per-account <n>', 'positions each trader opens (default: one to three, drawn)')
    .action(async (file: string, options) => (await actions()).writeDay(file, options));

  generate
    .command('schemas')
    .description('JSON Schemas of input events, rules and scenarios, generated from the schemas clearsim validates with (for editors: see the $schema line atop the bundled YAML files)')
    .option('--out <dir>', 'directory', 'schemas')
    .action(async (options: { out: string }) => (await actions()).writeSchemas(options.out));

  return generate;
}

/** The options of a population, the same for `generate scenario` and `generate population`. */
function withPopulationOptions(command: Command): Command {
  return command
    .option('--instrument <id>', 'the perpetual', 'BTC-PERP')
    .option('--margin <cross|isolated>', 'margin mode: the crypto-cross or crypto-isolated preset', 'cross')
    .option('--seed <n>', 'seed of every random draw', '1')
    .option('--count <n>', 'traders in the population', '1000')
    .option('--long <fraction>', 'share of the traders who are long (the rest short)', '0.7')
    .option('--leverage <lo-hi>', 'leverage range, drawn uniformly', '2-25')
    .option('--collateral <lo-hi>', 'collateral range in USD, drawn uniformly', '500-50000');
}

