import Table from 'cli-table3';
import { escapeControls } from './display-text';

/** Colours only on a terminal; piped output stays plain text. */
function tableStyle(): { head: string[]; border: string[]; compact: boolean } {
  return process.stdout.isTTY ? { head: ['cyan'], border: ['grey'], compact: true } : { head: [], border: [], compact: true };
}

type Row = Table.HorizontalTableRow | Table.VerticalTableRow | Table.CrossTableRow;

const safeCell = (cell: Table.Cell): Table.Cell => {
  if (typeof cell === 'string') return escapeControls(cell);
  if (cell !== null && typeof cell === 'object' && typeof cell.content === 'string') return { ...cell, content: escapeControls(cell.content) };
  return cell;
};

const safeRow = (row: Row): Row => {
  if (Array.isArray(row)) return row.map(safeCell);
  return Object.fromEntries(Object.entries(row).map(([key, value]) => [escapeControls(key), Array.isArray(value) ? value.map(safeCell) : safeCell(value)])) as Row;
};

/**
 * The CLI's tables: cli-table3's, in the CLI's style, whose head and cells are passed through escapeControls as they
 * are added, so that no table prints a control character of the user's raw (an id's ESC would reach the terminal).
 * That is the safety net; the values of the user's are also given through displayText where the rows are built, which
 * quotes them so they read unambiguously. The cells' line feeds (a cell of several lines) are kept.
 */
export class TextTable extends Table {
  // what Array's own methods derive from a table (cli-table3 maps its rows while laying them out) is a plain array
  static get [Symbol.species](): ArrayConstructor {
    return Array;
  }

  constructor(options: Table.TableConstructorOptions = {}) {
    super({ style: tableStyle(), ...options, ...(options.head ? { head: options.head.map(escapeControls) } : {}) });
  }

  override push(...rows: Row[]): number {
    return super.push(...rows.map(safeRow));
  }
}
