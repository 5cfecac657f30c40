import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ClearingEngine } from '@clearsim/clearing';
import { decodeLine, type InputEvent } from '@clearsim/events';

/**
 * The clearing engine alone over a generated day (no decode thread, no store, no log): every line is decoded first,
 * then decided as `clearsim run` decides it (a price update with no idempotency key through `handlePrice`, from its
 * fields; anything else through `handle`). It prints the outputHash, so a count is always of a known result.
 *
 * Its use is a count that does not move with the machine's load: the instructions of the work itself, under
 * valgrind with V8 made deterministic (`--predictable`: one thread, compiles and collections at fixed points).
 *
 *   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
 *     node --predictable --min-semi-space-size=64 --max-semi-space-size=64 \
 *     dist/bench/engine-day.js bench/.cache/day-e1000000-a10000.jsonl --lines 300000 [--decode-only]
 *
 * Two runs of one build give the same count to within ~1,000 of ~12·10^9 instructions. `--decode-only` stops after
 * the decoding: the engine's own count is the difference. A code change moves what V8 compiles and when it collects,
 * so two builds' counts differ by up to ~1 % for reasons unrelated to the change: a change worth less is not told
 * apart (docs/performance.md, B1, round 55). About 80 s for 300,000 lines on this machine.
 */

/** Decodes the first `limit` lines of `file` (blank ones skipped) and, unless `decodeOnly`, decides them: the outputHash. */
export function decideDay(file: string, limit = Infinity, decodeOnly = false): { lines: number; outputHash?: string } {
  const texts = readFileSync(file, 'utf8').split('\n');
  const inputs: InputEvent[] = [];
  for (let i = 0; i < texts.length && inputs.length < limit; i++) {
    if (texts[i]!.trim() !== '') inputs.push(decodeLine(texts[i]!, 'input', file, i + 1) as InputEvent);
  }
  if (decodeOnly) return { lines: inputs.length };
  const engine = ClearingEngine.create();
  for (const input of inputs) {
    // the runner's mark: a keyless price update (what its columns carry), as units of 10^-8
    if (input.type === 'PriceUpdated' && input.eventId === undefined && input.postedBy === undefined && input.price <= MAX_UNITS) {
      engine.handlePrice(input.ts, input.instrument, Number(input.price));
    } else {
      engine.handle(input);
    }
  }
  return { lines: inputs.length, outputHash: engine.outputHash };
}

const MAX_UNITS = BigInt(Number.MAX_SAFE_INTEGER);

function main(): number {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { lines: { type: 'string' }, 'decode-only': { type: 'boolean', default: false } },
  });
  const file = positionals[0];
  if (file === undefined) {
    process.stderr.write('usage: node dist/bench/engine-day.js FILE [--lines N] [--decode-only]\n');
    return 2;
  }
  const limit = values.lines === undefined ? Infinity : Number(values.lines);
  if (!(limit > 0)) {
    process.stderr.write(`--lines must be a positive number, not ${JSON.stringify(values.lines)}\n`);
    return 2;
  }
  const day = decideDay(file, limit, values['decode-only']);
  process.stdout.write(day.outputHash === undefined ? `${day.lines} lines decoded\n` : `${day.lines} lines decided, outputHash ${day.outputHash}\n`);
  return 0;
}

if (require.main === module) process.exitCode = main();
