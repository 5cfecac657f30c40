import { TextTable } from './text-table';

const RAW_SPECIAL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
/** The table's text without its line feeds (the only control character a table may print). */
const withoutNewlines = (text: string) => text.split('\n').join('');

describe('TextTable', () => {
  it('escapes the control characters of its head and cells, keeping the line feeds of a cell of several lines', () => {
    const table = new TextTable({ head: ['account a\u001b[2Jb', 'x'] });
    table.push(['a\u001b]0;title\u0007', 'BTC\u202ePERP 1 @ 10\nETH-PERP 2 @ 3'], [{ colSpan: 2, content: 'rules: \u009b2J' }]);
    const text = table.toString();
    expect(withoutNewlines(text)).not.toMatch(RAW_SPECIAL);
    expect(text).toContain('account a\\u001b[2Jb');
    expect(text).toContain('a\\u001b]0;title\\u0007');
    expect(text).toContain('BTC\\u202ePERP 1 @ 10');
    expect(text).toContain('rules: \\u009b2J');
    // the cell's two lines are two lines of the table
    expect(text.split('\n').some((line) => line.includes('ETH-PERP 2 @ 3') && !line.includes('BTC'))).toBe(true);
  });

  it('prints ordinary text as cli-table3 does, and lays out a table without a head (its rows mapped into plain arrays)', () => {
    const table = new TextTable();
    table.push(['Zoë', '東京'], ['a', 'b']);
    expect(table.toString()).toMatch(/│ Zoë +│ 東京 │/);
    expect(table.length).toBe(2);
  });

  it('escapes the keys and values of a vertical table', () => {
    const table = new TextTable();
    table.push({ 'k\u001b': 'v\u001b' });
    expect(table.toString()).toContain('k\\u001b');
    expect(table.toString()).toContain('v\\u001b');
    expect(withoutNewlines(table.toString())).not.toMatch(RAW_SPECIAL);
  });
});
