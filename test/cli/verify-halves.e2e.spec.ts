import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * End-to-end, on the build: a log hashed in two halves by the verify thread (dist's verify-worker.js) answers what one
 * walk answers, and a damaged line is still named at its line (the halves fall back to the one walk). Under the test
 * runner's sources the second half runs on the same thread (log-verifier.int.spec.ts), so the thread itself is
 * tried here, through the built modules and the CLI.
 */
const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'clearsim');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'margin-call.jsonl');

/** A second run's input after the fixture's clock: deposits and price updates, so the second batch is as long as the first. */
function secondInput(file: string): void {
  const lines: string[] = [];
  for (let i = 0; i < 12; i++) {
    const ts = `2026-01-01T03:${String(i).padStart(2, '0')}:00Z`;
    lines.push(JSON.stringify({ type: 'Deposited', ts, account: `trader${i}`, asset: 'USD', amount: `${1000 + i}` }));
    lines.push(JSON.stringify({ type: 'PriceUpdated', ts, instrument: 'BTC-PERP', price: `${9500 + 10 * i}` }));
  }
  writeFileSync(file, lines.join('\n') + '\n');
}

function clearsim(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(BIN, args, { encoding: 'utf8', cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

// the built log verifier, whose thread script is beside it (not the TypeScript sources, where it is not)
// eslint-disable-next-line @typescript-eslint/no-require-imports
const built = require(join(ROOT, 'dist', 'libs', 'store', 'src', 'file', 'log-verifier.js')) as typeof import('../../libs/store/src/file/log-verifier');

describe('a log verified in two halves (the verify thread)', () => {
  let dir: string;
  let store: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'clearsim-verify-halves-'));
    store = join(dir, 'store');
    // two runs: two batches, so a commit record lies after the log's middle
    const second = join(dir, 'second.jsonl');
    secondInput(second);
    for (const input of [FIXTURE, second]) expect(clearsim(['run', input, '--store', `file:${store}`, '--no-progress'])).toMatchObject({ code: 0 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the halves (the second on the thread) answer exactly what the one walk answers', async () => {
    const file = join(store, 'events.jsonl');
    const size = readFileSync(file).length;
    const handle = await open(file, 'r');
    try {
      const header = (await built.readHeader(handle, file, size))!;
      const whole = await built.verifyLog(handle, file, size, header, new Set());
      expect(whole.committedBytes).toBe(size);
      let answered = 0;
      for (const splitFrom of [header.bytes.length + 1, Math.floor(size / 3), Math.floor(size / 2)]) {
        const halves = await built.verifyInHalves(handle, file, size, header, splitFrom, new Set(), 1 << 20);
        if (halves === undefined) continue; // no record after that point
        answered++;
        expect({ ...halves, chain: halves.chain.toString('hex') }).toEqual({ ...whole, chain: whole.chain.toString('hex') });
      }
      expect(answered).toBeGreaterThanOrEqual(2);
    } finally {
      await handle.close();
    }
  });

  it('clearsim verify: the same answer hashed in halves or not; a changed amount in the second half named at its line either way', () => {
    const halves = clearsim(['verify', '--store', `file:${store}`, '--json'], { CLEARSIM_VERIFY_HALVES: '1' });
    const one = clearsim(['verify', '--store', `file:${store}`, '--json'], { CLEARSIM_VERIFY_HALVES: '0' });
    expect(halves.code).toBe(0);
    expect(JSON.parse(halves.stdout)).toEqual(JSON.parse(one.stdout));

    const damaged = join(dir, 'damaged');
    cpSync(store, damaged, { recursive: true });
    const file = join(damaged, 'events.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n');
    // the last event line holding an amount, in the second run's batch
    const line = lines.reduce((found, text, i) => (/"amount":"\d/.test(text) ? i : found), -1);
    expect(line).toBeGreaterThan(lines.length / 2);
    lines[line] = lines[line]!.replace(/"amount":"(\d)/, (_m, d: string) => `"amount":"${d === '9' ? '8' : '9'}`);
    writeFileSync(file, lines.join('\n'));
    const refused = clearsim(['verify', '--store', `file:${damaged}`], { CLEARSIM_VERIFY_HALVES: '1' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${file}:line ${line + 1}: corrupt event log: position`);
    expect(refused.stderr).toBe(clearsim(['verify', '--store', `file:${damaged}`], { CLEARSIM_VERIFY_HALVES: '0' }).stderr);
  });
});
