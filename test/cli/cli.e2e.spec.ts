import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeReader } from './pipe-reader';

/**
 * End-to-end: the built CLI (`./bin/clearsim`, as a user runs it) on a file
 * store in a temp dir. `npm test` builds before running these.
 */
const ROOT = join(__dirname, '..', '..');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'margin-call.jsonl');

function clearsim(...args: string[]) {
  // a hang is a failure (status null), not a suite that never ends
  const result = spawnSync(join(ROOT, 'bin', 'clearsim'), args, { encoding: 'utf8', cwd: ROOT, timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function json(out: { stdout: string }): Record<string, any> {
  return JSON.parse(out.stdout);
}

const freshStore = () => `file:${mkdtempSync(join(tmpdir(), 'clearsim-e2e-'))}`;
const logFile = (store: string) => join(store.slice('file:'.length), 'events.jsonl');

describe('clearsim run / replay / verify / account', () => {
  const store = freshStore();
  let run: Record<string, any>;

  beforeAll(() => {
    const out = clearsim('run', FIXTURE, '--store', store, '--json');
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    run = json(out);
  });

  it('run --json prints the keys the README documents', () => {
    for (const key of ['eventsIn', 'decisions', 'marginCalls', 'marginCallsMet', 'liquidations', 'bankruptcies', 'autoDeleverages', 'insuranceFund', 'outputHash', 'accounts']) {
      expect(run).toHaveProperty(key);
    }
    // the fixture: alice long 1 @ 10,000 with 1,000; 9,450 → call for 495; two hours later the grace period
    // (3,600 s) has expired → closed at 9,450 with a 1% fee (94.5) to the insurance fund
    expect(run).toMatchObject({ eventsIn: 9, decisions: 5, marginCalls: 1, marginCallsMet: 0, liquidations: 1, bankruptcies: 0, autoDeleverages: 0, insuranceFund: '94.5' });
    expect(run.outputHash).toMatch(/^[0-9a-f]{64}$/);
    for (const key of ['cash', 'equity', 'initialMargin', 'maintenanceMargin', 'status', 'positions']) expect(run.accounts.alice).toHaveProperty(key);
    expect(run.accounts.alice).toMatchObject({ cash: '355.5', status: 'liquidated' });
    expect(run.accounts.mm.positions['BTC-PERP']).toEqual(expect.objectContaining({ qty: '-1', entryPrice: '10000', liquidationPrice: expect.any(String) }));
  });

  it('replay rebuilds the same state and outputHash without deciding', () => {
    const replay = json(clearsim('replay', '--store', store, '--json'));
    expect(replay.outputHash).toBe(run.outputHash);
    expect(replay.accounts).toEqual(run.accounts);
  });

  it('verify re-decides every input and passes', () => {
    const out = clearsim('verify', '--store', store, '--json');
    expect(out.code).toBe(0);
    expect(json(out)).toMatchObject({ ok: true, inputs: 9, decisions: 5, outputHash: run.outputHash });
  });

  it('account --at shows the account as it was then', () => {
    // at 00:02 the call is open and the position still there; its liquidation price solves
    // 1,000 + (m − 10,000) = 5% × m → m = 9,000 / 0.95 = 9,473.68421053 (rounded up for a long)
    const then = json(clearsim('account', 'alice', '--store', store, '--at', '2026-01-01T00:02:00Z', '--json'));
    expect(then).toMatchObject({ status: 'margin-call', equity: '450', positions: { 'BTC-PERP': { qty: '1', liquidationPrice: '9473.68421053' } } });
    const now = json(clearsim('account', 'alice', '--store', store, '--json'));
    expect(now).toMatchObject({ status: 'liquidated', positions: {} });
    expect(now.decisions.map((d: { type: string }) => d.type)).toEqual(['MarginCallIssued', 'WithdrawalRejected', 'GracePeriodExpired', 'LiquidationStarted', 'PositionLiquidated']);
  });

  it('human output is a summary table, not a JSON dump', () => {
    const out = clearsim('replay', '--store', store);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/margin calls \(met\)\s+│\s+1 \(0\)/);
    expect(out.stdout).not.toMatch(/^\{/);
  });

  it('a changed amount in the log is found on open (exit 1), naming the line, before anything is read', () => {
    const tampered = freshStore();
    clearsim('run', FIXTURE, '--store', tampered);
    const file = logFile(tampered);
    // line 1 is the log's header, so position 8 (the margin call for 495) is line 9
    writeFileSync(file, readFileSync(file, 'utf8').replace('"amount":"495"', '"amount":"490"'));
    for (const command of ['verify', 'replay']) {
      const out = clearsim(command, '--store', tampered);
      expect(out.code).toBe(1);
      expect(out.stderr).toContain(`${file}:line 9: corrupt event log: position 8`);
      expect(out.stderr).toContain("the line's bytes changed since it was written");
      expect(out.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('verify fails (exit 1) when a writer logged a decision the rules do not make', async () => {
    // a well-formed log (every check of the store passes) written by, say, a buggy writer: the fixture's log with
    // the margin call's amount 495 → 490, appended through the store
    const good = freshStore();
    clearsim('run', FIXTURE, '--store', good);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { FileEventStore } = require(join(ROOT, 'dist', 'libs', 'store', 'src'));
    const source = await FileEventStore.open(good.slice('file:'.length), { readOnly: true });
    const events = [];
    for await (const { event } of source.read(1)) events.push(event.type === 'MarginCallIssued' ? { ...event, amount: 49_000_000_000n } : event);
    await source.close();
    const tampered = freshStore();
    const target = await FileEventStore.open(tampered.slice('file:'.length));
    await target.append(events, 0);
    await target.close();
    const out = clearsim('verify', '--store', tampered);
    expect(out.code).toBe(1);
    expect(out.stdout).toContain('MISMATCH');
    expect(out.stdout).toContain('"amount":"490"');
  });

  it('unknown account and bad --at are bad usage (exit 2)', () => {
    expect(clearsim('account', 'nobody', '--store', store).code).toBe(2);
    const out = clearsim('replay', '--store', store, '--at', 'yesterday');
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('--at');
    // a date that does not exist is not rolled over to March 2nd
    const impossible = clearsim('replay', '--store', store, '--at', '2026-02-30T00:00:00Z');
    expect(impossible.code).toBe(2);
    expect(impossible.stderr).toContain('--at: "2026-02-30T00:00:00Z" is not a calendar date (2026-02 has 28 days)');
  });

  it('a listing flag (account --history, diff and backtest --accounts) is a whole number, refused naming the flag otherwise', () => {
    for (const value of ['abc', '-1', '1.5', '0x10', '99999999']) {
      for (const args of [
        ['account', 'alice', '--store', store, '--history', value],
        ['diff', FIXTURE, '--rules', 'crypto-cross', '--rules', 'ccp-grace', '--accounts', value],
        ['backtest', FIXTURE, '--rules', 'crypto-cross', '--accounts', value],
      ]) {
        const out = clearsim(...args);
        expect({ args, code: out.code }).toEqual({ args, code: 2 });
        expect(out.stderr).toContain(`${args[args.length - 2]}: "${value}" is not a whole number from 0 to 1000000`);
      }
    }
    // --history 0 lists no decision (slice(-0) listed them all), 2 the last two
    expect(clearsim('account', 'alice', '--store', store, '--history', '0').stdout).toContain('decisions about alice (last 0 of 5):\n');
    expect(clearsim('account', 'alice', '--store', store, '--history', '0').stdout).not.toContain('"type"');
    expect(clearsim('account', 'alice', '--store', store, '--history', '2').stdout.match(/"type"/g)).toHaveLength(2);
  });
});

describe('clearsim run --reset', () => {
  it('starts the store over: the same run twice gives the same log, without warnings', () => {
    const store = freshStore();
    const first = clearsim('run', FIXTURE, '--store', store, '--snapshot', '--json');
    expect(first.code).toBe(0);
    const again = clearsim('run', FIXTURE, '--store', store, '--reset', '--json');
    expect(again.stderr).toBe('');
    expect(json(again)).toMatchObject({ fromPosition: 1, head: 14, outputHash: json(first).outputHash });
    expect(readdirSync(store.slice('file:'.length)).sort()).toEqual(['HEAD', 'events.jsonl']);
    expect(json(clearsim('verify', '--store', store, '--json'))).toMatchObject({ ok: true, snapshot: null });
  });
});

describe('clearsim margin (what-if)', () => {
  it("shows an account's margin before and after a proposed trade and appends nothing", () => {
    const store = freshStore();
    clearsim('run', FIXTURE, '--store', store);
    const before = readFileSync(logFile(store));
    // mm is short 1 @ 10,000 at mark 9,450 (rules: IM 10 %, MM 5 % up to 50,000): selling 2 more at 9,450 makes
    // it short 3 — IM 10 % × 3 × 9,450 = 2,835, MM 1,417.5, entry (10,000 + 2 × 9,450) / 3 = 9,633.33333333
    const out = json(clearsim('margin', 'mm', '--store', store, '--trade', 'sell 2 BTC-PERP @ 9450', '--json'));
    expect(out.before).toMatchObject({ initialMargin: '945', maintenanceMargin: '472.5', position: { qty: '-1', entryPrice: '10000' } });
    expect(out.after).toMatchObject({ initialMargin: '2835', maintenanceMargin: '1417.5', position: { qty: '-3', entryPrice: '9633.33333333' } });
    expect(readFileSync(logFile(store)).equals(before)).toBe(true);
  });

  it('a bad --fee is bad usage naming the flag', () => {
    const store = freshStore();
    clearsim('run', FIXTURE, '--store', store);
    const out = clearsim('margin', 'mm', '--store', store, '--trade', 'sell 2 BTC-PERP @ 9450', '--fee', 'abc');
    expect(out.code).toBe(2);
    expect(out.stderr).toBe('clearsim: --fee: "abc" is not a decimal number\n');
  });
});

describe('appending to a store', () => {
  it('a refusal past the first line names it without the hint for an example run twice (appending later inputs is legal)', () => {
    const store = freshStore();
    expect(clearsim('run', FIXTURE, '--store', store).code).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-e2e-'));
    const more = join(dir, 'more.jsonl');
    writeFileSync(more, '{"type":"Deposited","ts":"2030-01-01T00:00:00Z","account":"alice","asset":"USD","amount":"5"}\n{"type":"Deposited","ts":"2030-01-01T00:00:00Z","account":"alice","asset":"USD","amount":"-5"}\n');
    const out = clearsim('run', more, '--store', store);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('line 2: field "amount": must be greater than 0');
    expect(out.stderr).not.toMatch(/--reset/);
  });
});

describe('presets and examples', () => {
  it.each(['crypto-cross', 'crypto-isolated', 'ccp-grace', 'ccp-span', 'ccp-var', 'ccp-dynamic', 'portfolio-margin'])('%s runs the fixture and verify proves it', (preset) => {
    const store = freshStore();
    const run = clearsim('run', FIXTURE, '--rules', preset, '--store', store, '--json');
    expect(run.stderr).toBe('');
    expect(json(run).rules).toBe(preset);
    expect(json(clearsim('verify', '--store', store, '--json'))).toMatchObject({ ok: true, outputHash: json(run).outputHash });
  });

  it.each(['binance-usdm', 'bybit-linear', 'okx-swap', 'hyperliquid'])('venue preset %s runs Black Thursday, verify proves it, and the summary carries its ADL figures', (preset) => {
    const store = freshStore();
    const run = clearsim('run', join(ROOT, 'examples', 'incidents', '2020-03-12-black-thursday.yaml'), '--rules', preset, '--store', store, '--json');
    expect(run.stderr).toBe('');
    const out = json(run);
    expect(out.rules).toBe(preset);
    expect(out.autoDeleverages).toBeGreaterThan(0);
    // overshoot = profit taken − deficit covered (docs/rules.md "ADL policies and overshoot")
    expect(Number(out.adl.overshoot)).toBeCloseTo(Number(out.adl.profitTaken) - Number(out.adl.deficitCovered), 6);
    expect(json(clearsim('verify', '--store', store, '--json'))).toMatchObject({ ok: true, outputHash: out.outputHash });
  });

  it('the bundled incident decides what the README and examples/README document (golden outputHash)', () => {
    // a deliberate change to the rules' behaviour changes this hash: update the docs with it (it last moved when the
    // scenario's marks of one instant became one MarketMoved: 4,010 inputs instead of 6,831, the same counts)
    const out = json(clearsim('run', join(ROOT, 'examples', 'incidents', '2020-03-12-black-thursday.yaml'), '--store', freshStore(), '--json'));
    expect(out).toMatchObject({ eventsIn: 4010, marginCalls: 443, marginCallsMet: 238, liquidations: 527, positionsLiquidated: 1211, bankruptcies: 239, insuranceDraws: 119, autoDeleverages: 227, insuranceFund: '6602.78483297' });
    expect(out.outputHash).toBe('6332442a02fc5769fde84580ad4098073a53b67f3c72da59a28edc7051ca64ba');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(out.outputHash.slice(0, 16));
  });

  it('the options book under portfolio margin decides what examples/README documents, and verify proves it', () => {
    const store = freshStore();
    const out = json(clearsim('run', join(ROOT, 'examples', 'options-book.jsonl'), '--store', store, '--json'));
    expect(out).toMatchObject({ rules: 'portfolio-margin', eventsIn: 114, decisions: 13, marginCalls: 2, liquidations: 3, positionsLiquidated: 4, bankruptcies: 0, withdrawalsApproved: 3, withdrawalsRejected: 1 });
    expect(out.outputHash).toBe('5a9d364f12e6217fe18def415e26a84a3a5a19dceedf6c818d088e2f38413221');
    // the calendar hedge: long 1 BTC-PERP at 100,000, short 1 BTC-0327 at 100,400; the scenarios move both by the same
    // fraction, so the worst is +3/3: (100,000 − 100,400) × 15 % = −60 at the opening marks (55.2 at 92,000 / 92,368)
    expect(out.accounts.basis).toMatchObject({ status: 'healthy', cash: '4000', maintenanceMargin: '55.2', initialMargin: '69' });
    expect(out.accounts.leveraged).toMatchObject({ status: 'liquidated', positions: { 'BTC-PERP': { qty: '0.5' } } });
    expect(out.accounts.protected.status).toBe('healthy');
    expect(json(clearsim('verify', '--store', store, '--json'))).toMatchObject({ ok: true, outputHash: out.outputHash });
  });

  it('the DeFi lending example ends with bad debt paid by the reserve', () => {
    const store = freshStore();
    const out = json(clearsim('run', join(ROOT, 'examples', 'defi-lending.jsonl'), '--store', store, '--json'));
    expect(out).toMatchObject({ rules: 'defi-lending', bankruptcies: 5, insuranceDrawn: '4633.98252415' });
    expect(out.accounts['vault-f']).toMatchObject({ cash: '0', status: 'bankrupt', healthFactor: null });
    // lending accounts carry their health factor (collateral × LT / debt, rounded down): vault-e still owes 2.97851562
    expect(out.accounts['vault-e']).toMatchObject({ status: 'liquidated', healthFactor: '1.61282633' });
    // and `account` prints it (table) and carries it (--json)
    expect(clearsim('account', 'vault-e', '--store', store).stdout).toMatch(/health factor\s*│\s*1\.61282633/);
    expect(json(clearsim('account', 'vault-f', '--store', store, '--json'))).toMatchObject({ healthFactor: null });
  });
});

describe('clearsim diff', () => {
  it('finds no difference between a rule set and itself', () => {
    const out = json(clearsim('diff', FIXTURE, '--rules', 'ccp-grace', '--rules', 'ccp-grace', '--json'));
    expect(out.identical).toBe(true);
    expect(out.totals.outputHash[0]).toBe(out.totals.outputHash[1]);
  });

  it('shows where two rule sets part and whose fate differs', () => {
    // ccp-grace (IM 22%, MM 20%) calls alice's 1 @ 10,000 with 1,000 at once; crypto-cross (IM ≤ 1%) never does
    const out = json(clearsim('diff', FIXTURE, '--rules', 'ccp-grace', '--rules', 'crypto-cross', '--json'));
    expect(out.identical).toBe(false);
    expect(out.totals.marginCalls[0]).toBeGreaterThan(0);
    expect(out.totals.liquidations).toEqual([1, 0]);
    expect(JSON.parse(out.firstDifference.a).type).toBe('MarginCallIssued');
    expect(out.accountsChanged.map((a: { account: string }) => a.account)).toContain('alice');
  });

  it('compares three or more rule sets in one table, each line within 100 columns, with the ADL figures', () => {
    const rules = ['ccp-grace', 'crypto-cross', 'crypto-isolated', 'portfolio-margin', 'ccp-span'];
    const out = json(clearsim('diff', FIXTURE, ...rules.flatMap((r) => ['--rules', r]), '--json'));
    expect(out.rules).toEqual(rules);
    for (const key of ['marginCalls', 'liquidations', 'bankruptcies', 'insuranceFundLow', 'autoDeleverages', 'adlOvershoot', 'socializedLoss', 'marginHeld']) expect(out.totals[key]).toHaveLength(rules.length);
    expect(out.firstDifferences.map((d: { rules: string }) => d.rules)).toEqual(rules.slice(1));
    const text = clearsim('diff', FIXTURE, ...rules.flatMap((r) => ['--rules', r]));
    expect(text.code).toBe(0);
    for (const line of text.stdout.split('\n')) expect([...line].length).toBeLessThanOrEqual(100);
    for (const r of rules) expect(text.stdout).toContain(r);
    expect(text.stdout).toContain('ADL overshoot');
  });

  it("diffs venue presets on the cascade incident: its leveraged tokens (the scenario's products) are kept from its own rules, with a notice", () => {
    const incident = join(ROOT, 'examples', 'incidents', '2020-03-12-black-thursday-cascade.yaml');
    const out = clearsim('diff', incident, '--rules', 'binance-usdm', '--rules', 'dydx-v4', '--json');
    expect(out.code).toBe(0);
    expect(out.stderr).toContain('the rules "binance-usdm" define no token BULL, ETHBULL: kept from the scenario\'s own rules');
    const table = json(out);
    expect(table.rules).toEqual(['binance-usdm', 'dydx-v4']);
    expect(table.totals.adlOvershoot).toHaveLength(2);
    // the tokens rebalanced under the venue's rules too
    const run = json(clearsim('run', incident, '--rules', 'binance-usdm', '--store', freshStore(), '--json'));
    expect(run.tokenRebalances).toBeGreaterThan(0);
  });

  it('prints amounts the engine computed beyond an input\'s 30 digits (a fund holding two deposits of 10^30), not an internal error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-e2e-'));
    const input = join(dir, 'big-fund.jsonl');
    const lines = readFileSync(FIXTURE, 'utf8').trim().split('\n');
    const deposit = (amount: string) => JSON.stringify({ type: 'Deposited', ts: '2026-01-01T00:00:00Z', account: 'insurance', asset: 'USD', amount });
    writeFileSync(input, [...lines.slice(0, 4), deposit('999999999999999999999999999999.5'), deposit('999999999999999999999999999999.25'), ...lines.slice(4)].join('\n') + '\n');
    const out = clearsim('diff', input, '--rules', 'crypto-cross', '--rules', 'ccp-grace');
    expect(out.stderr).not.toMatch(/internal error/);
    expect(out.code).toBe(0);
    // 31 digits before the point, to the cent
    expect(out.stdout).toMatch(/insurance fund end\s+│\s+1999999999999999999999999999998\.75/);
  });

  it('needs at least two rule sets', () => {
    const out = clearsim('diff', FIXTURE, '--rules', 'ccp-grace');
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('at least two --rules');
  });
});

describe('clearsim backtest', () => {
  it('--period must be whole seconds from 1 to a year, named when refused', () => {
    for (const period of ['99999999999999999999', '0', '1.5', '1e3', '31708801']) {
      const out = clearsim('backtest', FIXTURE, '--rules', 'ccp-grace', '--period', period);
      expect(out.code).toBe(2);
      expect(out.stderr).toContain(`clearsim: --period: "${period}" is not a whole number of seconds from 1 to 31622400 (a year)`);
    }
  });

  it('reports coverage, Kupiec, Christoffersen and the traffic light per rule set', () => {
    const out = json(clearsim('backtest', FIXTURE, '--rules', 'ccp-grace', '--rules', 'crypto-cross', '--period', '60', '--json'));
    expect(out.models.map((m: { rules: string }) => m.rules)).toEqual(['ccp-grace', 'crypto-cross']);
    for (const m of out.models) {
      expect(m.pooled).toEqual(expect.objectContaining({ observations: expect.any(Number), exceedances: expect.any(Number), coverage: expect.any(Number), zone: expect.stringMatching(/green|yellow|red/) }));
      expect(m.pooled.kupiec).toEqual(expect.objectContaining({ LR: expect.any(Number), pValue: expect.any(Number) }));
      expect(m.pooled.christoffersen).toEqual(expect.objectContaining({ LR: expect.any(Number), pValue: expect.any(Number) }));
    }
    // the minute the mark falls 10,000 → 9,450, alice's long 1 loses 550: ccp-grace held IM 22 % = 2,200 ≥ 550,
    // no exceedance; crypto-cross held 0.8 % = 80 < 550, an exceedance
    expect(out.models[0].pooled.exceedances).toBe(0);
    expect(out.models[1].pooled.exceedances).toBeGreaterThan(0);
  });

  it('writes an HTML report with the points of each rule set (drawn in a browser: test/browser/report.e2e.spec.ts)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-bt-'));
    const out = clearsim('backtest', FIXTURE, '--rules', 'ccp-grace', '--period', '60', '--report', join(dir, 'bt.html'));
    expect(out.code).toBe(0);
    const html = readFileSync(join(dir, 'bt.html'), 'utf8');
    const data = JSON.parse(/<script id="report-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html)![1]!);
    expect(data.kind).toBe('backtest');
    expect(data.data.models).toHaveLength(1);
    expect(data.data.models[0].total).toBeGreaterThan(0);
    expect(JSON.stringify(data)).not.toMatch(/NaN|null,null/);
  });
});

describe('snapshots', () => {
  it('account lists every decision about the account, also those before the latest snapshot', () => {
    const plain = freshStore();
    const snapshotted = freshStore();
    expect(clearsim('run', FIXTURE, '--store', plain).code).toBe(0);
    expect(clearsim('run', FIXTURE, '--store', snapshotted, '--snapshot').code).toBe(0);
    const decisions = (store: string) => json(clearsim('account', 'alice', '--store', store, '--json')).decisions;
    expect(decisions(plain).length).toBeGreaterThan(0);
    expect(decisions(snapshotted)).toEqual(decisions(plain));
  });

  it('verify proves a snapshot equals the state re-simulated from the log; a damaged file is a clear error (exit 1)', () => {
    const store = freshStore();
    expect(clearsim('run', FIXTURE, '--store', store, '--snapshot').code).toBe(0);
    const good = json(clearsim('verify', '--store', store, '--json'));
    expect(good).toMatchObject({ ok: true, snapshot: { position: 14, matches: true } });
    // replay from the snapshot gives the same accounts as the run
    expect(json(clearsim('replay', '--store', store, '--json')).outputHash).toBe(good.outputHash);
    // a hand-edited snapshot file fails its checksum: exit 1, naming the file
    const dir = join(store.slice('file:'.length), 'snapshots');
    const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.json'))!);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('"$n":"35550000000"', '"$n":"135550000000"'));
    const damaged = clearsim('verify', '--store', store, '--json');
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toContain(`${file}: corrupt snapshot: the state does not match its SHA-256`);
    expect(damaged.stderr).not.toMatch(/\n\s+at /);
  });

  it('verify fails (exit 1) on a well-formed snapshot whose state is not what the log re-decides to', async () => {
    const store = freshStore();
    clearsim('run', FIXTURE, '--store', store, '--snapshot');
    // a snapshot saved through the store (checksum valid) by, say, a buggy writer: alice's cash 355.5 → 1,355.5
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { FileEventStore } = require(join(ROOT, 'dist', 'libs', 'store', 'src'));
    const opened = await FileEventStore.open(store.slice('file:'.length));
    const latest = await opened.latestSnapshot();
    expect(latest.state).toContain('"$n":"35550000000"');
    await opened.saveSnapshot({ position: latest.position, state: latest.state.replace('"$n":"35550000000"', '"$n":"135550000000"') });
    await opened.close();
    const bad = clearsim('verify', '--store', store, '--json');
    expect(bad.code).toBe(1);
    expect(json(bad)).toMatchObject({ ok: false, snapshot: { position: 14, matches: false } });
  });
});

describe('bad input changes nothing', () => {
  it.each([
    ['a negative quantity', '"qty":"1"', '"qty":"-1"', /line 6: field "qty": must be greater than 0/],
    ['a non-decimal amount', '"amount":"1000"', '"amount":"1e3x"', /line 3: field "amount": "1e3x" is not a decimal/],
    ['an unknown type', '"type":"ClockAdvanced"', '"type":"ClockAdvance"', /line 9: field "type": unknown input event type "ClockAdvance"/],
    ['an unknown instrument', '"instrument":"BTC-PERP","buyer"', '"instrument":"ETH-PERP","buyer"', /line 6: field "instrument": unknown instrument "ETH-PERP"/],
    ['an unknown account', '"requestId":"w1","account":"alice"', '"requestId":"w1","account":"zoe"', /line 8: field "account": unknown account "zoe"/],
    ['a ts older than the clock', '"ts":"2026-01-01T02:00:00Z"', '"ts":"2025-12-31T00:00:00Z"', /line 9: field "ts": 2025-12-31T00:00:00Z is older than the shard clock/],
    ['malformed JSON', '{"type":"ClockAdvanced"', '{"type":"ClockAdvanced",,', /line 9: malformed JSON/],
    // each of these stalled the run building a bigint of millions of digits, or was accepted changed
    ['a 30-million exponent', '"amount":"1000"', '"amount":"1e30000000"', /line 3: field "amount": "1e30000000" has an exponent beyond ±30/],
    ['a 401-digit amount', '"amount":"1000"', '"amount":"1e400"', /line 3: field "amount": "1e400" has an exponent beyond ±30/],
    ['a JSON number a float64 rounds', '"amount":"1000"', '"amount":12345678901234567890', /line 3: field "amount": the JSON number 12345678901234567890 cannot be represented exactly: send it as a decimal string/],
    ['rules nested 5,000 deep', '"rules":{"name"', `"rules":{"x":${'['.repeat(5000)}${']'.repeat(5000)},"name"`, /line 1: field "rules\.x(\[0\]){30}": nested deeper than 32 levels/],
    ['an impossible date', '"ts":"2026-01-01T02:00:00Z"', '"ts":"2026-02-30T00:00:00Z"', /line 9: field "ts": "2026-02-30T00:00:00Z" is not a calendar date \(2026-02 has 28 days\)/],
    ['hour 24', '"ts":"2026-01-01T02:00:00Z"', '"ts":"2026-01-01T24:00:00Z"', /line 9: field "ts": "2026-01-01T24:00:00Z" has no hour 24/],
    // an id holding a control character (libs/rules/src/id-characters.ts): an ESC written as JSON escapes it, a C1 CSI written raw
    ['an ESC in an account', '"account":"alice","asset":"USD","amount":"1000"', '"account":"al\\u001b[2Jice","asset":"USD","amount":"1000"', /line 3: field "account": must not contain control characters \(U\+001B at index 2\)/],
    ['a raw C1 CSI in an account', '"account":"alice","asset":"USD","amount":"1000"', '"account":"al\u009bice","asset":"USD","amount":"1000"', /line 3: field "account": must not contain control characters \(U\+009B at index 2\)/],
  ])('refuses %s (exit 2, names line and field, log unchanged)', (_name, from, to, message) => {
    const store = freshStore();
    expect(clearsim('run', FIXTURE, '--store', store).code).toBe(0);
    const before = readFileSync(logFile(store));
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-bad-'));
    const bad = join(dir, 'bad.jsonl');
    const text = readFileSync(FIXTURE, 'utf8');
    expect(text).toContain(from);
    writeFileSync(bad, text.replace(from, to));
    // a second store: the bad file must not partially apply, even from its first lines
    const empty = freshStore();
    const out = clearsim('run', bad, '--store', empty);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(bad);
    expect(out.stderr).toMatch(message);
    expect(out.stderr).toContain('nothing was appended');
    // the empty store holds no event: the read-only replay says so (exit 2) instead of showing an empty state
    const replay = clearsim('replay', '--store', empty, '--json');
    expect(replay.code).toBe(2);
    expect(replay.stderr).toMatch(/no clearsim store at/);
    // and the first store is byte for byte what it was
    expect(readFileSync(logFile(store)).equals(before)).toBe(true);
  });

  it('an account holding an ESC on line 3 of a file run on a store: exit 2, line 3 and the field named, the log byte for byte unchanged', () => {
    const store = freshStore();
    expect(clearsim('run', FIXTURE, '--store', store).code).toBe(0);
    const before = readFileSync(logFile(store));
    const next = join(mkdtempSync(join(tmpdir(), 'clearsim-bad-')), 'next.jsonl');
    const lines = [
      { type: 'ClockAdvanced', ts: '2026-01-01T03:00:00Z' },
      { type: 'Deposited', ts: '2026-01-01T03:00:00Z', account: 'mm', asset: 'USD', amount: '5' },
      { type: 'Deposited', ts: '2026-01-01T03:00:00Z', account: 'bob\u001b[2J', asset: 'USD', amount: '5' },
    ];
    writeFileSync(next, lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
    const out = clearsim('run', next, '--store', store);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`${next}:line 3: field "account": must not contain control characters (U+001B at index 3)`);
    expect(out.stderr).not.toContain('\u001b');
    expect(out.stderr).toContain('nothing was appended');
    expect(readFileSync(logFile(store)).equals(before)).toBe(true);
  });

  it('a second run of the same history is refused (clock went backwards) and appends nothing', () => {
    const store = freshStore();
    clearsim('run', FIXTURE, '--store', store);
    const before = readFileSync(logFile(store));
    const out = clearsim('run', FIXTURE, '--store', store);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/line 1: field "ts": .* is older than the shard clock/);
    expect(readFileSync(logFile(store)).equals(before)).toBe(true);
  });
});

describe('torn tail', () => {
  it('is ignored with a warning by a reader (which changes no byte) and truncated by the next writer', () => {
    const store = freshStore();
    const first = json(clearsim('run', FIXTURE, '--store', store, '--json'));
    appendFileSync(logFile(store), '{"position":15,"type":"PriceUpd');
    const torn = readFileSync(logFile(store));
    const out = clearsim('verify', '--store', store, '--json');
    expect(out.stderr).toMatch(/warning: .*events\.jsonl/);
    expect(out.code).toBe(0);
    expect(json(out).outputHash).toBe(first.outputHash);
    expect(readFileSync(logFile(store)).equals(torn)).toBe(true);
    // a writer repairs it and carries on: a later input appends after the fixture's 14 events
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-later-'));
    writeFileSync(join(dir, 'later.jsonl'), '{"type":"ClockAdvanced","ts":"2026-01-03T00:00:00Z"}\n');
    const next = clearsim('run', join(dir, 'later.jsonl'), '--store', store, '--json');
    expect(next.stderr).toMatch(/warning: .*events\.jsonl/);
    expect(json(next)).toMatchObject({ fromPosition: 15, head: 15 });
    expect(clearsim('verify', '--store', store).code).toBe(0);
  });
});

describe('what a command loads', () => {
  /** The modules of the build and the packages a `clearsim` invocation loaded (a preload lists them at exit). */
  function loadedBy(...args: string[]): { code: number | null; stdout: string; modules: string[] } {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-loaded-'));
    const list = join(dir, 'modules.json');
    const preload = join(dir, 'list-modules.js');
    writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, JSON.stringify(Object.keys(require.cache))));\n`);
    const result = spawnSync(process.execPath, ['--require', preload, join(ROOT, 'bin', 'clearsim'), ...args], { encoding: 'utf8', cwd: ROOT });
    return { code: result.status, stdout: result.stdout, modules: JSON.parse(readFileSync(list, 'utf8')) as string[] };
  }
  const commandModules = (modules: string[]) => modules.filter((m) => /commands[\\/][a-z-]+\.(command|actions)\.js$/.test(m)).map((m) => m.replace(/.*[\\/]/, ''));
  const loaded = (modules: string[], part: string) => modules.some((m) => m.includes(part));

  it('--version and --help load no command, no schema (zod) and no store', () => {
    for (const args of [['--version'], ['--help']]) {
      const out = loadedBy(...args);
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(args[0] === '--version' ? /^\d+\.\d+\.\d+\n$/ : /Usage: clearsim/);
      // the two commands whose builders declare subcommands (their actions load on use)
      expect(commandModules(out.modules).sort()).toEqual(['bench.command.js', 'generate.command.js']);
      expect(loaded(out.modules, `${join('node_modules', 'zod')}`)).toBe(false);
      expect(loaded(out.modules, join('libs', 'store', 'src', 'file'))).toBe(false);
      expect(loaded(out.modules, join('libs', 'clearing'))).toBe(false);
    }
  });

  it('a command loads its own modules and not the others\'', () => {
    const out = loadedBy('replay', '--store', freshStore());
    // an empty store: replay says so (exit 2), having loaded its command and the stores, not the server's or the importer's
    expect(out.code).toBe(2);
    expect(commandModules(out.modules).sort()).toEqual(['bench.command.js', 'generate.command.js', 'replay.command.js']);
    expect(loaded(out.modules, join('libs', 'store', 'src', 'file'))).toBe(true);
    expect(loaded(out.modules, join('apps', 'server'))).toBe(false);
    expect(loaded(out.modules, join('node_modules', 'csv-parse'))).toBe(false);
  });
});

describe('amounts beyond an input\'s bounds, computed by the engine', () => {
  it('a run whose decisions hold 31-digit margins (qty 10^15 at 10^16) is read back by replay, verify and account', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-e2e-'));
    const file = join(dir, 'huge.jsonl');
    writeFileSync(
      file,
      [
        { type: 'InstrumentListed', ts: '2026-01-05T09:00:00Z', instrument: 'BTC-PERP', kind: 'perpetual', underlying: 'BTC', settlementAsset: 'USD', multiplier: '1' },
        { type: 'PriceUpdated', ts: '2026-01-05T09:00:00Z', instrument: 'BTC-PERP', price: '10000000000000000' },
        { type: 'Deposited', ts: '2026-01-05T09:00:00Z', account: 'mm', asset: 'USD', amount: '100000000000000000000000000000' },
        { type: 'Deposited', ts: '2026-01-05T09:00:00Z', account: 'alice', asset: 'USD', amount: '1' },
        { type: 'TradeExecuted', ts: '2026-01-05T09:01:00Z', tradeId: 't1', instrument: 'BTC-PERP', buyer: 'alice', seller: 'mm', qty: '1000000000000000', price: '10000000000000000' },
      ]
        .map((event) => JSON.stringify(event))
        .join('\n') + '\n',
    );
    const store = `file:${join(dir, 'store')}`;
    const run = clearsim('run', file, '--rules', 'crypto-cross', '--store', store, '--json');
    expect(run.code).toBe(0);
    const { outputHash } = json(run);
    // the log holds a margin of 31 integer digits (each input within 30): once refused by the reader as out of range
    expect(readFileSync(logFile(store), 'utf8')).toMatch(/"maintenanceMargin":"\d{31}"/);
    const replay = clearsim('replay', '--store', store, '--json');
    expect(replay.stderr).toBe('');
    expect(replay.code).toBe(0);
    expect(json(replay).outputHash).toBe(outputHash);
    expect(clearsim('verify', '--store', store).code).toBe(0);
    const alice = clearsim('account', 'alice', '--store', store, '--json');
    expect(alice.code).toBe(0);
    expect(json(alice).status).toBe('bankrupt');
  });
});

describe('account on a store with a snapshot', () => {
  it('lists every decision about the account, from before the snapshot and after it, in log order: the same as one fold of the log', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-e2e-'));
    const lines = readFileSync(FIXTURE, 'utf8').trim().split('\n');
    // the snapshot after the price drop (alice's margin call is before it), then the withdrawal and the grace expiry (her liquidation after it)
    writeFileSync(join(dir, 'first.jsonl'), lines.slice(0, 7).join('\n') + '\n');
    writeFileSync(join(dir, 'rest.jsonl'), lines.slice(7).join('\n') + '\n');
    const split = `file:${join(dir, 'split')}`;
    expect(clearsim('run', join(dir, 'first.jsonl'), '--store', split, '--snapshot').code).toBe(0);
    expect(clearsim('run', join(dir, 'rest.jsonl'), '--store', split).code).toBe(0);
    const whole = freshStore();
    expect(clearsim('run', FIXTURE, '--store', whole).code).toBe(0);

    const fromSnapshot = json(clearsim('account', 'alice', '--store', split, '--json'));
    // --at folds the whole log (no snapshot): the history as it was collected before
    const folded = json(clearsim('account', 'alice', '--store', split, '--at', '2026-01-01T02:00:00Z', '--json'));
    expect(fromSnapshot.decisions.length).toBeGreaterThanOrEqual(3);
    expect(fromSnapshot.decisions[0].type).toBe('MarginCallIssued'); // before the snapshot
    expect(fromSnapshot.decisions.map((d: { type: string }) => d.type)).toContain('PositionLiquidated'); // after it
    expect(fromSnapshot.decisions).toEqual(folded.decisions);
    expect(fromSnapshot).toEqual(json(clearsim('account', 'alice', '--store', whole, '--json')));
  });
});

describe('paths that are not what they must be', () => {
  it('--decisions or --report naming a directory, or a path under a file, is refused before the run (exit 2), and the store is not touched', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-e2e-'));
    const storeDir = join(dir, 'store');
    for (const [flag, path] of [
      ['--decisions', dir],
      ['--report', dir],
      ['--decisions', join(FIXTURE, 'x.jsonl')],
    ]) {
      const out = clearsim('run', FIXTURE, '--store', `file:${storeDir}`, flag!, path!);
      expect(out.code).toBe(2);
      expect(out.stderr).toContain(`clearsim: ${flag}: `);
      expect(out.stderr).not.toMatch(/internal error/);
    }
    // nothing was created: no store, no temporary file beside the paths
    expect(readdirSync(dir)).toEqual([]);
  });

  it('--decisions naming a named pipe writes the decisions into it; the pipe stays a pipe', async () => {
    // was: the decisions written to a temporary beside it, renamed over the pipe (and, as root, over /dev/null)
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-e2e-'));
    const { fifo, closed, text, stop } = pipeReader(dir, 'decisions');
    try {
      const run = await new Promise<number | null>((resolve) => {
        const child = spawn(join(ROOT, 'bin', 'clearsim'), ['run', FIXTURE, '--store', freshStore(), '--decisions', fifo, '--json'], { stdio: 'ignore' });
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.on('exit', (code) => (clearTimeout(timer), resolve(code)));
      });
      expect(run).toBe(0);
      await closed;
      expect(statSync(fifo).isFIFO()).toBe(true);
      expect(readdirSync(dir)).toEqual(['decisions']);
      // the fixture's five decisions, one JSON line each
      expect(text().trim().split('\n').map((line) => JSON.parse(line).type)).toEqual(expect.arrayContaining(['MarginCallIssued', 'LiquidationStarted']));
      expect(text().trim().split('\n')).toHaveLength(5);
    } finally {
      stop();
    }
  }, 60_000);

  it('an input or a rules file that is a directory is bad usage naming it (exit 2), not an internal error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-e2e-'));
    const input = clearsim('run', dir, '--store', freshStore());
    expect(input.code).toBe(2);
    expect(input.stderr).toContain(`clearsim: input ${dir} is a directory, not a file`);
    const rules = clearsim('run', FIXTURE, '--rules', dir, '--store', freshStore());
    expect(rules.code).toBe(2);
    expect(rules.stderr).toContain(`clearsim: rules file ${dir} is a directory, not a file`);
  });

  it('a rules file, a scenario or its exchange file that never ends (/dev/zero) is refused (exit 2), not read whole', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-e2e-'));
    // a rules file or a scenario is a YAML document of at most 1 MiB: no more of it is read than can hold one
    for (const command of ['diff', 'backtest']) {
      const out = clearsim(command, FIXTURE, '--rules', 'crypto-cross', '--rules', '/dev/zero');
      expect(out.code).toBe(2);
      expect(out.stderr).toContain('clearsim: invalid rules in /dev/zero:\n  (root): longer than 1048576 characters');
    }
    const scenario = join(dir, 'zero.yaml');
    symlinkSync('/dev/zero', scenario);
    for (const args of [['stress', scenario, '--paths', '1', '--workers', '1'], ['diff', scenario, '--rules', 'crypto-cross', '--rules', 'ccp-grace']]) {
      const out = clearsim(...args);
      expect(out.code).toBe(2);
      expect(out.stderr).toContain('longer than 1048576 characters');
    }
    // a scenario's exchange file is read whole: a device or a pipe is refused naming the path
    const stress = readFileSync(join(ROOT, 'test', 'fixtures', 'stress-small.yaml'), 'utf8');
    const zeroPath = join(dir, 'zero-path.yaml');
    writeFileSync(zeroPath, stress.replace(/ {4}ETH-PERP:\n( {6}- .*\n)+/, '    ETH-PERP: { file: /dev/zero, format: binance-klines }\n'));
    const out = clearsim('backtest', zeroPath, '--rules', 'crypto-cross');
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('prices.paths.ETH-PERP.file: /dev/zero is not a regular file');
  });

  it("a store whose events.jsonl is a directory fails (exit 1) with the system's message and a hint, not as an internal error", () => {
    const store = freshStore();
    expect(clearsim('run', FIXTURE, '--store', store).code).toBe(0);
    const log = logFile(store);
    rmSync(log);
    mkdirSync(log);
    const out = clearsim('replay', '--store', store);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/EISDIR/);
    expect(out.stderr).not.toMatch(/internal error/);
    expect(out.stderr).toMatch(/a directory where a file belongs/);
  });

  it('a HEAD that is a directory fails the run (exit 1) and leaves no temporary HEAD in the store', () => {
    const store = freshStore();
    expect(clearsim('run', FIXTURE, '--store', store).code).toBe(0);
    const dir = store.slice('file:'.length);
    rmSync(join(dir, 'HEAD'));
    mkdirSync(join(dir, 'HEAD'));
    // opening repairs HEAD (a temporary renamed over it, which fails), or --reset removes it (which fails too)
    for (const extra of [[], ['--reset']]) {
      const out = clearsim('run', FIXTURE, '--store', store, ...extra);
      expect(out.code).toBe(1);
      expect(out.stderr).toMatch(/EISDIR/);
      expect(out.stderr).not.toMatch(/internal error/);
      expect(readdirSync(dir).filter((name) => name.startsWith('.HEAD'))).toEqual([]);
    }
  });
});

describe('paths where the file system makes no folder (/proc)', () => {
  // Node's recursive mkdir never returns there: run with a time limit, so that a hang fails the test instead of the suite
  const clearsimWithin = (seconds: number, ...args: string[]) => {
    const result = spawnSync(join(ROOT, 'bin', 'clearsim'), args, { encoding: 'utf8', cwd: ROOT, timeout: seconds * 1000, killSignal: 'SIGKILL' });
    return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
  };

  it('a store there fails at once (exit 1) with the system error naming the folder, as other path errors do', () => {
    for (const extra of [[], ['--reset']]) {
      const out = clearsimWithin(20, 'run', FIXTURE, '--store', 'file:/proc/clearsim-test/x', ...extra);
      expect(out.signal).toBeNull();
      expect(out.code).toBe(1);
      expect(out.stderr).toContain("clearsim: ENOENT: no such file or directory, mkdir '/proc/clearsim-test' (/proc exists, but its file system makes no folder in it)");
      expect(out.stderr).toMatch(/check --store and the paths given/);
      expect(out.stderr).not.toMatch(/internal error/);
    }
  });

  it('--decisions or --report there is refused before the run (exit 2), naming the flag and the path; the store is not created', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-e2e-'));
    for (const flag of ['--decisions', '--report']) {
      const out = clearsimWithin(20, 'run', FIXTURE, '--store', `file:${join(dir, 'store')}`, flag, '/proc/clearsim-test/out');
      expect(out.signal).toBeNull();
      expect(out.code).toBe(2);
      expect(out.stderr).toContain(`clearsim: ${flag}: cannot write /proc/clearsim-test/out: its folder cannot be made there`);
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('the readers find no store there (exit 2)', () => {
    for (const command of ['replay', 'verify']) {
      const out = clearsimWithin(20, command, '--store', 'file:/proc/clearsim-test/x');
      expect(out.signal).toBeNull();
      expect(out.code).toBe(2);
      expect(out.stderr).toContain('no clearsim store at file:/proc/clearsim-test/x');
    }
  });
});

describe('an empty value', () => {
  it('of any option or argument is refused naming it (exit 2), before the command runs', () => {
    const store = freshStore();
    for (const [args, name] of [
      // were: a diff of the one other rule set, a run without its report, the day's default positions
      [['diff', FIXTURE, '--rules', '', '--rules', 'crypto-cross'], '--rules'],
      [['run', FIXTURE, '--store', store, '--report', ''], '--report'],
      [['run', FIXTURE, '--store', store, '--decisions', ''], '--decisions'],
      [['generate', 'day', join(store.slice('file:'.length), 'day.jsonl'), '--events', '10000', '--accounts', '10', '--positions-per-account', ''], '--positions-per-account'],
      [['account', '', '--store', store], '<id>'],
      [['run', ''], '<input>'],
    ] as [string[], string][]) {
      const out = clearsim(...args);
      expect({ args, code: out.code, stderr: out.stderr }).toEqual({ args, code: 2, stderr: `clearsim: ${name}: must not be empty\n` });
    }
    // nothing ran: no log, no day written
    expect(readdirSync(store.slice('file:'.length))).toEqual([]);
  });
});

describe('errors written to the terminal', () => {
  const store = freshStore();
  beforeAll(() => expect(clearsim('run', FIXTURE, '--store', store).code).toBe(0));
  // eslint-disable-next-line no-control-regex
  const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

  it('show the control characters of an id, a path or a flag value escaped, not raw (an ESC would recolour the terminal)', () => {
    for (const args of [
      ['account', '\u001b[31mred', '--store', store],
      ['diff', FIXTURE, '--rules', 'crypto-cross', '--rules', '\u001b[2J'],
      ['stress', '\u001b[31m.jsonl'],
      ['backtest', FIXTURE, '--rules', 'crypto-cross', '--period', '\u001b[31m'],
      ['replay', '--store', 'file:\u001b[31m'],
      ['\u001b[31mnot-a-command'],
    ]) {
      const out = clearsim(...args);
      expect({ args, code: out.code }).toEqual({ args, code: 2 });
      expect(out.stderr).not.toMatch(RAW_CONTROL);
      expect(out.stderr).toContain('\\u001b');
    }
  });

  it('cut a line that would echo a huge value (100,000 characters of a flag, an id, a preset name) and say how long it was', () => {
    const huge = '9'.repeat(100_000);
    for (const args of [
      ['backtest', FIXTURE, '--rules', 'crypto-cross', '--period', huge],
      ['diff', FIXTURE, '--rules', 'crypto-cross', '--rules', 'a'.repeat(100_000)],
      ['account', 'a'.repeat(100_000), '--store', store],
      ['stress', join(ROOT, 'test', 'fixtures', 'stress-small.yaml'), '--seed', huge],
      ['a'.repeat(100_000)],
    ]) {
      const out = clearsim(...args, '--json');
      expect({ args: args.map((a) => a.slice(0, 20)), code: out.code }).toEqual({ args: args.map((a) => a.slice(0, 20)), code: 2 });
      expect(out.stderr.length).toBeLessThan(3000);
      expect(out.stderr).toMatch(/… \(\d{6} characters\)/);
      expect(out.stdout.length).toBeLessThan(3000);
    }
  });
});

describe('a refused run into a new store', () => {
  it('leaves no store behind: no folder where there was none, an empty folder empty', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-e2e-'));
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, readFileSync(FIXTURE, 'utf8') + '{"type":"Deposited","ts":"2030-01-01T00:00:00Z","account":"a","asset":"USD","amount":"-1"}\n');
    const absent = join(dir, 'absent');
    const refused = clearsim('run', bad, '--store', `file:${absent}`);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/field "amount": must be greater than 0/);
    expect(readdirSync(dir)).toEqual(['bad.jsonl']);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    expect(clearsim('run', bad, '--store', `file:${empty}`).code).toBe(2);
    expect(readdirSync(empty)).toEqual([]);
    // nor the folders above it that the run made
    expect(clearsim('run', bad, '--store', `file:${join(dir, 'x', 'y', 'z')}`).code).toBe(2);
    expect(readdirSync(dir).sort()).toEqual(['bad.jsonl', 'empty']);
    // a run that commits creates it as before
    expect(clearsim('run', FIXTURE, '--store', `file:${absent}`).code).toBe(0);
    expect(readdirSync(absent).sort()).toEqual(['HEAD', 'events.jsonl']);
  });

  it('nor a store whose open fails after making its folders (a folder name too long below them): exit 1, nothing left', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-e2e-'));
    const out = clearsim('run', FIXTURE, '--store', `file:${join(dir, 'a', 'b', 'x'.repeat(300))}`);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/ENAMETOOLONG/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
