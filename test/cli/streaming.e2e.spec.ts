import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { describeWithService, POSTGRES, testSchema } from '../../libs/store/src/test-services';

/**
 * End-to-end, on the built CLI (`./bin/clearsim`): `run` streams a large file
 * through one store transaction (a refusal at its last line or a `kill -9`
 * mid-run leaves the store as it was), and the inspection commands open the
 * store read-only.
 */
const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'clearsim');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'margin-call.jsonl');

function clearsim(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(BIN, args, { encoding: 'utf8', cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), `clearsim-${prefix}-`));

/** Every file under `dir` (relative path → SHA-256 of its bytes): equal maps mean byte-identical stores. */
function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out[relative(dir, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** A store holding the margin-call fixture (14 events, clock at 2026-01-01T02:00:00Z). */
function fixtureStore(): string {
  const dir = tempDir('stream-store');
  const out = clearsim(['run', FIXTURE, '--store', `file:${dir}`]);
  expect(out.code).toBe(0);
  return dir;
}

/**
 * A generated day of `lines` input lines, after the fixture's clock: rules, one perpetual (GEN-PERP at 100), a
 * market maker, 20 traders with 1,000 each and one 10×-leveraged position each (qty 100 @ 100: IM 5 % = 500,
 * MM 2.5 % = 250), then PriceUpdated lines one second apart on a deterministic walk of ±0.5 % steps, so some traders
 * are called and liquidated along the way. `bad` replaces line `bad.line` with a price that is not a decimal.
 */
function generateDay(file: string, lines: number, bad?: { line: number }): void {
  const t0 = Date.parse('2026-01-02T00:00:00Z');
  const out: string[] = [];
  const push = (seconds: number, event: Record<string, unknown>) => out.push(JSON.stringify({ ts: new Date(t0 + seconds * 1000).toISOString(), ...event }));
  push(0, {
    type: 'RulesActivated',
    rules: {
      name: 'stream-test',
      model: 'cross',
      marginCall: { graceSeconds: 60 },
      liquidation: { immediateBelow: '0.5', step: '0.5', slippage: '0', feeRate: '0.005' },
      bankruptcy: 'socialize',
      accounts: { insurance: 'insurance', fees: 'fees', backstop: 'backstop' },
      instruments: { '*': { tiers: [{ initialRate: '0.05', maintenanceRate: '0.025' }] } },
    },
  });
  push(0, { type: 'InstrumentListed', instrument: 'GEN-PERP', kind: 'perpetual', underlying: 'GEN', settlementAsset: 'USD', multiplier: '1' });
  push(0, { type: 'PriceUpdated', instrument: 'GEN-PERP', price: '100' });
  push(0, { type: 'Deposited', account: 'gen-mm', asset: 'USD', amount: '100000000' });
  for (let a = 0; a < 20; a++) {
    const account = `gen${String(a).padStart(2, '0')}`;
    push(0, { type: 'Deposited', account, asset: 'USD', amount: '1000' });
    const long = a % 2 === 0;
    push(0, { type: 'TradeExecuted', tradeId: `g${a}`, instrument: 'GEN-PERP', buyer: long ? account : 'gen-mm', seller: long ? 'gen-mm' : account, qty: '100', price: '100' });
  }
  let price = 100;
  let seed = 12345;
  for (let s = 1; out.length < lines; s++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    price = Math.min(150, Math.max(50, price * (1 + ((seed / 2 ** 31) - 0.5) * 0.01)));
    push(s, { type: 'PriceUpdated', instrument: 'GEN-PERP', price: price.toFixed(2) });
  }
  if (bad) out[bad.line - 1] = out[bad.line - 1]!.replace(/"price":"[^"]*"/, '"price":"12x.5"');
  writeFileSync(file, out.join('\n') + '\n');
}

const replayJson = (dir: string) => JSON.parse(clearsim(['replay', '--store', `file:${dir}`, '--json']).stdout) as Record<string, any>;

describe('clearsim run streams a large file through one transaction', () => {
  it('a bad field at line 300,000 exits 2 naming the file, line and field; the store and --decisions are untouched', () => {
    const store = fixtureStore();
    const before = hashTree(store);
    const input = join(tempDir('stream-input'), 'day.jsonl');
    generateDay(input, 300_000, { line: 300_000 });
    const outputs = tempDir('stream-out');
    // 300,000 inputs and their decisions: hundreds of chunks of RUN_CHUNK_EVENTS go into the transaction before the refusal
    const out = clearsim(['run', input, '--store', `file:${store}`, '--decisions', join(outputs, 'decisions.jsonl')]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`${input}:line 300000: field "price": "12x.5" is not a decimal`);
    expect(out.stderr).toContain('nothing was appended');
    expect(out.stderr).not.toMatch(/\n\s+at /);
    expect(hashTree(store)).toEqual(before);
    // the decisions written as chunks were decided went to a temporary file, removed with the run
    expect(readdirSync(outputs)).toEqual([]);
  }, 120_000);

  it('writes --decisions as it goes and renames it once committed: the same decisions the store logged', () => {
    const store = fixtureStore();
    const input = join(tempDir('stream-input'), 'day.jsonl');
    generateDay(input, 3_000);
    const outputs = tempDir('stream-out');
    const decisionsFile = join(outputs, 'decisions.jsonl');
    const out = clearsim(['run', input, '--store', `file:${store}`, '--decisions', decisionsFile, '--json'], { CLEARSIM_RUN_CHUNK_EVENTS: '100' });
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const run = JSON.parse(out.stdout);
    // the fixture logged 14 events; this run appended its 3,000 inputs and its decisions after them
    expect(run.fromPosition).toBe(15);
    expect(run.appended).toBeGreaterThan(3_000);
    expect(readdirSync(outputs)).toEqual(['decisions.jsonl']);
    const written = readFileSync(decisionsFile, 'utf8').trimEnd().split('\n');
    expect(written.length).toBe(run.appended - 3_000);
    expect(written.some((line) => line.includes('"type":"LiquidationStarted"'))).toBe(true);
    // the store logged the same decisions: its account view of a liquidated trader lists them
    const verify = JSON.parse(clearsim(['verify', '--store', `file:${store}`, '--json']).stdout);
    expect(verify).toMatchObject({ ok: true, outputHash: run.outputHash });
    // the fixture's 5 decisions and this run's
    expect(verify.decisions).toBe(5 + written.length);
  }, 60_000);
});

describe('the decode thread of run (CLEARSIM_DECODE_THREAD=1: whatever the size; 0: the main thread decodes, as before)', () => {
  /** Event lines of a store's log (the header's random log id and the commit records' chain left out). */
  const eventLines = (dir: string) => readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n').filter((line) => line.startsWith('{"position":'));

  it('writes the same log and decides the same with and without the thread', () => {
    const input = join(tempDir('thread-input'), 'day.jsonl');
    generateDay(input, 20_000);
    const threaded = fixtureStore();
    const single = fixtureStore();
    const a = clearsim(['run', input, '--store', `file:${threaded}`, '--json'], { CLEARSIM_DECODE_THREAD: '1' });
    const b = clearsim(['run', input, '--store', `file:${single}`, '--json'], { CLEARSIM_DECODE_THREAD: '0' });
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(JSON.parse(a.stdout)).toEqual({ ...JSON.parse(b.stdout), store: `file:${threaded}` });
    expect(eventLines(threaded)).toEqual(eventLines(single));
    expect(clearsim(['verify', '--store', `file:${threaded}`]).code).toBe(0);
  }, 120_000);

  it('started by the entry point before the commands load (a file of 16 MiB or more, no setting): the same log; a run that fails before reading it still ends', () => {
    const input = join(tempDir('early-input'), 'day.jsonl');
    generateDay(input, 190_000);
    expect(statSync(input).size).toBeGreaterThanOrEqual(16 << 20);
    const early = fixtureStore();
    const single = fixtureStore();
    const a = clearsim(['run', input, '--store', `file:${early}`, '--json']);
    const b = clearsim(['run', input, '--store', `file:${single}`, '--json'], { CLEARSIM_DECODE_THREAD: '0' });
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(JSON.parse(a.stdout)).toEqual({ ...JSON.parse(b.stdout), store: `file:${early}` });
    expect(eventLines(early)).toEqual(eventLines(single));
    expect(clearsim(['verify', '--store', `file:${early}`]).code).toBe(0);
    // the thread is started, and the command fails before `run` takes it (a usage error, a bad setting) or after (a
    // store that cannot be opened): the error, and the process ends (a thread left running would keep it alive until
    // the test's timeout)
    expect(clearsim(['run', input, '--store']).stderr).toContain("option '--store <url>' argument missing");
    expect(clearsim(['run', input], { CLEARSIM_RUN_CHUNK_EVENTS: 'abc' }).stderr).toContain('CLEARSIM_RUN_CHUNK_EVENTS: "abc" is not a whole number');
    const notADirectory = join(tempDir('early-bad-store'), 'file');
    writeFileSync(notADirectory, 'x');
    const failed = clearsim(['run', input, '--store', `file:${notADirectory}`]);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toBe(`clearsim: file:${notADirectory}: ${notADirectory} is a file, not a directory: a file store is a directory\n`);
  }, 180_000);

  it('a refusal (by the schema, by the engine, by the reader on the thread) is the same exit 2 and message, the store untouched, and the process ends', () => {
    const dir = tempDir('thread-refusals');
    const day = join(dir, 'day.jsonl');
    generateDay(day, 5_000);
    const lines = readFileSync(day, 'utf8').trimEnd().split('\n');
    const cases: Record<string, string> = {
      // line 4,000 a price that is not a decimal: a mark line the thread hands over as text, for the schema
      schema: lines.map((line, i) => (i === 3_999 ? line.replace(/"price":"[^"]*"/, '"price":"12x.5"') : line)).join('\n'),
      // line 4,000 a mark of an instrument never listed: decided from the columns, refused by the engine
      engine: lines.map((line, i) => (i === 3_999 ? line.replace('GEN-PERP', 'NOT-LISTED') : line)).join('\n'),
      // line 4,001 longer than the reader's bound: the thread's reader refuses it
      reader: [...lines.slice(0, 4_000), 'x'.repeat((16 << 20) + 1)].join('\n'),
    };
    for (const [name, text] of Object.entries(cases)) {
      const input = join(dir, `${name}.jsonl`);
      writeFileSync(input, text + '\n');
      const store = fixtureStore();
      const before = hashTree(store);
      const threaded = clearsim(['run', input, '--store', `file:${store}`], { CLEARSIM_DECODE_THREAD: '1' });
      const single = clearsim(['run', input, '--store', `file:${store}`], { CLEARSIM_DECODE_THREAD: '0' });
      // spawnSync returned: the process ended (a thread left running would keep it alive)
      expect({ name, code: threaded.code }).toEqual({ name, code: 2 });
      expect(threaded.stderr).toBe(single.stderr);
      expect(threaded.stderr).toMatch(new RegExp(`${input}:line 400[01]: `));
      expect(hashTree(store)).toEqual(before);
    }
  }, 120_000);
});

describe('the log written by the decode thread (CLEARSIM_LOG_THREAD, on by default with the thread; 0: by the main thread)', () => {
  /** Event lines of a store's log (the header's random log id and the commit records' chain left out). */
  const eventLines = (dir: string) => readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n').filter((line) => line.startsWith('{"position":'));

  it('is byte for byte the single-thread log on generated days, and a refusal at any line is the same exit 2 and message with the store untouched', () => {
    const dir = tempDir('log-thread');
    const day = join(dir, 'day.jsonl');
    generateDay(day, 12_000);
    const lines = readFileSync(day, 'utf8').trimEnd().split('\n');
    // the fixture's rules and book take the day's first 44 lines (its last a trade); a refusal anywhere from there, or none
    const refusal = fc.oneof(
      fc.constant(undefined),
      fc.record({ line: fc.integer({ min: 44, max: 12_000 }), by: fc.constantFrom('schema', 'engine') }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 2_000, max: 12_000 }),
        refusal,
        fc.constantFrom('1', 'hand-over'),
        // up to more than the whole run: its one chunk appended after the thread has read the whole file
        fc.integer({ min: 20, max: 20_000 }),
        (length, bad, thread, chunkEvents) => {
          const text = lines
            .slice(0, length)
            .map((line, i) => {
              if (bad === undefined || i !== bad.line - 1) return line;
              // a price that is not a decimal (the schema), or a mark of an instrument never listed (the engine)
              return bad.by === 'schema' ? line.replace(/"price":"[^"]*"/, '"price":"12x.5"') : line.replace('GEN-PERP', 'NOT-LISTED');
            })
            .join('\n');
          const input = join(dir, `case-${length}-${bad?.line ?? 0}.jsonl`);
          writeFileSync(input, text + '\n');
          const threaded = fixtureStore();
          const single = fixtureStore();
          const before = hashTree(threaded);
          const env = { CLEARSIM_RUN_CHUNK_EVENTS: String(chunkEvents) };
          const a = clearsim(['run', input, '--store', `file:${threaded}`, '--json'], { ...env, CLEARSIM_DECODE_THREAD: thread });
          const b = clearsim(['run', input, '--store', `file:${single}`, '--json'], { ...env, CLEARSIM_DECODE_THREAD: '0' });
          expect({ code: a.code, stderr: a.stderr.replaceAll(threaded, 'STORE') }).toEqual({ code: b.code, stderr: b.stderr.replaceAll(single, 'STORE') });
          if (bad !== undefined && bad.line <= length) {
            expect(a.code).toBe(2);
            expect(a.stderr).toContain(`${input}:line ${bad.line}: `);
            expect(hashTree(threaded)).toEqual(before);
          } else {
            expect(a.code).toBe(0);
            expect(JSON.parse(a.stdout)).toEqual({ ...JSON.parse(b.stdout), store: `file:${threaded}` });
            expect(eventLines(threaded)).toEqual(eventLines(single));
            expect(clearsim(['verify', '--store', `file:${threaded}`]).code).toBe(0);
          }
        },
      ),
      { numRuns: 6 },
    );
  }, 240_000);

  it('a write error of the log (the file size limit: EFBIG, as a full disk gives ENOSPC), by the thread or the main thread, is exit 1 naming it as the storage\'s, and the store is left byte for byte as it was', () => {
    const dir = tempDir('log-thread-write-error');
    const input = join(dir, 'day.jsonl');
    generateDay(input, 40_000);
    for (const thread of ['1', 'hand-over', '0']) {
      const store = fixtureStore();
      const before = hashTree(store);
      // a shell that ignores SIGXFSZ (inherited by node) and limits the files it writes to 1 MiB: the thread's writes
      // of the ~4 MB log fail with EFBIG instead of the signal ending the process
      const result = spawnSync('bash', ['-c', 'trap "" XFSZ; ulimit -f 1024; exec "$@"', 'bash', BIN, 'run', input, '--store', `file:${store}`], {
        encoding: 'utf8',
        cwd: ROOT,
        env: { ...process.env, CLEARSIM_DECODE_THREAD: thread },
      });
      // a run ended any other way shows how (status null: a signal, or `error` when it could not be started) and what it said
      expect({ thread, code: result.status, signal: result.signal, error: result.error?.message, stderr: result.status === 1 ? undefined : result.stderr }).toEqual({ thread, code: 1, signal: null, error: undefined, stderr: undefined });
      expect(result.stderr).toContain(thread === '0' ? 'clearsim: EFBIG: file too large' : 'clearsim: writing the log on the decode thread failed: EFBIG: file too large');
      expect(result.stderr).toContain('nothing of this command was committed');
      expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(hashTree(store)).toEqual(before);
      expect(clearsim(['verify', '--store', `file:${store}`]).code).toBe(0);
    }
  }, 60_000);

  it('a run of one chunk, appended once the whole file is read (the thread outlives the reading), with and without the hand-over', () => {
    const dir = tempDir('log-thread-small');
    const input = join(dir, 'day.jsonl');
    generateDay(input, 500);
    const single = fixtureStore();
    expect(clearsim(['run', input, '--store', `file:${single}`], { CLEARSIM_DECODE_THREAD: '0' }).code).toBe(0);
    for (const thread of ['1', 'hand-over']) {
      const store = fixtureStore();
      const out = clearsim(['run', input, '--store', `file:${store}`], { CLEARSIM_DECODE_THREAD: thread });
      expect({ thread, code: out.code, stderr: out.stderr }).toEqual({ thread, code: 0, stderr: '' });
      expect(eventLines(store)).toEqual(eventLines(single));
      expect(clearsim(['verify', '--store', `file:${store}`]).code).toBe(0);
    }
  }, 60_000);
});

// with PostgreSQL: the thread decodes, but the store's transaction cannot be handed to it, so the log is written and
// the decisions hashed on the main thread again (the engine takes its hash back: RunOptions.decisionsHashedByTransaction)
describeWithService('the decode thread of run with a PostgreSQL store', POSTGRES, (databaseUrl) => {
  const { url } = testSchema(databaseUrl, 'clearsim_e2e');

  it('decides and hashes what the file store run does, and verify agrees', () => {
    const input = join(tempDir('pg-input'), 'day.jsonl');
    generateDay(input, 20_000);
    const onPostgres = clearsim(['run', input, '--store', url, '--json'], { CLEARSIM_DECODE_THREAD: '1' });
    const onFile = clearsim(['run', input, '--store', `file:${tempDir('pg-file')}`, '--json'], { CLEARSIM_DECODE_THREAD: '1' });
    expect([onPostgres.code, onFile.code]).toEqual([0, 0]);
    const [a, b] = [JSON.parse(onPostgres.stdout), JSON.parse(onFile.stdout)];
    expect(a.outputHash).toBe(b.outputHash);
    expect(a.appended).toBe(b.appended);
    expect(a.decisions).toBeGreaterThan(0);
    expect(clearsim(['verify', '--store', url]).code).toBe(0);
  }, 120_000);
});

describe('kill -9 in the middle of a streamed run', () => {
  // this file is below the decode thread's size: by default the main thread decodes and writes the log; with
  // CLEARSIM_DECODE_THREAD=1 the thread decodes and writes it (log-thread.ts)
  it.each([
    ['the main thread writing the log', {}],
    ['the decode thread writing the log', { CLEARSIM_DECODE_THREAD: '1' }],
  ])('leaves the store holding nothing of the run or all of it, and verify passes (%s)', async (_name, threadEnv: Record<string, string>) => {
    const input = join(tempDir('crash-input'), 'day.jsonl');
    generateDay(input, 40_000);
    const env = { CLEARSIM_RUN_CHUNK_EVENTS: '2000', ...threadEnv };
    // a run of no input: opens the store as its writer and appends nothing
    const EMPTY = join(tempDir('crash-input'), 'empty.jsonl');
    writeFileSync(EMPTY, '');
    // the reference: the same run, not killed (and how long it takes here, to spread the kills over it)
    const reference = fixtureStore();
    const fixture = replayJson(reference);
    const started = Date.now();
    const whole = clearsim(['run', input, '--store', `file:${reference}`, '--json'], env);
    const duration = Date.now() - started;
    expect(whole.code).toBe(0);
    const wholeRun = JSON.parse(whole.stdout);
    const outcomes: string[] = [];
    let rerun: ReturnType<typeof clearsim> | undefined;
    for (let kill = 0; kill < 5; kill++) {
      const store = fixtureStore();
      const before = hashTree(store);
      const child = spawn(BIN, ['run', input, '--store', `file:${store}`, '--no-progress'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: 'ignore' });
      // the first kill lands as soon as the first chunk is in the file (about 20 chunks before the commit); the others
      // at a random moment between 10 % and 95 % of the uninterrupted run's time (node's start-up included): most
      // while chunks are being decided and appended, some in the commit or after it
      const logBytes = statSync(join(store, 'events.jsonl')).size;
      const exited = kill === 0 ? await killWhen(child, () => statSync(join(store, 'events.jsonl')).size > logBytes) : await killAfter(child, Math.floor(duration * (0.1 + 0.85 * Math.random())));
      const verify = clearsim(['verify', '--store', `file:${store}`, '--json']);
      expect(verify.code).toBe(0);
      const after = replayJson(store);
      if (after.position === fixture.position) {
        // nothing of the run: what a reader sees is the fixture's log (what the killed transaction wrote is not);
        // a writer's open cuts the uncommitted chunks off, and then the store is byte for byte what it was
        expect(after.outputHash).toBe(fixture.outputHash);
        const empty = clearsim(['run', EMPTY, '--store', `file:${store}`]);
        // its stderr in the failure message when it fails (a stale-lock warning on success is expected)
        expect({ code: empty.code, stderr: empty.code === 0 ? '' : empty.stderr }).toEqual({ code: 0, stderr: '' });
        expect(hashTree(store)).toEqual(before);
        outcomes.push(`${exited ? 'finished' : 'killed'}: nothing`);
        if (!rerun) {
          // and a writer takes the store on: the same run again gives what the uninterrupted run gave
          rerun = clearsim(['run', input, '--store', `file:${store}`, '--json'], env);
          expect(rerun.code).toBe(0);
          expect(JSON.parse(rerun.stdout)).toMatchObject({ head: wholeRun.head, outputHash: wholeRun.outputHash });
          expect(clearsim(['verify', '--store', `file:${store}`]).code).toBe(0);
        }
      } else {
        expect(after.position).toBe(wholeRun.head);
        expect(after.outputHash).toBe(wholeRun.outputHash);
        outcomes.push(`${exited ? 'finished' : 'killed'}: all`);
      }
    }
    // which moments the random kills hit varies from run to run; each of them left nothing or all of the run
    expect(outcomes).toHaveLength(5);
    expect(outcomes[0]).toBe('killed: nothing');
  }, 240_000);
});

/** Sends SIGKILL after `ms`; resolves true if the child had already exited by itself. */
function killAfter(child: ChildProcess, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    child.on('exit', () => {
      if (!done) {
        done = true;
        clearTimeout(timer);
        resolve(true);
      }
    });
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      child.on('exit', () => resolve(false));
      child.kill('SIGKILL');
    }, ms);
  });
}

/** Sends SIGKILL as soon as `ready()` holds (polled every 2 ms); resolves true if the child had already exited by itself. */
function killWhen(child: ChildProcess, ready: () => boolean): Promise<boolean> {
  return new Promise((resolve) => {
    let exited = false;
    child.on('exit', () => {
      exited = true;
    });
    const poll = setInterval(() => {
      if (!exited && !ready()) return;
      clearInterval(poll);
      if (exited) return resolve(true);
      child.on('exit', () => resolve(false));
      child.kill('SIGKILL');
    }, 2);
  });
}

describe('the inspection commands open the store read-only', () => {
  it('replay, account, margin and verify change no byte of the store, also while another process holds the writer lock', async () => {
    const store = fixtureStore();
    const before = hashTree(store);
    const inspect = () => {
      for (const args of [['replay'], ['account', 'alice'], ['margin', 'mm', '--trade', 'sell 1 BTC-PERP'], ['verify']]) {
        const out = clearsim([...args, '--store', `file:${store}`, '--json']);
        expect({ args, code: out.code, stderr: out.stderr }).toEqual({ args, code: 0, stderr: '' });
      }
    };
    inspect();
    expect(hashTree(store)).toEqual(before);
    // a writer: a child process holding the file store open (and so its lock) until it is killed
    const writer = spawn(process.execPath, ['-e', `require(${JSON.stringify(join(ROOT, 'dist', 'libs', 'store', 'src'))}).FileEventStore.open(${JSON.stringify(store)}).then(() => { process.stdout.write('open\\n'); setInterval(() => {}, 1000); })`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        writer.stdout!.once('data', () => resolve());
        writer.once('exit', (code) => reject(new Error(`the writer exited (${code})`)));
      });
      const locked = hashTree(store);
      expect(Object.keys(locked)).toContain('LOCK');
      // the writer really holds it: a second writer (a valid input after the fixture's clock) is kept out
      const later = join(tempDir('later'), 'later.jsonl');
      writeFileSync(later, '{"type":"ClockAdvanced","ts":"2026-01-03T00:00:00Z"}\n');
      const second = clearsim(['run', later, '--store', `file:${store}`]);
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(/lock/i);
      inspect();
      expect(hashTree(store)).toEqual(locked);
    } finally {
      writer.kill('SIGKILL');
    }
  }, 60_000);

  it('a log that cannot be what the store wrote is exit 1 with the store\'s message (file, line, what is wrong), no stack, no change', () => {
    const store = fixtureStore();
    const file = join(store, 'events.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[4] = '{"position":5,"type":"Bogus"}';
    writeFileSync(file, lines.join('\n'));
    const before = hashTree(store);
    for (const args of [['verify'], ['replay'], ['account', 'alice']]) {
      const out = clearsim([...args, '--store', `file:${store}`]);
      expect({ args, code: out.code }).toEqual({ args, code: 1 });
      // line 1 is the log's header: line 5 holds position 4
      expect(out.stderr).toContain(`${file}:line 5: corrupt event log`);
      expect(out.stderr).not.toMatch(/\n\s+at /);
    }
    expect(hashTree(store)).toEqual(before);
  });

  it('verify, replay and account on a store that does not exist or is empty exit 2 and create nothing', () => {
    const parent = tempDir('missing');
    const missing = join(parent, 'no-such-store');
    for (const args of [['verify'], ['replay'], ['account', 'alice']]) {
      const out = clearsim([...args, '--store', `file:${missing}`]);
      expect({ args, code: out.code }).toEqual({ args, code: 2 });
      expect(out.stderr).toContain(missing);
      expect(out.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(missing)).toBe(false);
    const empty = tempDir('empty');
    for (const args of [['verify'], ['replay']]) {
      const out = clearsim([...args, '--store', `file:${empty}`]);
      expect({ args, code: out.code }).toEqual({ args, code: 2 });
    }
    expect(readdirSync(empty)).toEqual([]);
  });
});
