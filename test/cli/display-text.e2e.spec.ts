import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * End-to-end: ids of the input that hold characters a terminal does not show as themselves (a bidi override and
 * isolate, a zero-width space) reach the terminal escaped in the human-readable output of the built CLI, and as they
 * are in its JSON. (Control characters — an ESC that clears the screen, a C1 CSI — an input's id may
 * not hold at all: libs/rules/src/id-characters.ts; an account named on the command line may, and is escaped too.)
 */
const ROOT = join(__dirname, '..', '..');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'margin-call.jsonl');

/** A right-to-left override: the rest of the line is shown reversed. */
const ACCOUNT = 'a\u202eb';
/** A left-to-right isolate and a zero-width space. */
const INSTRUMENT = 'BTC\u2066\u200bPERP';

function clearsim(...args: string[]) {
  const result = spawnSync(join(ROOT, 'bin', 'clearsim'), args, { encoding: 'utf8', cwd: ROOT });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** What a terminal would act on: any control or format character but the line feed. */
const RAW_CONTROL = /(?!\n)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

describe('ids holding characters a terminal does not show as themselves, in the human-readable output', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clearsim-e2e-'));
  const input = join(dir, 'escapes.jsonl');
  const store = `file:${join(dir, 'store')}`;
  let run: ReturnType<typeof clearsim>;

  beforeAll(() => {
    // the fixture, its account alice and its instrument renamed (the characters written raw: JSON leaves them so)
    const text = readFileSync(FIXTURE, 'utf8').split('"alice"').join(JSON.stringify(ACCOUNT)).split('"BTC-PERP"').join(JSON.stringify(INSTRUMENT));
    writeFileSync(input, text);
    run = clearsim('run', input, '--store', store);
  });

  it('run prints the summary with the ids escaped and quoted, no raw control character', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('\u202e');
    expect(run.stdout).not.toMatch(RAW_CONTROL);
    expect(run.stdout).toContain('"a\\u202eb"');
    expect(run.stdout).toContain('"BTC\\u2066\\u200bPERP" -1 @ 10000');
  });

  it('run --json and the log keep the ids as they are', () => {
    const again = clearsim('run', input, '--store', `file:${join(dir, 'json-store')}`, '--json');
    expect(again.code).toBe(0);
    const summary = JSON.parse(again.stdout) as { accounts: Record<string, { positions: Record<string, unknown> }> };
    expect(Object.keys(summary.accounts)).toContain(ACCOUNT);
    expect(Object.keys(summary.accounts.mm!.positions)).toEqual([INSTRUMENT]);
    expect(readFileSync(join(dir, 'store', 'events.jsonl'), 'utf8')).toContain(`"account":${JSON.stringify(ACCOUNT)}`);
  });

  it('account ID prints the account, its positions and its decisions with the ids escaped', () => {
    const out = clearsim('account', ACCOUNT, '--store', store);
    expect(out.code).toBe(0);
    expect(out.stdout).not.toContain('\u202e');
    expect(out.stdout).not.toMatch(RAW_CONTROL);
    expect(out.stdout).toContain('account "a\\u202eb"');
    expect(out.stdout).toContain('decisions about "a\\u202eb"');
    // the decisions are JSON lines, the characters JSON.stringify leaves raw escaped the JSON way
    expect(out.stdout).toContain('"instrument":"BTC\\u2066\\u200bPERP"');
    const mm = clearsim('account', 'mm', '--store', store);
    expect(mm.stdout).not.toMatch(RAW_CONTROL);
    expect(mm.stdout).toContain('│ "BTC\\u2066\\u200bPERP" ');
    // --json gives the id back as it is
    expect((JSON.parse(clearsim('account', ACCOUNT, '--store', store, '--json').stdout) as { account: string }).account).toBe(ACCOUNT);
  });

  it('an account that does not exist, named with control characters on the command line, is named escaped on stderr', () => {
    const out = clearsim('account', 'x\u001b[2Jy', '--store', store);
    expect(out.code).toBe(2);
    expect(out.stderr).not.toMatch(RAW_CONTROL);
    expect(out.stderr).toContain('x\\u001b[2Jy');
  });

  it('replay and verify print the ids escaped', () => {
    const replay = clearsim('replay', '--store', store);
    expect(replay.code).toBe(0);
    expect(replay.stdout).not.toContain('\u202e');
    expect(replay.stdout).not.toMatch(RAW_CONTROL);
    expect(replay.stdout).toContain('│ "a\\u202eb" ');
    expect(replay.stdout).toContain('"BTC\\u2066\\u200bPERP" 1 @ 9450');
    const verify = clearsim('verify', '--store', store);
    expect(verify.code).toBe(0);
    expect(verify.stdout).not.toMatch(RAW_CONTROL);
  });

  it('margin prints the account and the instrument of the trade escaped', () => {
    const out = clearsim('margin', 'mm', '--trade', `buy 1 ${INSTRUMENT} @ 9000`, '--store', store);
    expect(out.code).toBe(0);
    expect(out.stdout).not.toMatch(RAW_CONTROL);
    expect(out.stdout).toContain('mm: buy 1 "BTC\\u2066\\u200bPERP" @ 9000');
  });
});
