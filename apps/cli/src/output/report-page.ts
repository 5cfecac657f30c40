import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { REPORT_CLIENT } from './report-client';

/**
 * The report's HTML shell: one self-contained file (opens offline, from disk)
 * holding uPlot, the page's own script and the data as JSON.
 *
 * uPlot (MIT, ~50 KB minified) draws 10^5–10^6 points on a canvas in
 * milliseconds, zooms by dragging and has a cursor legend; the report's data
 * is downsampled (LTTB) before it gets here, so a 10^6-event run's page is a
 * few MB (docs/report.md gives the measured size and drawing time). It is read
 * from node_modules when the report is written, never fetched.
 */
export type ReportKind = 'run' | 'diff' | 'backtest' | 'stress';

let uplotAssets: { js: string; css: string } | undefined;

function uplot(): { js: string; css: string } {
  if (!uplotAssets) {
    const js = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
    const css = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
    uplotAssets = { js, css };
  }
  return uplotAssets;
}

/** JSON that is safe inside <script>: no `</script>`, no `<!--`, and the two line separators JS strings refuse. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * The page's data: JSON, or — above EMBED_GZIP_FROM characters — that JSON
 * gzipped and base64-encoded as {"gzip": "…"}, which the page inflates with
 * the browser's own DecompressionStream (a 10^6-event run's 9 MB of JSON
 * becomes about 2 MB of page).
 */
export const EMBED_GZIP_FROM = 256 * 1024;

export function embedData(value: unknown): string {
  const json = scriptJson(value);
  if (json.length < EMBED_GZIP_FROM) return json;
  return JSON.stringify({ gzip: gzipSync(json).toString('base64') });
}

/** The inverse of embedData (for tests and tools). */
export function readEmbedded(text: string): unknown {
  const parsed = JSON.parse(text) as { gzip?: string };
  if (typeof parsed.gzip !== 'string') return parsed;
  return JSON.parse(gunzipSync(Buffer.from(parsed.gzip, 'base64')).toString('utf8'));
}

export function renderPage(kind: ReportKind, title: string, data: unknown): string {
  const { js, css } = uplot();
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} — clearsim report</title>
<style>${css}</style>
<style>${PAGE_CSS}</style>
</head>
<body>
<div id="app"><h1>${esc(title)}</h1><p class="note" id="loading">Drawing the report… (it needs JavaScript; nothing is fetched from the network)</p></div>
<script id="report-data" type="application/json">${embedData({ kind, title, data })}</script>
<script>${js}</script>
<script>${REPORT_CLIENT}</script>
</body>
</html>
`;
}

/** Escapes text for HTML content and attribute values. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const PAGE_CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#212529;margin:0 auto;padding:20px 24px;max-width:1280px;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:26px 0 6px}h3{font-size:14px;margin:10px 0 4px}
.meta{color:#495057;margin:4px 0}.note{color:#868e96;margin:0 0 6px;font-size:13px}
code,pre{font:12px ui-monospace,Menlo,Consolas,monospace}code{word-break:break-all}
pre{background:#f8f9fa;border:1px solid #e9ecef;border-radius:6px;padding:10px;max-height:420px;overflow:auto}
.stats{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:8px;margin:12px 0}
.stats div{background:#f1f3f5;border-radius:6px;padding:6px 10px}.stats dt{font-size:12px;color:#495057}.stats dd{margin:0;font-size:16px;font-weight:600;overflow-wrap:anywhere}
.toolbar{position:sticky;top:0;z-index:5;background:#fffffff0;border-bottom:1px solid #dee2e6;padding:6px 0;display:flex;flex-wrap:wrap;gap:8px;align-items:center;font-size:13px}
.toolbar input[type=text]{width:150px}.toolbar button{cursor:pointer}
.small-multiples{display:grid;grid-template-columns:repeat(auto-fit,minmax(380px,1fr));gap:4px 12px}
.chart{margin:4px 0}.chart .title{font-weight:600;font-size:13px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:3px 8px;border-bottom:1px solid #e9ecef;text-align:left;vertical-align:top}
th{background:#f8f9fa;font-weight:600;position:sticky;top:0}.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.pick{cursor:pointer}tr.pick:hover{background:#e7f5ff}tr.chosen{background:#d0ebff}
.scroll{max-height:420px;overflow:auto;border:1px solid #e9ecef}
.badge{display:inline-block;border-radius:4px;padding:0 6px;font-size:12px;color:#fff}
.bankrupt{background:#c92a2a}.liquidated{background:#e8590c}.margin-call{background:#f59f00}.healthy{background:#2b8a3e}.system{background:#495057}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:16px}.cols>*{min-width:0}@media(max-width:900px){.cols{grid-template-columns:1fr}}
#drill{border:2px solid #74c0fc;border-radius:8px;padding:8px 12px;margin-top:10px}
.tip{position:absolute;pointer-events:none;background:#212529;color:#fff;font-size:12px;padding:3px 6px;border-radius:4px;z-index:10;white-space:pre}
.u-legend{font-size:12px}.u-legend .u-marker{width:10px;height:10px}
footer{margin-top:32px;color:#adb5bd;font-size:12px}
`;
