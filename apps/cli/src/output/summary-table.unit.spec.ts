import { ClearingEngine } from '@clearsim/clearing';
import { decodeEvent, type InputEvent } from '@clearsim/events';
import stringWidth from 'string-width';
import { fitTable, renderSummary, SUMMARY_COLUMNS, wrapText } from './summary-table';

/** An engine whose accounts hold positions in `instruments` perpetuals each (the positions column grows with them). */
function engineWith(instruments: number, instrumentPrefix = 'BTC', trader = 'alice', rulesName = 't'): ClearingEngine {
  const engine = ClearingEngine.create();
  const input = (raw: Record<string, unknown>) => engine.handle(decodeEvent({ ts: '2026-01-01T00:00:00Z', ...raw }, 'input') as InputEvent);
  input({ type: 'RulesActivated', rules: { name: rulesName, model: 'cross', marginCall: { graceSeconds: 0 }, liquidation: { immediateBelow: '0.5', step: '1', slippage: '0', feeRate: '0' }, bankruptcy: 'adl', accounts: { insurance: 'insurance', fees: 'fees', backstop: 'backstop' }, instruments: { '*': { tiers: [{ initialRate: '0.1', maintenanceRate: '0.05' }] } } } });
  input({ type: 'Deposited', account: 'mm', asset: 'USD', amount: '100000000' });
  input({ type: 'Deposited', account: trader, asset: 'USD', amount: '5000' });
  for (let i = 0; i < instruments; i++) {
    const instrument = `${instrumentPrefix}${i}-PERP`;
    input({ type: 'InstrumentListed', instrument, kind: 'perpetual', underlying: `${instrumentPrefix}${i}` });
    input({ type: 'PriceUpdated', instrument, price: '10000' });
    input({ type: 'TradeExecuted', tradeId: `t${i}`, instrument, buyer: trader, seller: 'mm', qty: '0.01', price: '10000' });
  }
  return engine;
}

function summaryOf(engine: ClearingEngine, store: string): string {
  return renderSummary(engine.summary({ accounts: false }), engine.accountsInTrouble(15), { title: 'clearsim run x.jsonl', extra: [['store', store]] });
}

/** The lines of the tables (the title, which carries the input's path, aside). */
const tableLines = (text: string) => text.trimEnd().split('\n').slice(1);
// columns on a terminal, as cli-table3 counts them (a wide character takes two)
const width = (line: string) => stringWidth(line);

/** The store row's value column, line by line (the row's first line, then those whose label cell is empty). */
function storeCell(text: string): string[] {
  const lines = tableLines(text);
  const at = lines.findIndex((line) => line.startsWith('│ store '));
  expect(at).toBeGreaterThan(0);
  const pieces: string[] = [];
  for (let i = at; i < lines.length && (i === at || lines[i]!.startsWith('│  ')); i++) pieces.push(lines[i]!.split('│')[2]!.trim());
  return pieces;
}

describe('renderSummary', () => {
  it('keeps the tables as laid out when they fit: no wrapping for a short store path', () => {
    const text = summaryOf(engineWith(1), 'file:./data');
    for (const line of tableLines(text)) expect(width(line)).toBeLessThanOrEqual(SUMMARY_COLUMNS);
    expect(text).toContain('│ file:./data ');
    // the label column as wide as its longest label, the value column as the hash (28 + 2 + 64 + 2 + 3 borders = 99)
    expect(width(tableLines(text)[0]!)).toBe(99);
  });

  it('wraps a store path longer than the table inside its cell: every line within 100 columns, nothing cut', () => {
    const path = `file:/tmp/${'deeply-nested-directory/'.repeat(6)}store`;
    const text = summaryOf(engineWith(1), path);
    for (const line of tableLines(text)) expect(width(line)).toBeLessThanOrEqual(SUMMARY_COLUMNS);
    // the store row's pieces, read down its value column, give the path back whole
    const pieces = storeCell(text);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(path);
    // the hash is never wrapped
    expect(text).toMatch(/│ outputHash\s+│ [0-9a-f]{64} │/);
  });

  it('wraps a path of wide characters by their columns: nothing cut (cli-table3 would end a too-long line with …)', () => {
    const path = `file:/srv/${'清算数据/'.repeat(12)}store`;
    const text = summaryOf(engineWith(1), path);
    for (const line of tableLines(text)) expect(width(line)).toBeLessThanOrEqual(SUMMARY_COLUMNS);
    expect(text).not.toContain('…');
    expect(storeCell(text).join('')).toBe(path);
  });

  it('wraps the positions of an account of many positions at spaces, keeping the accounts table within 100 columns', () => {
    const engine = engineWith(3, 'A-VERY-LONG-UNDERLYING-NAME');
    const text = summaryOf(engine, 'file:./data');
    for (const line of tableLines(text)) expect(width(line)).toBeLessThanOrEqual(SUMMARY_COLUMNS);
    // each position's instrument id whole on a line; the market maker's (liq …) went to a line of its own in the cell
    for (let i = 0; i < 3; i++) expect(text).toContain(`│ A-VERY-LONG-UNDERLYING-NAME${i}-PERP -0.01 `);
    expect(text).toMatch(/│ @ 10000 \(liq \d+\.\d+\)\s+│\n/);
  });

  it('prints ids, instruments, the rules name and the title of the user escaped: no control character reaches the terminal', () => {
    // (ids hold format characters: an input's id may not hold a control character, libs/rules/src/id-characters.ts)
    const engine = engineWith(1, 'B\u202eTC\u200b', 'a\u2066[2Jb', 'r\u001b]0;x\u0007');
    const text = renderSummary(engine.summary({ accounts: false }), engine.accountsInTrouble(15), { title: 'clearsim run x\u001b[Hy.jsonl', extra: [['store', 'file:./d\u001bata']] });
    // the line feeds between the lines of the output are the only control characters in it
    expect(text.split('\n').join('')).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
    expect(text).toContain('│ "a\\u2066[2Jb" ');
    expect(text).toContain('"B\\u202eTC\\u200b0-PERP" 0.01 @ 10000');
    expect(text).toContain('│ "r\\u001b]0;x\\u0007" ');
    expect(text).toContain('clearsim run x\\u001b[Hy.jsonl\n');
    expect(text).toContain('file:./d\\u001bata');
    for (const line of tableLines(text)) expect(width(line)).toBeLessThanOrEqual(SUMMARY_COLUMNS);
  });
});

describe('fitTable', () => {
  it('gives the wrapped column what the others leave: 100 − (their widths + padding + borders)', () => {
    // widths with padding: 7 and 52 + 2 = 54 → 7 + 54 + 3 borders = 64 ≤ 100: left as it is
    expect(fitTable([['store', 'x'.repeat(52)]], 1, 10)).toEqual({ rows: [['store', 'x'.repeat(52)]] });
    // 7 + (120 + 2) + 3 = 132 > 100: the value column gets 100 − (132 − 122) = 90, 88 characters of text
    const fitted = fitTable([['store', 'x'.repeat(120)]], 1, 10);
    expect(fitted.colWidths).toEqual([7, 90]);
    expect(fitted.rows).toEqual([['store', `${'x'.repeat(88)}\n${'x'.repeat(32)}`]]);
    // at most `maximum` characters, however much room is left
    expect(fitTable([['store', 'x'.repeat(120)]], 1, 10, 64).colWidths).toEqual([7, 66]);
    // the other columns alone leave less than the minimum: the column keeps its minimum, the table is wider
    expect(fitTable([['y'.repeat(95), 'x'.repeat(50)]], 1, 20).colWidths).toEqual([97, 22]);
    // a wide character counts two: 40 of them are 80 columns, + 2 + 7 + 3 = 92 ≤ 100; 50 are 100 + 12 > 100
    expect(fitTable([['store', '账'.repeat(40)]], 1, 10).colWidths).toBeUndefined();
    expect(fitTable([['store', '账'.repeat(50)]], 1, 10).colWidths).toEqual([7, 90]);
    // a cell's width is its longest line's
    expect(fitTable([['a', `${'x'.repeat(40)}\n${'x'.repeat(110)}`]], 1, 10).colWidths).toEqual([3, 94]);
  });
});

describe('wrapText', () => {
  it('joins words while they fit, breaks only a word wider than the column, keeps the lines it was given', () => {
    // 'BTC-PERP 0.01 @ 10000' is 21; with ' (liq' 26 > 24; '(liq' and the 20-digit price 25 > 24: three lines
    expect(wrapText('BTC-PERP 0.01 @ 10000 (liq 9523819047.61904768)', 24)).toBe('BTC-PERP 0.01 @ 10000\n(liq\n9523819047.61904768)');
    expect(wrapText('file:/a/very/long/path (positions 1..42)', 10)).toBe('file:/a/ve\nry/long/pa\nth\n(positions\n1..42)');
    expect(wrapText('a b\nc d', 3)).toBe('a b\nc d');
    // a wide character takes two columns, as cli-table3 counts it: 账户一 is 6 columns, broken at 4 → 账户 / 一
    expect(wrapText('账户一', 4)).toBe('账户\n一');
    expect(wrapText('ab账', 3)).toBe('ab\n账');
    expect(wrapText('', 5)).toBe('');
  });
});
