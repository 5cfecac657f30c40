import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The errors of a first hour: each one line that names the fix, the right exit code (2 usage/bad input,
 * 1 runtime), no stack trace unless --verbose, JSON under --json, and nothing changed in the store.
 */
const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'clearsim');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'margin-call.jsonl');

function clearsim(...args: string[]) {
  const result = spawnSync(BIN, args, { encoding: 'utf8', cwd: ROOT, timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const freshDir = () => mkdtempSync(join(tmpdir(), 'clearsim-first-hour-'));
const STACK_LINE = /^\s+at /m;
jest.setTimeout(60_000); // each case spawns the CLI a few times; a loaded machine makes that slow

describe('errors a newcomer meets', () => {
  it('running an example twice into the same store: exit 2, the line, and the fix (--reset or another --store)', () => {
    const dir = freshDir();
    expect(clearsim('run', FIXTURE, '--store', `file:${dir}`).code).toBe(0);
    const before = readFileSync(join(dir, 'events.jsonl'));
    const again = clearsim('run', FIXTURE, '--store', `file:${dir}`);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('line 1: field "ts"');
    expect(again.stderr).toContain('already held 14 events before this run: add --reset to start over, or use another --store');
    expect(again.stderr).not.toMatch(STACK_LINE);
    expect(readFileSync(join(dir, 'events.jsonl')).equals(before)).toBe(true);
    // and the fix works
    expect(clearsim('run', FIXTURE, '--store', `file:${dir}`, '--reset').code).toBe(0);
  });

  it('a store URL with an unknown scheme is bad usage (exit 2), one line; --json gives the error as JSON; --verbose adds the stack', () => {
    const plain = clearsim('verify', '--store', 'bogus://x');
    expect(plain.code).toBe(2);
    expect(plain.stderr).toBe(
      'clearsim: unknown store scheme "bogus:" in "bogus://x"; accepted: file:PATH (e.g. file:./data), postgres://…, postgresql://…, esdb://…, kurrentdb://…, memory:[NAME]\n',
    );
    const asJson = clearsim('verify', '--store', 'bogus://x', '--json');
    expect(asJson.code).toBe(2);
    expect(JSON.parse(asJson.stdout)).toEqual({ error: { kind: 'store-url', message: expect.stringContaining('unknown store scheme "bogus:"'), exitCode: 2 } });
    const verbose = clearsim('verify', '--store', 'bogus://x', '--verbose');
    expect(verbose.code).toBe(2);
    expect(verbose.stderr).toMatch(STACK_LINE);
  });

  it('PostgreSQL that is not running: exit 1, what failed and what to check, no stack', () => {
    const out = clearsim('verify', '--store', 'postgres://u:secret@127.0.0.1:1/db');
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('cannot open the PostgreSQL event store');
    expect(out.stderr).toContain('is the server running and the URL right?');
    expect(out.stderr).not.toContain('secret'); // the password is redacted
    expect(out.stderr).not.toMatch(STACK_LINE);
  });

  it('a store locked by a live writer: run and run --reset exit 1 naming the lock and change nothing; verify still reads it', () => {
    const dir = freshDir();
    expect(clearsim('run', FIXTURE, '--store', `file:${dir}`).code).toBe(0);
    const before = readFileSync(join(dir, 'events.jsonl'));
    // this jest worker is a live process: its pid in LOCK is what a running `serve` leaves there
    writeFileSync(join(dir, 'LOCK'), `${process.pid}\n`);
    for (const args of [[], ['--reset']]) {
      const out = clearsim('run', FIXTURE, '--store', `file:${dir}`, ...args);
      expect(out.code).toBe(1);
      expect(out.stderr).toContain(`is locked by another process (pid ${process.pid}, lock ${join(dir, 'LOCK')})`);
      expect(out.stderr).toContain('the read-only commands (replay, account, margin, verify) work while another process writes');
      expect(out.stderr).not.toMatch(STACK_LINE);
      expect(readFileSync(join(dir, 'events.jsonl')).equals(before)).toBe(true); // --reset did not empty a store in use
    }
    expect(clearsim('verify', '--store', `file:${dir}`).code).toBe(0);
  });

  it('serve on a port in use: exit 1 with the fix (--port), no stack', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const out = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(BIN, ['serve', '--store', `file:${freshDir()}`, '--port', String(port), '--log-level', 'silent'], { cwd: ROOT });
        let stderr = '';
        child.stderr.on('data', (chunk) => (stderr += chunk));
        child.on('exit', (code) => resolve({ code, stderr }));
      });
      expect(out.code).toBe(1);
      expect(out.stderr).toContain(`cannot listen on 127.0.0.1:${port}: the port is in use`);
      expect(out.stderr).toContain('choose another with --port');
      expect(out.stderr).not.toMatch(STACK_LINE);
    } finally {
      blocker.close();
    }
  });

  it('a reader that closes the pipe early (`account alice | head`): exit 0, no EPIPE crash, no lock left', () => {
    const dir = freshDir();
    expect(clearsim('run', FIXTURE, '--store', `file:${dir}`).code).toBe(0);
    // the reader closes its stdin at once, so every write of clearsim meets EPIPE
    const out = spawnSync('bash', ['-c', `"${BIN}" account alice --store "file:${dir}" | (exec 0<&-; sleep 1); echo "status \${PIPESTATUS[0]}"`], {
      encoding: 'utf8',
      cwd: ROOT,
      timeout: 60_000,
    });
    expect(out.stdout).toBe('status 0\n');
    expect(out.stderr).toBe('');
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);
  });
});

describe('the run summary a person reads', () => {
  jest.setTimeout(120_000);

  it('fits 100 columns (the title with the input path above the tables), and says where the report and the decisions went', () => {
    const dir = freshDir();
    const report = join(dir, 'out', 'report.html');
    const decisions = join(dir, 'out', 'decisions.jsonl');
    const out = clearsim('run', join(ROOT, 'examples', 'incidents', '2020-03-12-black-thursday.yaml'), '--store', `file:${dir}/data`, '--report', report, '--decisions', decisions);
    expect(out.code).toBe(0);
    const lines = out.stdout.trimEnd().split('\n');
    expect(lines[0]).toContain('clearsim run ');
    // every line but those that carry a path of the user's (the title, where files went)
    for (const line of lines.slice(1).filter((l) => !/ written to /.test(l))) expect([...line].length).toBeLessThanOrEqual(100);
    expect(out.stdout).toMatch(/│ outputHash\s+│ [0-9a-f]{64} │/);
    expect(out.stdout).toContain(`report written to ${report}`);
    expect(out.stdout).toContain(`decisions written to ${decisions}`);
    expect(existsSync(report)).toBe(true);
    // verify's table too: its title carries the store's path, above the table
    const verify = clearsim('verify', '--store', `file:${dir}/data`);
    expect(verify.code).toBe(0);
    const verifyLines = verify.stdout.trimEnd().split('\n');
    expect(verifyLines[0]).toBe(`clearsim verify file:${dir}/data`);
    for (const line of verifyLines.slice(1)) expect([...line].length).toBeLessThanOrEqual(100);
    expect(verify.stdout).toMatch(/│ result\s+│ OK: every logged decision is what the rules decide\s+│/);
  });
});

/** The shell commands of a markdown file's fenced blocks that a newcomer would paste (not the long-running `serve`). */
function commandsOf(markdown: string): string[] {
  const commands: string[] = [];
  for (const block of markdown.matchAll(/^```(?:sh|bash|shell)?\n([\s\S]*?)^```/gm)) {
    const lines = block[1].replace(/\\\n\s*/g, ' ').split('\n');
    for (const raw of lines) {
      const line = raw.replace(/^\$ /, '').replace(/^npm ci && (?=\.\/bin\/clearsim)/, '');
      if (!line.startsWith('./bin/clearsim ')) continue;
      if (/^\.\/bin\/clearsim (serve|bench)\b/.test(line)) continue;
      commands.push(line);
    }
  }
  return commands;
}

describe('the first hour, as written', () => {
  jest.setTimeout(600_000);

  it('every clearsim command of README.md then examples/README.md runs in order, as written, on a fresh directory', () => {
    const commands = [...commandsOf(readFileSync(join(ROOT, 'README.md'), 'utf8')), ...commandsOf(readFileSync(join(ROOT, 'examples', 'README.md'), 'utf8'))];
    // the READMEs' commands: the main job, the examples' runs, accounts, margin, diff, backtest
    expect(commands.length).toBeGreaterThanOrEqual(10);
    const cwd = freshDir();
    symlinkSync(join(ROOT, 'bin'), join(cwd, 'bin'));
    symlinkSync(join(ROOT, 'examples'), join(cwd, 'examples'));
    symlinkSync(join(ROOT, 'test'), join(cwd, 'test')); // the README's import example reads the fixtures
    for (const command of commands) {
      const out = spawnSync('bash', ['-c', command], { encoding: 'utf8', cwd, timeout: 300_000 });
      if (out.status !== 0) throw new Error(`\`${command}\` exited ${out.status}:\n${out.stderr}`);
      expect(out.stderr).not.toMatch(STACK_LINE);
    }
    expect(existsSync(join(cwd, 'out', 'black-thursday.html'))).toBe(true);
  });
});

describe('the docs stand alone', () => {
  it('every repository path the README, examples/README and docs/ name exists, and none points outside the repository', () => {
    const markdown = (dir: string) => readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.md')).map((f) => join(dir, f));
    const files = ['README.md', join('examples', 'README.md'), ...markdown('docs'), ...(existsSync(join(ROOT, 'docs', 'venues')) ? markdown(join('docs', 'venues')) : [])];
    const missing: string[] = [];
    for (const file of files) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      expect([file, /DESIGN §|INCIDENTS\.md|\.\.\/shared/.test(text)]).toEqual([file, false]);
      for (const match of text.matchAll(/(?<![\w./-])((?:docs|libs|apps|examples|test|bench|schemas|infra)\/[\w./-]*\w)/g)) {
        const path = match[1].replace(/[.,)]+$/, '');
        // bench/.cache: made by the benchmarks; test/artifacts: the browser tests' screenshots
        if (path.includes('*') || path.includes('<') || path.startsWith('bench/.cache') || path.startsWith('test/artifacts')) continue;
        if (!existsSync(join(ROOT, path))) missing.push(`${file}: ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('the accounts most in trouble', () => {
  it('show what a bankrupt account could not pay (its deficit), not only zeros', () => {
    const dir = freshDir();
    const out = clearsim('run', join(ROOT, 'examples', 'incidents', '2020-03-12-black-thursday.yaml'), '--store', `file:${dir}`, '--decisions', join(dir, 'd.jsonl'));
    expect(out.code).toBe(0);
    const header = out.stdout.split('\n').find((l) => l.includes('│ account'))!;
    expect(header.split('│').map((c) => c.trim())).toEqual(['', 'account', 'status', 'cash', 'equity', 'deficit', 'IM', 'MM', 'positions', '']);
    // the first bankrupt row's deficit equals the sum of that account's AccountBankrupted deficits in the log
    const row = out.stdout.split('\n').find((l) => /│ bankrupt +│/.test(l))!.split('│').map((c) => c.trim());
    const logged = readFileSync(join(dir, 'd.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; account: string; deficit?: string })
      .filter((d) => d.type === 'AccountBankrupted' && d.account === row[1]);
    expect(logged.length).toBeGreaterThan(0);
    expect(Number(row[5])).toBeCloseTo(logged.reduce((sum, d) => sum + Number(d.deficit), 0), 6);
    expect(Number(row[5])).toBeGreaterThan(0);
  });
});
