import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_VARIABLE, findChromium, launchBrowser } from './chromium';

describe('findChromium / launchBrowser', () => {
  let dir: string;
  let saved: string | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'clearsim-chromium-'));
    saved = process.env[CHROMIUM_VARIABLE];
  });
  afterEach(() => {
    if (saved === undefined) delete process.env[CHROMIUM_VARIABLE];
    else process.env[CHROMIUM_VARIABLE] = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it(`takes ${CHROMIUM_VARIABLE} when it is an executable file, and nothing else then`, () => {
    const binary = join(dir, 'my-chrome');
    writeFileSync(binary, '#!/bin/sh\n');
    chmodSync(binary, 0o755);
    expect(findChromium({ [CHROMIUM_VARIABLE]: binary, PATH: '' })).toBe(binary);
    // given but not executable: not found (no silent fallback to another browser)
    const plain = join(dir, 'not-executable');
    writeFileSync(plain, '');
    expect(findChromium({ [CHROMIUM_VARIABLE]: plain, PATH: '/usr/bin' })).toBeUndefined();
  });

  it('looks for chromium and chromium-browser on the PATH', () => {
    const binary = join(dir, 'chromium-browser');
    writeFileSync(binary, '#!/bin/sh\n');
    chmodSync(binary, 0o755);
    const found = findChromium({ PATH: dir });
    // /usr/bin/chromium comes first where Debian's package is installed
    expect([binary, '/usr/bin/chromium']).toContain(found);
  });

  it('launchBrowser says what is missing and how to get it', async () => {
    process.env[CHROMIUM_VARIABLE] = join(dir, 'nothing-here');
    await expect(launchBrowser()).rejects.toThrow(`${CHROMIUM_VARIABLE}=${join(dir, 'nothing-here')} is not an executable file: install Debian's chromium (sudo apt-get install -y chromium`);
  });
});
