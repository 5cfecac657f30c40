import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pipeReader } from './pipe-reader';

/** `clearsim generate`: scaffolding a study, and the JSON Schemas kept equal to the validators. */
const ROOT = join(__dirname, '..', '..');
jest.setTimeout(120_000);

function clearsim(cwd: string, ...args: string[]) {
  const result = spawnSync(join(ROOT, 'bin', 'clearsim'), args, { encoding: 'utf8', cwd, timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('clearsim generate', () => {
  it('schemas: the committed schemas/ are exactly what the validators generate (they cannot drift)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-schemas-'));
    expect(clearsim(ROOT, 'generate', 'schemas', '--out', dir).code).toBe(0);
    const names = readdirSync(dir).sort();
    expect(names).toEqual(['input-event.schema.json', 'rules.schema.json', 'scenario.schema.json']);
    for (const name of names) expect(readFileSync(join(dir, name), 'utf8')).toBe(readFileSync(join(ROOT, 'schemas', name), 'utf8'));
    const inputs = JSON.parse(readFileSync(join(dir, 'input-event.schema.json'), 'utf8'));
    const types = (inputs.anyOf as { properties: { type: { const: string } } }[]).map((s) => s.properties.type.const);
    expect(types).toEqual(expect.arrayContaining(['PriceUpdated', 'TradeExecuted', 'Deposited', 'RulesActivated']));
  });

  it('every bundled YAML names a schema file that exists', () => {
    const incidents = join(ROOT, 'examples', 'incidents');
    const files = [
      ...readdirSync(incidents).filter((f) => f.endsWith('.yaml')).map((f) => join(incidents, f)),
      ...readdirSync(join(incidents, 'rules')).map((f) => join(incidents, 'rules', f)),
      ...readdirSync(join(ROOT, 'libs', 'rules', 'presets')).map((f) => join(ROOT, 'libs', 'rules', 'presets', f)),
    ];
    expect(files.length).toBeGreaterThanOrEqual(17);
    for (const file of files) {
      const first = readFileSync(file, 'utf8').split('\n')[0];
      const match = /^# yaml-language-server: \$schema=(.+)$/.exec(first);
      expect(match).not.toBeNull();
      expect(existsSync(resolve(dirname(file), match![1]))).toBe(true);
    }
  });

  it('scenario: a starter that runs and liquidates; the same options write the same bytes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-generate-'));
    expect(clearsim(dir, 'generate', 'scenario', 'a.yaml', '--count', '100', '--drop', '0.3', '--seed', '5').code).toBe(0);
    expect(clearsim(dir, 'generate', 'scenario', 'b.yaml', '--count', '100', '--drop', '0.3', '--seed', '5').code).toBe(0);
    expect(readFileSync(join(dir, 'a.yaml'), 'utf8')).toBe(readFileSync(join(dir, 'b.yaml'), 'utf8').replace(/b\.yaml/g, 'a.yaml'));
    const run = clearsim(dir, 'run', 'a.yaml', '--store', 'memory:', '--json');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    // 70 longs at 2–25× through a 30 % fall: every long above ~3× leverage is liquidated
    expect(summary.liquidations).toBeGreaterThan(10);
    expect(Object.keys(summary.accounts).filter((id) => id.startsWith('long-'))).toHaveLength(70);
  });

  it('population: rules, listing, deposits and one opening trade per trader, which run as they are', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-generate-'));
    expect(clearsim(dir, 'generate', 'population', 'p.jsonl', '--count', '40', '--long', '0.25', '--margin', 'isolated').code).toBe(0);
    const events = readFileSync(join(dir, 'p.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(events.filter((e) => e.type === 'TradeExecuted')).toHaveLength(40);
    expect(events.filter((e) => e.type === 'TradeExecuted' && e.buyer.startsWith('long-'))).toHaveLength(10); // 25 % of 40
    expect(events[0]).toMatchObject({ type: 'RulesActivated', rules: { name: 'crypto-isolated' } });
    expect(clearsim(dir, 'run', 'p.jsonl', '--store', 'memory:').code).toBe(0);
  });

  it('day: the benchmarks’ synthetic day, of the size asked, deterministic', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-generate-'));
    expect(clearsim(dir, 'generate', 'day', 'a.jsonl', '--events', '5000', '--accounts', '100', '--instruments', '3').code).toBe(0);
    expect(clearsim(dir, 'generate', 'day', 'b.jsonl', '--events', '5000', '--accounts', '100', '--instruments', '3').code).toBe(0);
    const a = readFileSync(join(dir, 'a.jsonl'), 'utf8');
    expect(a.trim().split('\n')).toHaveLength(5000);
    expect(a).toBe(readFileSync(join(dir, 'b.jsonl'), 'utf8'));
  });

  it('day: --events fewer than the opening events of the traders is exit 2, not a file larger than asked', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-generate-'));
    // 1,000 traders with one position each open with 1 + 2 × 20 + 2 + 1,000 × 2 = 2,043 events
    const out = clearsim(dir, 'generate', 'day', 'd.jsonl', '--events', '100', '--accounts', '1000', '--positions-per-account', '1');
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('--events: 100 cannot hold the opening events of 1000 traders on 20 perpetuals (2043:');
    expect(readdirSync(dir)).toEqual([]);
    expect(clearsim(dir, 'generate', 'day', 'd.jsonl', '--events', '2043', '--accounts', '1000', '--positions-per-account', '1').code).toBe(0);
    expect(readFileSync(join(dir, 'd.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2043);
  });

  it('bad options are exit 2 naming the flag', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-generate-'));
    const out = clearsim(dir, 'generate', 'population', 'p.jsonl', '--leverage', '25-2');
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('--leverage: "25-2" is not a range low-high');
  });

  it('option values the scenario would refuse, or that would break its YAML, are exit 2 naming the flag, and write nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-generate-'));
    const cases: [string, string[], string][] = [
      ['population', ['--price', 'abc'], '--price: "abc" is not a price above 0'],
      ['scenario', ['--price', '0'], '--price: "0" is not a price above 0'],
      ['population', ['--start', '2026-02-30T00:00:00Z'], '--start: "2026-02-30T00:00:00Z" is not a calendar date'],
      ['scenario', ['--start', '+275760-09-13T00:00:00Z'], '--start: "+275760-09-13T00:00:00Z" is not an ISO-8601 UTC timestamp'],
      ['scenario', ['--start', '9999-12-31T23:00:00Z'], 'the scenario would end after 9999-12-31T23:59:59Z'],
      ['scenario', ['--instrument', 'a: b'], '--instrument: "a: b" is not an instrument id'],
      ['population', ['--instrument', '__proto__'], '--instrument: "__proto__" is not an instrument id'],
      ['scenario', ['--drop', '1'], '--drop: "1" takes the price 60000.00 to 0.00 at its low'],
      ['scenario', ['--hours', '2'], '--hours: "2" is not a whole number from 3 to 8784'],
      ['scenario', ['--name', ''], '--name: must not be empty'],
      ['scenario', ['--name', 'a\u0007b'], '--name: "a\\u0007b" is empty or holds a control character'],
      ['population', ['--leverage', '0.000000001-1'], '--leverage: "0.000000001-1" is not a range'],
      ['population', ['--collateral', '999999999999999999999999999999-999999999999999999999999999999'], "the market maker's deposit"],
      // what only the scenario's own checks see: collateral × leverage buys no unit at this price
      ['population', ['--price', '999999999999999'], 'generate population: the options make a scenario clearsim refuses: invalid scenario'],
    ];
    for (const [kind, args, message] of cases) {
      const file = kind === 'scenario' ? 's.yaml' : 'p.jsonl';
      const out = clearsim(dir, 'generate', kind, file, '--count', '10', ...args);
      expect({ args, code: out.code }).toEqual({ args, code: 2 });
      expect(out.stderr).toContain(message);
      expect(out.stderr).not.toMatch(/internal error/);
      expect(readdirSync(dir)).toEqual([]);
    }
    // a name that is not a plain YAML word is quoted, and the scenario runs
    expect(clearsim(dir, 'generate', 'scenario', 's.yaml', '--count', '10', '--name', 'crash: "two"').code).toBe(0);
    const run = clearsim(dir, 'run', 's.yaml', '--store', 'memory:', '--json');
    expect(run.code).toBe(0);
  });

  it('an output path that cannot be a file is exit 2 naming it, before anything is written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-generate-'));
    mkdirSync(join(dir, 'adir'));
    writeFileSync(join(dir, 'afile'), '');
    const refused: [string[], string][] = [
      // each was exit 1 ("EISDIR …" / "EEXIST: file already exists, mkdir …"); day's was node's "Unhandled 'error' event" and its stack
      [['scenario', 'adir'], '<file.yaml>: adir is a directory; give the path of a file to write'],
      [['population', 'adir', '--count', '10'], '<file.jsonl>: adir is a directory; give the path of a file to write'],
      [['day', 'adir', '--events', '1000', '--accounts', '10'], '<file.jsonl>: adir is a directory; give the path of a file to write'],
      [['population', 'afile/p.jsonl', '--count', '10'], '<file.jsonl>: cannot write afile/p.jsonl: a path above it is a file, not a folder'],
      [['day', 'afile/d.jsonl', '--events', '1000', '--accounts', '10'], '<file.jsonl>: cannot write afile/d.jsonl: a path above it is a file, not a folder'],
      [['schemas', '--out', 'afile'], '--out: afile cannot be a directory: it, or a path above it, is a file'],
    ];
    for (const [args, message] of refused) {
      const out = clearsim(dir, 'generate', ...args);
      expect({ args, code: out.code }).toEqual({ args, code: 2 });
      expect(out.stderr.split('\n')).toContain(`clearsim: ${message}`);
      expect(out.stderr).not.toMatch(/internal error|Unhandled|node:|\s{4}at /);
    }
    expect(readdirSync(dir).sort()).toEqual(['adir', 'afile']);
    expect(readdirSync(join(dir, 'adir'))).toEqual([]);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('day interrupted by %s: no half-written day, no temporary; the signal ends it', async (signal) => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-generate-signal-'));
    // a day large enough to be still writing when the signal comes (it is written to a temporary beside the target)
    const child = spawn(join(ROOT, 'bin', 'clearsim'), ['generate', 'day', join(dir, 'day.jsonl'), '--events', '20000000', '--accounts', '10'], { stdio: 'ignore' });
    const exited = once(child, 'exit');
    try {
      for (let waited = 0; readdirSync(dir).length === 0; waited += 20) {
        if (waited > 60_000) throw new Error('generate day wrote nothing');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(readdirSync(dir)).toEqual([expect.stringMatching(/^\.day\.jsonl\.\d+\.tmp$/)]);
      child.kill(signal);
      const [code, ended] = await exited;
      expect({ code, ended }).toEqual({ code: null, ended: signal });
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('population to a named pipe is written into the pipe, which stays a pipe (a temporary renamed over it would replace it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-generate-pipe-'));
    const { fifo, closed, text, stop } = pipeReader(dir, 'pipe');
    try {
      const out = clearsim(dir, 'generate', 'population', fifo, '--count', '5');
      expect(out.code).toBe(0);
      await closed;
      expect(statSync(fifo).isFIFO()).toBe(true);
      expect(readdirSync(dir)).toEqual(['pipe']);
      expect(text().trim().split('\n').map((line) => JSON.parse(line).type)).toContain('Deposited');
    } finally {
      stop();
    }
  });

  it('day: a write the device refuses (/dev/full: every write is ENOSPC) is exit 1 said as such, not a crash', () => {
    // was node's "Unhandled 'error' event" and its stack after the message: the day's stream had no 'error' listener
    const full = clearsim(ROOT, 'generate', 'day', '/dev/full', '--events', '1000', '--accounts', '10');
    expect(full.code).toBe(1);
    expect(full.stderr).toContain('clearsim: ENOSPC: no space left on device, write');
    expect(full.stderr).not.toMatch(/internal error|Unhandled|node:|\s{4}at /);
  });
});
