import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium (apt-get install chromium); CHROMIUM_PATH overrides it. */
const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);

/**
 * Launches the system's chromium headless through playwright-core. Missing
 * chromium: it throws, saying what to install; outside CI (CI=true) it also
 * says loudly on stderr that the browser tests are skipped, and the caller skips.
 */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = CANDIDATES.find((path) => existsSync(path));
  if (!executablePath) {
    const message = `no chromium at ${CANDIDATES.join(', ')}: install it (Debian/Ubuntu: sudo apt-get install -y chromium) or set CHROMIUM_PATH`;
    if (process.env.CI === 'true') throw new Error(`${message} (CI=true: the browser tests may not be skipped)`);
    process.stderr.write(`clearsim browser tests SKIPPED: ${message}\n`);
    throw new Error(message);
  }
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
}
