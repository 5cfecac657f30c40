import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The incident library (examples/incidents): every scenario runs with a report on a fresh store, liquidates, and
 * is pinned by its counts and outputHash (a change of the rules' arithmetic or of a scenario shows here first;
 * update a pin only with the reason in the commit).
 */
const ROOT = join(__dirname, '..', '..');
const INCIDENTS = join(ROOT, 'examples', 'incidents');
jest.setTimeout(300_000);

const PINNED: [string, Record<string, number | string>, string][] = [
  // market impact and leveraged tokens (docs/rules.md §11, §12): cascade waves and token rebalances are pinned too
  [
    '2020-03-12-black-thursday-cascade.yaml',
    { marginCalls: 229, liquidations: 545, bankruptcies: 287, autoDeleverages: 219, insuranceFund: '5672.06997551', markImpacts: 3617, cascadeWaves: 57, tokenRebalances: 15 },
    'ee6bc41ee818d6d89232185efe6eac8eeaf71bb3e7bed72b69268e5e6edd85a3',
  ],
  // an inverse XBTUSD margined in XBT (docs/rules.md §17, inverse contracts): every amount, the fund's included, in XBT
  [
    '2020-03-12-black-thursday-xbtusd.yaml',
    { marginCalls: 0, liquidations: 180, bankruptcies: 101, autoDeleverages: 67, insuranceFund: '0.1273591' },
    '9b69cd1830129ae181d4e6e4b39efc5b64735e4cc241c3e376312482c73fb9d2',
  ],
  ['2020-03-12-black-thursday.yaml', { marginCalls: 443, liquidations: 527, bankruptcies: 239, autoDeleverages: 227, insuranceFund: '6602.78483297' }, '6332442a02fc5769fde84580ad4098073a53b67f3c72da59a28edc7051ca64ba'],
  ['2021-05-19-china-ban.yaml', { marginCalls: 1431, liquidations: 950, bankruptcies: 37, autoDeleverages: 0, insuranceFund: '445757.31197936' }, '67537acae9076e4608bac59e2812ff6d1f6048ce27ea70b0a11287a8665cfa0b'],
  ['2022-05-luna-ust.yaml', { marginCalls: 6549, liquidations: 5382, bankruptcies: 6, autoDeleverages: 0, insuranceFund: '444847.15860457' }, '6a410e8f1a9bc1933e1be0c7723bb530dafd0694bdbda8fc1a9a5549548c3aa7'],
  ['2022-11-ftx.yaml', { marginCalls: 1467, liquidations: 1392, bankruptcies: 13, autoDeleverages: 0, insuranceFund: '328839.08478651' }, '98d02c64d3199abeea21ecfa69bdb4275d77eb3a597ef0eef189821170c224da'],
  ['2023-03-usdc-depeg.yaml', { marginCalls: 92, liquidations: 81, bankruptcies: 0, autoDeleverages: 0, insuranceFund: '105173.58228615' }, 'e6aab801d1a520e5f67bc3557ccc09b024253b64f1e02bab135b5413b2d50517'],
  ['2024-08-05-carry-unwind.yaml', { marginCalls: 1148, liquidations: 1102, bankruptcies: 0, autoDeleverages: 0, insuranceFund: '1495667.58958242' }, '932b324ee4c0f76987a9853d2c04f3701837388b77ce822bc855e5f363db367e'],
  ['2025-10-10-record-day.yaml', { marginCalls: 589, liquidations: 578, bankruptcies: 578, autoDeleverages: 667, insuranceFund: '0' }, '4aad3052338faec302a23e44d1b9b3fdaebdbe72eb31cf251414dbb703916a0f'],
];

describe('the incident library', () => {
  it('pins every scenario of examples/incidents (none is left out)', () => {
    expect(PINNED.map(([file]) => file)).toEqual(readdirSync(INCIDENTS).filter((f) => f.endsWith('.yaml')).sort());
  });

  it.each(PINNED)('%s runs with a report, liquidates, and keeps its counts and outputHash', (file, counts, outputHash) => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-incident-'));
    const report = join(dir, 'report.html');
    const result = spawnSync(join(ROOT, 'bin', 'clearsim'), ['run', join(INCIDENTS, file), '--store', `file:${dir}/store`, '--report', report, '--json'], { encoding: 'utf8', timeout: 300_000 });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.liquidations).toBeGreaterThan(0);
    expect({ ...Object.fromEntries(Object.keys(counts).map((k) => [k, summary[k]])), outputHash: summary.outputHash }).toEqual({ ...counts, outputHash });
    expect(existsSync(report)).toBe(true);
    expect(readFileSync(report, 'utf8')).toContain('<script id="report-data" type="application/json">');
  });

  it('every figure has its source: each scenario lists its sources in its header comment', () => {
    for (const [file] of PINNED) {
      const header = readFileSync(join(INCIDENTS, file), 'utf8').split('\n').filter((l) => l.startsWith('#')).join('\n');
      expect([file, /Sources|sources/.test(header) || /\[D\d\]|\[S\d+\]/.test(header)]).toEqual([file, true]);
    }
  });
});

describe('the Black Thursday narrative of examples/README.md, against the log', () => {
  it('the times and accounts it names are those of the decisions', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-narrative-'));
    const decisionsFile = join(dir, 'decisions.jsonl');
    const result = spawnSync(join(ROOT, 'bin', 'clearsim'), ['run', join(INCIDENTS, '2020-03-12-black-thursday.yaml'), '--store', 'memory:', '--decisions', decisionsFile, '--json'], { encoding: 'utf8', timeout: 300_000 });
    expect(result.status).toBe(0);
    const decisions = readFileSync(decisionsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    const of = (type: string) => decisions.filter((d) => d.type === type);
    const narrative = readFileSync(join(ROOT, 'examples', 'README.md'), 'utf8');
    // "00:41-10:30 — the morning drift liquidates the high-leverage btc-degen accounts"
    expect(of('LiquidationStarted')[0]).toMatchObject({ ts: '2020-03-12T00:41:00Z', account: expect.stringMatching(/^btc-degen-/), reason: 'below-maintenance' });
    expect(narrative).toContain('*00:41-10:30*');
    // "from 10:37 PositionAutoDeleveraged … no ADL after 10:47"
    const adl = of('PositionAutoDeleveraged').map((d) => d.ts);
    expect([adl[0], adl[adl.length - 1]]).toEqual(['2020-03-12T10:37:00Z', '2020-03-12T10:47:00Z']);
    expect(narrative).toContain('from 10:37 `PositionAutoDeleveraged`');
    expect(narrative).toContain('no ADL after 10:47');
    // "four more bankruptcies (btc-long-083 at 18:47 …; three in 01:52-01:55)" and nothing decided after 01:55 but the withdrawal
    expect(of('AccountBankrupted').filter((d) => d.ts > '2020-03-12T11:01:00Z').map((d) => [d.ts, d.account])).toEqual([
      ['2020-03-12T18:47:00Z', 'btc-long-083'],
      ['2020-03-13T01:52:00Z', expect.any(String)],
      ['2020-03-13T01:54:00Z', expect.any(String)],
      ['2020-03-13T01:55:00Z', expect.any(String)],
    ]);
    expect(decisions.filter((d) => d.ts > '2020-03-13T01:55:00Z').map((d) => [d.type, d.account])).toEqual([['WithdrawalApproved', 'mm']]);
    expect(of('WithdrawalRejected').map((d) => [d.ts, d.account, d.reason])).toEqual([['2020-03-12T10:47:00Z', 'btc-long-007', 'insufficient-free-collateral']]);
    // "the backstop ends with a large loss (about −4.7 M on BTC alone)": 3,672.1 BTC taken over near 6,908, marked at 5,622.74
    const backstop = JSON.parse(result.stdout).accounts.backstop.positions['BTC-PERP'];
    const loss = Number(backstop.qty) * (5622.74 - Number(backstop.entryPrice));
    expect(loss).toBeGreaterThan(-4.8e6);
    expect(loss).toBeLessThan(-4.6e6);
  });
});
