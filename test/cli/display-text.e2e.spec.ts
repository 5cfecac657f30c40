import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * End-to-end: ids of the input that hold control characters (an ESC that clears the screen, a C1 CSI, a bidi
 * override) reach the terminal escaped in the human-readable output of the built CLI, and as they are in its JSON.
 */
const ROOT = join(__dirname, '..', '..');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'margin-call.jsonl');

/** ESC [2J: "erase the screen". */
const ACCOUNT = 'a\u001b[2Jb';
/** A C1 CSI and a right-to-left override. */
const INSTRUMENT = 'BTC\u202e\u009bPERP';

function clearsim(...args: string[]) {
  const result = spawnSync(join(ROOT, 'bin', 'clearsim'), args, { encoding: 'utf8', cwd: ROOT });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** What a terminal would act on: any control or format character but the line feed. */
const RAW_CONTROL = /(?!\n)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

describe('ids holding control characters in the human-readable output', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clearsim-e2e-'));
  const input = join(dir, 'escapes.jsonl');
  const store = `file:${join(dir, 'store')}`;
  let run: ReturnType<typeof clearsim>;

  beforeAll(() => {
    // the fixture, its account alice and its instrument renamed (JSON escapes in the file: the ids hold the raw characters)
    const text = readFileSync(FIXTURE, 'utf8').split('"alice"').join(JSON.stringify(ACCOUNT)).split('"BTC-PERP"').join(JSON.stringify(INSTRUMENT));
    writeFileSync(input, text);
    run = clearsim('run', input, '--store', store);
  });

  it('run prints the summary with the ids escaped and quoted, no raw control character', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('\u001b');
    expect(run.stdout).not.toMatch(RAW_CONTROL);
    expect(run.stdout).toContain('"a\\u001b[2Jb"');
    expect(run.stdout).toContain('"BTC\\u202e\\u009bPERP" -1 @ 10000');
  });

  it('run --json and the log keep the ids as they are (JSON escapes them)', () => {
    const again = clearsim('run', input, '--store', `file:${join(dir, 'json-store')}`, '--json');
    expect(again.code).toBe(0);
    const summary = JSON.parse(again.stdout) as { accounts: Record<string, { positions: Record<string, unknown> }> };
    expect(Object.keys(summary.accounts)).toContain(ACCOUNT);
    expect(Object.keys(summary.accounts.mm!.positions)).toEqual([INSTRUMENT]);
    expect(readFileSync(join(dir, 'store', 'events.jsonl'), 'utf8')).toContain('"account":"a\\u001b[2Jb"');
  });

  it('account ID prints the account, its positions and its decisions with the ids escaped', () => {
    const out = clearsim('account', ACCOUNT, '--store', store);
    expect(out.code).toBe(0);
    expect(out.stdout).not.toContain('\u001b');
    expect(out.stdout).not.toMatch(RAW_CONTROL);
    expect(out.stdout).toContain('account "a\\u001b[2Jb"');
    expect(out.stdout).toContain('decisions about "a\\u001b[2Jb"');
    // the decisions are JSON lines, the characters JSON.stringify leaves raw escaped the JSON way
    expect(out.stdout).toContain('"instrument":"BTC\\u202e\\u009bPERP"');
    const mm = clearsim('account', 'mm', '--store', store);
    expect(mm.stdout).not.toMatch(RAW_CONTROL);
    expect(mm.stdout).toContain('│ "BTC\\u202e\\u009bPERP" ');
    // --json gives the id back as it is
    expect((JSON.parse(clearsim('account', ACCOUNT, '--store', store, '--json').stdout) as { account: string }).account).toBe(ACCOUNT);
  });

  it('an account that does not exist is named escaped on stderr', () => {
    const out = clearsim('account', 'x\u001b[2Jy', '--store', store);
    expect(out.code).toBe(2);
    expect(out.stderr).not.toMatch(RAW_CONTROL);
    expect(out.stderr).toContain('x\\u001b[2Jy');
  });

  it('replay and verify print the ids escaped', () => {
    const replay = clearsim('replay', '--store', store);
    expect(replay.code).toBe(0);
    expect(replay.stdout).not.toContain('\u001b');
    expect(replay.stdout).not.toMatch(RAW_CONTROL);
    expect(replay.stdout).toContain('│ "a\\u001b[2Jb" ');
    expect(replay.stdout).toContain('"BTC\\u202e\\u009bPERP" 1 @ 9450');
    const verify = clearsim('verify', '--store', store);
    expect(verify.code).toBe(0);
    expect(verify.stdout).not.toMatch(RAW_CONTROL);
  });

  it('margin prints the account and the instrument of the trade escaped', () => {
    const out = clearsim('margin', 'mm', '--trade', `buy 1 ${INSTRUMENT} @ 9000`, '--store', store);
    expect(out.code).toBe(0);
    expect(out.stdout).not.toMatch(RAW_CONTROL);
    expect(out.stdout).toContain('mm: buy 1 "BTC\\u202e\\u009bPERP" @ 9000');
  });
});
