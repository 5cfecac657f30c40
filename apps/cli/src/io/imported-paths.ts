import { readFileSync, existsSync, statSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { parse, type Options } from 'csv-parse/sync';
import { formatTimestamp, parseTimestamp } from '@clearsim/events';
import { formatFixed } from '@clearsim/money';
import { CsvPosition, isCsvParseError, LAYOUT_NAMES, LAYOUTS, MarketDataImport, ImportUsageError, type CsvRecordContext, type LayoutName } from '@clearsim/market-data';
import { UsageError } from '../cli-error';
import { csvOptions, importOptionsOf } from './import-options';

/** The largest exchange file a scenario's path reads (whole, into one buffer: Node's limit for a file read at once). */
const MAX_IMPORTED_PATH_BYTES = 2 ** 31 - 1;

const FILE_PATH_KEYS = ['file', 'format', 'barPath', 'interval', 'mark', 'timeFormat', 'timeCol', 'priceCol', 'qtyCol', 'delimiter'];

/**
 * A scenario's `prices.paths.<id>` may name an exchange file instead of
 * listing waypoints: `{ file: btc-1m.csv, format: binance-klines }` (the
 * options of `clearsim import`, camelCased). The file (relative to the
 * scenario) is imported as `clearsim import` would, strictly — any bad row
 * refuses the scenario, naming the file and line — and its marks become the
 * path's waypoints: those from `start` to `end`, the first moved to `start`
 * when the file begins later (the price is flat until the data begins).
 * Returns the raw scenario with every such path replaced (the scenario library
 * itself reads no files).
 */
export function resolveImportedPaths(raw: unknown, scenarioFile: string): unknown {
  const paths = (raw as { prices?: { paths?: Record<string, unknown> } } | undefined)?.prices?.paths;
  if (!paths || typeof paths !== 'object') return raw;
  const start = parseTimestamp(String((raw as { start?: unknown }).start ?? ''));
  const endText = (raw as { end?: unknown }).end;
  const end = endText === undefined ? undefined : parseTimestamp(String(endText));
  for (const [id, path] of Object.entries(paths)) {
    if (!path || typeof path !== 'object' || Array.isArray(path)) continue;
    const where = `${scenarioFile}: prices.paths.${id}`;
    const spec = path as Record<string, unknown>;
    for (const key of Object.keys(spec)) if (!FILE_PATH_KEYS.includes(key)) throw new UsageError(`${where}.${key}: unknown field (a file path takes ${FILE_PATH_KEYS.join(', ')})`);
    if (typeof spec.file !== 'string' || spec.file === '') throw new UsageError(`${where}.file: the exchange file to import (relative to the scenario)`);
    if (typeof spec.format !== 'string' || !(LAYOUT_NAMES as string[]).includes(spec.format) || LAYOUTS[spec.format as LayoutName].kind === 'funding') {
      throw new UsageError(`${where}.format: one of ${LAYOUT_NAMES.filter((n) => LAYOUTS[n].kind !== 'funding').join(', ')}`);
    }
    if (start === undefined) throw new UsageError(`${scenarioFile}: start: an ISO-8601 UTC time is needed to cut an imported path`);
    const file = resolve(dirname(scenarioFile), spec.file);
    if (!existsSync(file)) throw new UsageError(`${where}.file: not found: ${file}`);
    // read whole (below): a device or a pipe (/dev/zero) would be read without end, a file beyond 2 GiB Node cannot hold
    const stat = statSync(file);
    if (!stat.isFile()) throw new UsageError(`${where}.file: ${file} is not a regular file`);
    if (stat.size > MAX_IMPORTED_PATH_BYTES) throw new UsageError(`${where}.file: ${file} is larger than 2 GiB, the most a scenario reads whole; cut it to the scenario's window first`);
    const text = (key: string) => (spec[key] === undefined ? undefined : String(spec[key]));
    let machine: MarketDataImport;
    const points: { at: string; price: string }[] = [];
    try {
      machine = new MarketDataImport(
        importOptionsOf({
          format: spec.format,
          instrument: id,
          barPath: text('barPath'),
          interval: text('interval'),
          mark: text('mark'),
          timeFormat: text('timeFormat'),
          timeCol: text('timeCol'),
          priceCol: text('priceCol'),
          qtyCol: text('qtyCol'),
        }),
      );
      // where the reader is, to name the line a quote never closed opened on (csv-parse gives up at the end of the file)
      const position = new CsvPosition();
      let rows: { record: string[]; info: { lines: number } }[];
      try {
        const options: Options = {
          ...csvOptions(text('delimiter')),
          on_record: (record, context) => {
            position.record(context as CsvRecordContext);
            return record;
          },
        };
        rows = parse(readFileSync(file), options) as unknown as { record: string[]; info: { lines: number } }[];
      } catch (error) {
        if (isCsvParseError(error)) throw new UsageError(`${spec.file}: ${position.describe(error)}`);
        throw error;
      }
      for (const { record, info } of rows) {
        for (const event of machine.row(record, info.lines)) collect(event as { ts: number; price?: bigint }, points, start, end);
        if (machine.problems.length > 0) break;
      }
      for (const event of machine.finish()) collect(event as { ts: number; price?: bigint }, points, start, end);
    } catch (error) {
      if (error instanceof ImportUsageError) throw new UsageError(`${where}: ${error.message}`);
      if (error instanceof UsageError) throw new UsageError(`${where}: ${error.message}`);
      throw error;
    }
    const problem = machine.problems[0];
    if (problem) throw new UsageError(`${where}: ${spec.file}: line ${problem.line}${problem.field ? `: ${problem.field}` : ''}: ${problem.message}`);
    if (points.length === 0) throw new UsageError(`${where}: ${spec.file} has no price between start and end`);
    if (points[0].at !== formatTimestamp(start)) points.unshift({ at: formatTimestamp(start), price: points[0].price });
    paths[id] = points;
  }
  return raw;
}

function collect(event: { ts: number; price?: bigint }, points: { at: string; price: string }[], start: number, end: number | undefined): void {
  if (event.ts < start || (end !== undefined && event.ts > end) || event.price === undefined) return;
  points.push({ at: formatTimestamp(event.ts), price: formatFixed(event.price) });
}
