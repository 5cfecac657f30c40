import { Command, CommanderError, Option } from 'commander';
import { InputError } from '@clearsim/events';
import { ConcurrencyError, CorruptLogError, DEFAULT_STORE_URL, StoreNotFoundError } from '@clearsim/store';
import { EXIT_BAD_INPUT, EXIT_RUNTIME, UsageError } from './cli-error';
import { accountCommand } from './commands/account.command';
import { diffCommand } from './commands/diff.command';
import { backtestCommand } from './commands/backtest.command';
import { benchCommand } from './commands/bench.command';
import { marginCommand } from './commands/margin.command';
import { replayCommand } from './commands/replay.command';
import { runCommand } from './commands/run.command';
import { serveCommand } from './commands/serve.command';
import { verifyCommand } from './commands/verify.command';

const storeOption = () => new Option('--store <url>', 'event store: file:PATH, postgres://…, esdb://… / kurrentdb://…').default(DEFAULT_STORE_URL);

export function buildProgram(): Command {
  const program = new Command('clearsim')
    .description('Event-sourced clearing simulator: deterministic margin calls, liquidations, insurance fund and ADL from an append-only log')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  program
    .command('run')
    .description('feed inputs (JSONL of input events, or a scenario YAML) through the rules and append inputs and decisions to the store')
    .argument('<input>', 'input.jsonl or scenario.yaml')
    .option('--rules <file|preset>', 'rules YAML file or preset name (replaces the RulesActivated of the input)')
    .addOption(storeOption())
    .option('--decisions <file>', 'also write the decisions of this run as JSONL')
    .option('--report <file.html>', 'write an HTML report (prices, decisions over time, insurance fund)')
    .option('--reset', 'delete the file store\'s log first (re-run an example from scratch)')
    .option('--snapshot', 'save a snapshot of the state at the end (the next open restores it instead of replaying)')
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print one JSON object with the summary and every account')
    .action(async (input: string, options) => runCommand(input, options));

  program
    .command('diff')
    .description('run the same input through two rule sets (in memory) and compare what they decide')
    .argument('<input>', 'input.jsonl or scenario.yaml')
    .requiredOption('--rules <file|preset>', 'a rule set; give it twice', (value: string, previous: string[] = []) => [...previous, value])
    .option('--accounts <n>', 'how many differing accounts to list', '20')
    .option('--json', 'print one JSON object')
    .action(async (input: string, options) => diffCommand(input, options));

  program
    .command('backtest')
    .description('backtest margin against realized losses: coverage, Kupiec, Christoffersen, Basel traffic light, per rule set')
    .argument('<input>', 'input.jsonl or scenario.yaml')
    .requiredOption('--rules <file|preset>', 'a rule set (repeat to compare several)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--period <seconds>', 'margin period: observations are taken every this many seconds of log time', '3600')
    .option('--confidence <c>', 'the coverage the margin should reach (for Kupiec and the traffic light)', '0.99')
    .option('--margin <initial|maintenance>', 'which requirement counts as the margin held', 'initial')
    .option('--accounts <n>', 'how many of the most exceeded accounts to list', '10')
    .option('--report <file.html>', 'write an HTML report: margin against realized loss per rule set')
    .option('--json', 'print one JSON object')
    .action(async (input: string, options) => backtestCommand(input, options));

  program
    .command('margin')
    .description("what-if: an account's IM, MM, equity and liquidation price before and after a proposed trade (nothing is appended)")
    .argument('<account>', 'account id')
    .requiredOption('--trade <spec>', '"buy|sell QTY INSTRUMENT [@ PRICE]", e.g. "buy 0.5 BTC-PERP @ 9500" (price defaults to the mark)')
    .option('--fee <amount>', 'fee the account would pay')
    .addOption(storeOption())
    .option('--at <ts>', 'as of this time (ISO-8601 UTC)')
    .option('--json', 'print one JSON object')
    .action(async (account: string, options) => marginCommand(account, options));

  program
    .command('replay')
    .description('rebuild every account from the log without deciding anything')
    .addOption(storeOption())
    .option('--at <ts>', 'stop at this time (ISO-8601 UTC): the state as it was then')
    .option('--json', 'print one JSON object')
    .action(async (options) => replayCommand(options));

  program
    .command('verify')
    .description('re-decide every input of the log and prove the logged decisions match (exit 1 on any mismatch)')
    .addOption(storeOption())
    .option('--json', 'print one JSON object')
    .action(async (options) => {
      process.exitCode = await verifyCommand(options);
    });

  program
    .command('account')
    .description('show one account (cash, equity, margins, positions, liquidation prices, status) and the decisions about it')
    .argument('<id>', 'account id')
    .addOption(storeOption())
    .option('--at <ts>', 'as it was at this time (ISO-8601 UTC)')
    .option('--history <n>', 'how many of its decisions to list', '20')
    .option('--json', 'print one JSON object')
    .action(async (id: string, options) => accountCommand(id, options));

  program
    .command('serve')
    .description('run the HTTP service (inputs in; accounts, log, decisions as server-sent events out; OpenAPI at /docs) until SIGINT/SIGTERM')
    .addOption(storeOption())
    .option('--port <n>', 'TCP port (0: any free one)', '8080')
    .option('--host <address>', 'interface to listen on', '127.0.0.1')
    .option('--api-key <SECRET:admin|SECRET:venue:PREFIX>', 'an API key (repeatable; also CLEARSIM_API_KEYS, comma-separated)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--snapshot-every <n>', 'save a snapshot every n appended events (0: never)', '10000')
    .option('--log-level <level>', 'JSON log level: fatal, error, warn, info, debug, trace, silent', 'info')
    .option('--max-body-bytes <n>', 'largest request body in bytes, on every route (413 beyond it)', String(16 * 1024 * 1024))
    .option('--kafka-brokers <host:port,...>', 'consume the inputs topic and publish decisions (also KAFKA_BROKERS)')
    .option('--inputs-topic <name>', 'Kafka inputs topic (default clearsim.inputs; dead letters to <name>.dlq)')
    .option('--decisions-topic <name>', 'Kafka decisions topic, keyed by account (default clearsim.decisions)')
    .option('--shards <n>', 'shards (= partitions of the inputs topic); with more than 1, inputs come through Kafka only (default 1)')
    .option('--shard <i>', 'the shard this server owns, 0 to n-1 (default 0)')
    .option('--group <name>', 'consumer group prefix; the group is <name>.shard-<i>-of-<n> (default clearsim)')
    .action(async (options) => serveCommand(options));

  program.addCommand(benchCommand().copyInheritedSettings(program));

  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version exit 0; a usage mistake is bad usage (2)
      return error.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
    }
    if (error instanceof UsageError || error instanceof InputError || error instanceof StoreNotFoundError) {
      process.stderr.write(`clearsim: ${error.message}\n`);
      if (error instanceof InputError) process.stderr.write('clearsim: nothing was appended\n');
      return EXIT_BAD_INPUT;
    }
    if (error instanceof CorruptLogError) {
      process.stderr.write(`clearsim: ${error.message}\n`);
      return EXIT_RUNTIME;
    }
    if (error instanceof ConcurrencyError) {
      process.stderr.write(`clearsim: ${error.message} (another writer appended to this store; re-run)\n`);
      return EXIT_RUNTIME;
    }
    process.stderr.write(`clearsim: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT_RUNTIME;
  }
}

if (require.main === module) {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
