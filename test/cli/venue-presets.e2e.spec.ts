import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The venue margin presets (issue #11: dydx-v4, drift-v2, coinbase-intl, deribit) load by name and apply to an
 * incident whose instruments they do not name (their "*" market), and `verify` re-decides the run to the same hash.
 */
const ROOT = join(__dirname, '..', '..');
const BLACK_THURSDAY = join(ROOT, 'examples', 'incidents', '2020-03-12-black-thursday.yaml');
jest.setTimeout(300_000);

const clearsim = (...args: string[]) => spawnSync(join(ROOT, 'bin', 'clearsim'), args, { encoding: 'utf8', cwd: ROOT, timeout: 300_000 });

describe('venue margin presets', () => {
  it.each(['dydx-v4', 'drift-v2', 'coinbase-intl', 'deribit'])('%s runs Black Thursday by name, liquidates, and verify proves it', (preset) => {
    const store = `file:${mkdtempSync(join(tmpdir(), 'clearsim-venue-'))}`;
    const run = clearsim('run', BLACK_THURSDAY, '--rules', preset, '--store', store, '--json');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.rules).toBe(preset);
    expect(summary.liquidations).toBeGreaterThan(0);
    // the golden Black Thursday hash is of the incident's own rules: a venue's rules decide otherwise
    expect(summary.outputHash).not.toBe('6332442a02fc5769fde84580ad4098073a53b67f3c72da59a28edc7051ca64ba');
    const verify = clearsim('verify', '--store', store, '--json');
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, outputHash: summary.outputHash });
  });
});
