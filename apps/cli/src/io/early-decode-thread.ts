import { statSync } from 'node:fs';
import { DECODE_CREDITS, DECODE_THREAD_ENV, decodeThreadFor, LINES_PER_MESSAGE, SpawnedDecodeWorker } from './decode-worker-spawn';

/**
 * `clearsim run FILE` decodes a large JSONL file on a thread of its own (decode-thread.ts). Started by the CLI's entry
 * point (main.ts) before it loads the commands (~0.15 s of modules, the store's opening after them), the thread has
 * loaded its code and decoded the first messages by the time `run` asks for them: the main thread decodes no line
 * itself and waits for no hand-over. Only for the plain form of the command as argv gives it (`run FILE` with `run`'s
 * own options, no `--rules`, not a scenario, no DECODE_THREAD_ENV); `run` adopts the thread when it reads the same
 * file (takeEarlyDecodeThread), and one not adopted is stopped when the command ends (discardEarlyDecodeThread). A
 * guess that misses costs the start of a thread, never another run: the adopted thread decodes what the thread
 * `run` would have started decodes, from the first line.
 */
let early: SpawnedDecodeWorker | undefined;

/** `run`'s options that take a value (as the next argument, or after `=`), and its flags (the global `--verbose` too). */
const RUN_OPTIONS_WITH_VALUE = ['--store', '--decisions', '--report'];
const RUN_FLAGS = new Set(['--reset', '--snapshot', '--no-progress', '--progress', '--json', '--verbose']);

/** Starts the decode thread for `run`'s input when argv (process.argv's layout) is `run FILE` of a file the thread would read. */
export function startEarlyDecodeThread(argv: readonly string[]): void {
  if (early !== undefined || process.env[DECODE_THREAD_ENV] !== undefined) return;
  const file = runInput(argv);
  // a scenario (input-source.ts's isScenarioFile, not imported: that module loads the codec's schemas)
  if (file === undefined || /\.ya?ml$/i.test(file)) return;
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) return;
    size = stat.size;
  } catch {
    return; // `run` says what is wrong with it
  }
  if (!decodeThreadFor(size)) return;
  early = new SpawnedDecodeWorker(file, DECODE_CREDITS, LINES_PER_MESSAGE, { line: 0, names: [] });
}

/** The input of `run` in argv, if argv is that command in a form this is sure of; else undefined. */
export function runInput(argv: readonly string[]): string | undefined {
  let i = 2;
  while (argv[i] === '--verbose') i++;
  if (argv[i] !== 'run') return undefined;
  let input: string | undefined;
  for (i++; i < argv.length; i++) {
    const arg = argv[i]!;
    if (RUN_OPTIONS_WITH_VALUE.includes(arg)) {
      i++;
      continue;
    }
    if (RUN_FLAGS.has(arg) || RUN_OPTIONS_WITH_VALUE.some((option) => arg.startsWith(`${option}=`))) continue;
    // --rules (the thread is not used with it), help, `--`, an option of another version: left to `run`
    if (arg.startsWith('-') || input !== undefined) return undefined;
    input = arg;
  }
  return input;
}

/** The thread started early, if it reads `file` (as `run` names it); one that reads another file is stopped. */
export function takeEarlyDecodeThread(file: string): SpawnedDecodeWorker | undefined {
  const thread = early;
  early = undefined;
  if (thread === undefined || thread.file === file) return thread;
  void thread.worker.terminate();
  return undefined;
}

/** Stops a thread started early that nothing adopted (the command failed before it, or did not read the file). */
export async function discardEarlyDecodeThread(): Promise<void> {
  const thread = early;
  early = undefined;
  if (thread !== undefined) await thread.worker.terminate();
}
