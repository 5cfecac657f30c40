import { Command, CommanderError, Option } from 'commander';
// the light entry points: an error's class and the default store, without the codec's schemas or the stores
import { InputError } from '@clearsim/events/bytes';
import { ConcurrencyError, CorruptLogError, DEFAULT_STORE_URL, StoreLockedError, StoreNotFoundError, StoreUnavailableError, StoreUrlError } from '@clearsim/store/errors';
import { EXIT_BAD_INPUT, EXIT_RUNTIME, RuntimeFailure, UsageError } from './cli-error';
import { escapeControls } from './output/display-text';
import { benchCommand } from './commands/bench.command';
import { generateCommand } from './commands/generate.command';

/**
 * Each command's modules load when it runs, not when the program is built: `clearsim --help` or `--version` loads
 * none of them, and a command loads its own (the engine, the stores, the codec's schemas) and not the others'
 * (the server, the importers, the Monte-Carlo workers).
 */
const commands = {
  account: () => import('./commands/account.command'),
  backtest: () => import('./commands/backtest.command'),
  diff: () => import('./commands/diff.command'),
  import: () => import('./commands/import.command'),
  margin: () => import('./commands/margin.command'),
  replay: () => import('./commands/replay.command'),
  run: () => import('./commands/run.command'),
  serve: () => import('./commands/serve.command'),
  stress: () => import('./commands/stress.command'),
  verify: () => import('./commands/verify.command'),
};

const storeOption = () => new Option('--store <url>', 'event store: file:PATH, postgres://…, esdb://… / kurrentdb://…').default(DEFAULT_STORE_URL);

export function buildProgram(): Command {
  const program = new Command('clearsim')
    .description('Event-sourced clearing simulator: deterministic margin calls, liquidations, insurance fund and ADL from an append-only log')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(terminalSafe(text)) })
    .option('--verbose', 'on an error, also print its stack trace');

  program
    .command('run')
    .description('feed inputs (JSONL of input events, or a scenario YAML) through the rules and append inputs and decisions to the store')
    .argument('<input>', 'input.jsonl or scenario.yaml')
    .option('--rules <file|preset>', 'rules YAML file or preset name (replaces the RulesActivated of the input)')
    .addOption(storeOption())
    .option('--decisions <file>', 'also write the decisions of this run as JSONL')
    .option('--report <file.html>', 'write an interactive HTML report (prices, decisions over time, insurance fund, accounts with drill-down)')
    .option('--reset', 'delete the file store\'s log first (re-run an example from scratch)')
    .option('--snapshot', 'save a snapshot of the state at the end (the next open restores it instead of replaying)')
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print one JSON object with the summary and every account')
    .action(async (input: string, options) => (await commands.run()).runCommand(input, options));

  program
    .command('import')
    .description("turn an exchange's data file (klines, mark-price klines, trades, aggTrades, funding rates; Binance, Bybit, OKX or any CSV) into input JSONL, streaming")
    .argument('<file>', 'the CSV file, with or without its header line')
    .requiredOption('--format <layout>', 'binance-klines, binance-mark-klines, binance-aggtrades, binance-trades, binance-funding, bybit-trades, okx-trades, csv')
    .requiredOption('--instrument <id>', 'the clearsim instrument the prices or rates are for, e.g. BTC-PERP')
    .option('--out <file.jsonl>', 'write here (default: stdout)')
    .option('--bar-path <order>', 'bars: which extreme comes first inside a bar: nearest (to the open), low-first, high-first', 'nearest')
    .option('--interval <duration>', 'trades: one mark per interval, e.g. 250ms, 1s, 1m (default 1s); csv: aggregate rows as trades')
    .option('--mark <last|vwap>', "trades: the interval's last price or its volume-weighted average (default last)")
    .option('--time-format <unit>', 'auto (ISO text, or an epoch whose size gives s/ms/us/ns), s, ms, us, ns, iso', 'auto')
    .option('--time-col <name|n>', 'csv: the time column, by header name or 1-based position')
    .option('--price-col <name|n>', 'csv: the price column')
    .option('--qty-col <name|n>', 'csv: the quantity column (for --mark vwap)')
    .option('--delimiter <char>', 'the column separator (default ","; tab as tab)')
    .option('--strict', 'refuse the whole file on any bad row (default: skip bad rows and list them)')
    .option('--no-progress', 'no progress bar')
    .option('--trade-accounts <list>', 'trades: also write each trade as a TradeExecuted, taken by one of these accounts (ids or prefix:count, comma-separated, e.g. long:700,short:300), drawn by --seed')
    .option('--market-maker <id>', 'with --trade-accounts: the account on the other side of every trade')
    .option('--seed <n>', 'with --trade-accounts: the seed of the draw of each trade\'s account (default 1)')
    .action(async (file: string, options) => (await commands.import()).importCommand(file, options));

  program
    .command('diff')
    .description('run the same input through two or more rule sets (in memory) and compare what they decide')
    .argument('<input>', 'input.jsonl or scenario.yaml')
    .requiredOption('--rules <file|preset>', 'a rule set; give it two or more times', (value: string, previous: string[] = []) => [...previous, value])
    .option('--accounts <n>', 'how many differing accounts to list', '20')
    .option('--report <file.html>', 'write an HTML report: the rule sets (up to 8) on the same axes, with the per-account drill-down')
    .option('--json', 'print one JSON object')
    .action(async (input: string, options) => (await commands.diff()).diffCommand(input, options));

  program
    .command('backtest')
    .description('backtest margin against realized losses: coverage, Kupiec, Christoffersen, Basel traffic light, per rule set')
    .argument('<input>', 'input.jsonl or scenario.yaml')
    .requiredOption('--rules <file|preset>', 'a rule set (repeat to compare several)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--period <seconds>', 'margin period: observations are taken every this many seconds of log time', '3600')
    .option('--confidence <c>', 'the coverage the margin should reach (for Kupiec and the traffic light)', '0.99')
    .option('--margin <initial|maintenance>', 'which requirement counts as the margin held', 'initial')
    .option('--accounts <n>', 'how many of the most exceeded accounts to list', '10')
    .option('--report <file.html>', 'write an HTML report: realized loss against margin over time per rule set, and the per-account table')
    .option('--json', 'print one JSON object')
    .action(async (input: string, options) => (await commands.backtest()).backtestCommand(input, options));

  program
    .command('stress')
    .description("Monte-Carlo stress: seeded price paths around a scenario's (GARCH(1,1) + jumps, its stress: block), each through each rule set in memory; distributions of bankruptcies, insurance fund low, ADL, socialized loss, margin held")
    .argument('<scenario>', 'scenario.yaml')
    .option('--paths <n>', 'number of price paths', '100')
    .option('--seed <s>', "stress seed (default: the scenario's seed); path i depends on (seed, i) only")
    .option('--rules <file|preset>', "a rule set (repeat to compare several; default: the scenario's)", (value: string, previous: string[] = []) => [...previous, value])
    .option('--workers <k>', "worker threads (default: the machine's cores); the figures are the same for any number")
    .option('--report <file.html>', 'write an HTML report: the distribution of each figure over the paths, per rule set')
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print one JSON object')
    .action(async (scenario: string, options) => (await commands.stress()).stressCommand(scenario, options));

  program
    .command('margin')
    .description("what-if: an account's IM, MM, equity and liquidation price before and after a proposed trade (nothing is appended)")
    .argument('<account>', 'account id')
    .requiredOption('--trade <spec>', '"buy|sell QTY INSTRUMENT [@ PRICE]", e.g. "buy 0.5 BTC-PERP @ 9500" (price defaults to the mark)')
    .option('--fee <amount>', 'fee the account would pay')
    .addOption(storeOption())
    .option('--at <ts>', 'as of this time (ISO-8601 UTC)')
    .option('--json', 'print one JSON object')
    .action(async (account: string, options) => (await commands.margin()).marginCommand(account, options));

  program
    .command('replay')
    .description('rebuild every account from the log without deciding anything')
    .addOption(storeOption())
    .option('--at <ts>', 'stop at this time (ISO-8601 UTC): the state as it was then')
    .option('--json', 'print one JSON object')
    .action(async (options) => (await commands.replay()).replayCommand(options));

  program
    .command('verify')
    .description('re-decide every input of the log and prove the logged decisions match (exit 1 on any mismatch)')
    .addOption(storeOption())
    .option('--json', 'print one JSON object')
    .action(async (options) => {
      process.exitCode = await (await commands.verify()).verifyCommand(options);
    });

  program
    .command('account')
    .description('show one account (cash, equity, margins, positions, liquidation prices, status) and the decisions about it')
    .argument('<id>', 'account id')
    .addOption(storeOption())
    .option('--at <ts>', 'as it was at this time (ISO-8601 UTC)')
    .option('--history <n>', 'how many of its decisions to list', '20')
    .option('--json', 'print one JSON object')
    .action(async (id: string, options) => (await commands.account()).accountCommand(id, options));

  program
    .command('serve')
    .description('run the HTTP service (inputs in; accounts, log, decisions as server-sent events out; OpenAPI at /docs) until SIGINT/SIGTERM')
    .addOption(storeOption())
    .option('--port <n>', 'TCP port (0: any free one)', '8080')
    .option('--host <address>', 'interface to listen on', '127.0.0.1')
    .option('--api-key <SECRET:admin|SECRET:venue:PREFIX>', 'an API key (repeatable; also CLEARSIM_API_KEYS, comma-separated)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--snapshot-every <n>', 'save a snapshot every n appended events (0: never)', '10000')
    .option('--log-level <level>', 'JSON log level: fatal, error, warn, info, debug, trace, silent', 'info')
    .option('--public-metrics', 'serve /metrics without a key (default: an admin key, x-api-key or Authorization: Bearer, as Prometheus sends it)')
    .option('--max-body-bytes <n>', 'largest request body in bytes, on every route (413 beyond it)', String(16 * 1024 * 1024))
    .option('--request-timeout-ms <n>', 'how long a request (line, headers, body) may take to arrive, in ms: 408 and the connection closed beyond it (100 to 3600000)', '60000')
    .option('--commit-delay-us <n>', 'group commit: while other clients post, start a group no sooner than this many µs after the previous one, so one fsync serves more inputs (0: off)', '1000')
    .option('--kafka-brokers <host:port,...>', 'consume the inputs topic and publish decisions (also KAFKA_BROKERS)')
    .option('--inputs-topic <name>', 'Kafka inputs topic (default clearsim.inputs; dead letters to <name>.dlq)')
    .option('--decisions-topic <name>', 'Kafka decisions topic, keyed by account (default clearsim.decisions)')
    .option('--shards <n>', 'shards (= partitions of the inputs topic); with more than 1, inputs come through Kafka only (default 1)')
    .option('--shard <i>', 'the shard this server owns, 0 to n-1 (default 0)')
    .option('--group <name>', 'consumer group prefix; the group is <name>.shard-<i>-of-<n> (default clearsim)')
    .option('--kafka-consumer-thread <on|off|auto>', 'run the Kafka client (fetching, record decoding) on a thread of its own, beside the one that decides; auto: on with 2 or more cores (also CLEARSIM_KAFKA_CONSUMER_THREAD; default auto)')
    .action(async (options) => (await commands.serve()).serveCommand(options));

  program.addCommand(generateCommand().copyInheritedSettings(program));
  program.addCommand(benchCommand().copyInheritedSettings(program));
  program.hook('preAction', (_program, action) => refuseEmptyValues(action));

  return program;
}

/**
 * An option or argument given as an empty string (`--report ""`, a shell variable that was not set) names nothing:
 * refused naming it, before the command runs, instead of read as "not given" (a report silently not written, a rules
 * set silently dropped from a diff) or as a path of the current folder.
 */
function refuseEmptyValues(action: Command): void {
  for (const option of action.options) {
    const value: unknown = action.getOptionValue(option.attributeName());
    if (value === '' || (Array.isArray(value) && value.includes(''))) throw new UsageError(`${option.long ?? option.short}: must not be empty`);
  }
  action.registeredArguments.forEach((argument, i) => {
    const value: unknown = action.processedArgs[i];
    if (value === '' || (Array.isArray(value) && value.includes(''))) throw new UsageError(`<${argument.name()}>: must not be empty`);
  });
}

/** The CLI on `argv` (process.argv's layout): its exit code. main.ts calls it once it has started what may start early. */
export async function runProgram(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const verbose = argv.includes('--verbose');
  stopWritingOnClosedPipe();
  try {
    await buildProgram().parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version exit 0; a usage mistake is bad usage (2); commander printed its message already
      if (error.exitCode === 0) return 0;
      if (json) process.stdout.write(JSON.stringify({ error: { kind: 'usage', message: cutLongLines(error.message.replace(/^error: /, '')), exitCode: EXIT_BAD_INPUT } }) + '\n');
      return EXIT_BAD_INPUT;
    }
    const failure = describeFailure(error);
    // under --json, stdout stays one JSON object (the error) for the script reading it; stderr says it to the person
    if (json) process.stdout.write(JSON.stringify({ error: { kind: failure.kind, message: cutLongLines(failure.message), exitCode: failure.exitCode, ...(failure.hint ? { hint: cutLongLines(failure.hint) } : {}) } }) + '\n');
    // a message may name the user's values as they are (an account id that holds an ESC): escaped for the terminal
    process.stderr.write(`clearsim: ${terminalSafe(failure.message)}\n`);
    if (failure.hint) process.stderr.write(`clearsim: ${terminalSafe(failure.hint)}\n`);
    if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    else if (failure.kind === 'internal') process.stderr.write('clearsim: this is a bug or an unexpected condition; re-run with --verbose for the stack trace\n');
    return failure.exitCode;
  }
}

/** The longest line of an error the CLI prints: a message names its field at the start, the rest is the input it quotes. */
export const MAX_ERROR_LINE = 1000;

/** Each line of `text` cut at MAX_ERROR_LINE characters, saying how long it was: an error does not echo megabytes of input. */
export function cutLongLines(text: string): string {
  return text
    .split('\n')
    .map((line) => (line.length <= MAX_ERROR_LINE ? line : `${line.slice(0, MAX_ERROR_LINE)}… (${line.length} characters)`))
    .join('\n');
}

/**
 * An error as written to the terminal: every control or format character but the line break escaped as \u001b
 * (output/display-text.ts escapeControls: an id, a path or a flag's value holding an ESC or a NUL is shown, not obeyed
 * by the terminal), and long lines cut. Under --json, JSON.stringify escapes them already.
 */
export function terminalSafe(text: string): string {
  return cutLongLines(escapeControls(text));
}

interface Failure {
  kind: 'usage' | 'bad-input' | 'store-not-found' | 'store-url' | 'corrupt-log' | 'concurrency' | 'store-locked' | 'store-unavailable' | 'storage' | 'filesystem' | 'runtime' | 'internal';
  message: string;
  hint?: string;
  exitCode: number;
}

/** What the user sees of an error: one line (no stack unless --verbose), a hint that names the fix, the exit code. */
export function describeFailure(error: unknown): Failure {
  const hint = error instanceof Error ? hintOf(error) : undefined;
  if (error instanceof InputError) return { kind: 'bad-input', message: error.message, hint: hint ?? 'nothing was appended', exitCode: EXIT_BAD_INPUT };
  if (error instanceof UsageError) return { kind: 'usage', message: error.message, hint, exitCode: EXIT_BAD_INPUT };
  if (error instanceof StoreNotFoundError) return { kind: 'store-not-found', message: error.message, hint, exitCode: EXIT_BAD_INPUT };
  if (error instanceof StoreUrlError) return { kind: 'store-url', message: error.message, hint, exitCode: EXIT_BAD_INPUT };
  if (error instanceof CorruptLogError) return { kind: 'corrupt-log', message: error.message, hint, exitCode: EXIT_RUNTIME };
  if (error instanceof ConcurrencyError) {
    return { kind: 'concurrency', message: error.message, hint: 'another writer appended to this store meanwhile; re-run', exitCode: EXIT_RUNTIME };
  }
  if (error instanceof StoreLockedError) {
    return {
      kind: 'store-locked',
      message: error.message,
      hint: 'the read-only commands (replay, account, margin, verify) work while another process writes; or give run/serve another --store',
      exitCode: EXIT_RUNTIME,
    };
  }
  if (error instanceof StoreUnavailableError) {
    return { kind: 'store-unavailable', message: error.message, hint: 'is the server running and the URL right? (see README: Stores)', exitCode: EXIT_RUNTIME };
  }
  if (error instanceof RuntimeFailure) return { kind: 'runtime', message: error.message, hint, exitCode: EXIT_RUNTIME };
  if (isStorageError(error)) {
    return {
      kind: 'storage',
      message: error.message,
      // a command's writes are one transaction (docs/architecture.md): a failed write aborts it
      hint: hint ?? 'the storage refused a write (full disk, file size limit, read-only or failing device): nothing of this command was committed; free space or fix the device and run it again',
      exitCode: EXIT_RUNTIME,
    };
  }
  if (isFileSystemError(error)) {
    return {
      kind: 'filesystem',
      message: error.message,
      // not a bug: a path is not what it must be (a store's events.jsonl that is a directory, a snapshots folder that is a file)
      hint: hint ?? 'a path clearsim reads or writes is not what it should be (a directory where a file belongs, a file where a folder belongs, missing, or not permitted): check --store and the paths given',
      exitCode: EXIT_RUNTIME,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'internal', message: `internal error: ${message}`, exitCode: EXIT_RUNTIME };
}

/** The system's errors of the storage under a store: not a bug of clearsim (named as what they are, not "internal"). */
const STORAGE_ERROR_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EIO', 'EROFS']);

/** The system's errors of a path that is not what it must be: the user's paths or store, not a bug of clearsim. */
const FILE_SYSTEM_ERROR_CODES = new Set(['EISDIR', 'ENOTDIR', 'ENOENT', 'EEXIST', 'EACCES', 'EPERM', 'ELOOP', 'ENAMETOOLONG']);

function isFileSystemError(error: unknown): error is NodeJS.ErrnoException {
  const code = String((error as NodeJS.ErrnoException).code);
  // the system's (with the call that failed), or Node's own of a path (fs.rm of a directory: ERR_FS_EISDIR)
  return error instanceof Error && ((FILE_SYSTEM_ERROR_CODES.has(code) && typeof (error as NodeJS.ErrnoException).syscall === 'string') || code === 'ERR_FS_EISDIR');
}

function isStorageError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && STORAGE_ERROR_CODES.has(String((error as NodeJS.ErrnoException).code));
}

/** A hint a command attached to its error (e.g. run's "the store already held events: --reset"). */
function hintOf(error: Error): string | undefined {
  const hint = (error as { hint?: unknown }).hint;
  return typeof hint === 'string' ? hint : undefined;
}

/**
 * `clearsim account alice | head`: once the reader of stdout is gone, writes to it fail with EPIPE. Stop writing
 * (instead of crashing with an unhandled 'error' event) and let the command finish normally, so a writer still
 * commits or aborts its transaction and releases the store's lock.
 */
function stopWritingOnClosedPipe(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.stdout.write = (() => true) as typeof process.stdout.write;
  });
}

