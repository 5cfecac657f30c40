/// <reference types="jest" />
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Browser } from 'playwright-core';

/**
 * The browser tests' Chromium: Debian's `chromium` package driven by
 * playwright-core through `executablePath` (no browser download). Found at
 * $CLEARSIM_CHROMIUM, /usr/bin/chromium, or `chromium` / `chromium-browser`
 * on the PATH. test/run-all.sh installs it when it can (root or passwordless
 * sudo); where it cannot, the tests say what is missing — and, under CI=true,
 * fail instead of skipping, as the PostgreSQL and Kafka suites do
 * (libs/store/src/test-services.ts).
 */
export const CHROMIUM_VARIABLE = 'CLEARSIM_CHROMIUM';
export const CHROMIUM_HOW_TO = `install Debian's chromium (sudo apt-get install -y chromium; test/run-all.sh does it when it can), or point ${CHROMIUM_VARIABLE} at a Chromium or Chrome binary`;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Chromium binary to drive, or undefined when there is none. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = env[CHROMIUM_VARIABLE];
  if (given) return executable(given) ? given : undefined;
  const candidates = ['/usr/bin/chromium', ...(env.PATH ?? '').split(delimiter).filter(Boolean).flatMap((dir) => [join(dir, 'chromium'), join(dir, 'chromium-browser')])];
  return candidates.find(executable);
}

function missing(env: NodeJS.ProcessEnv = process.env): string {
  const given = env[CHROMIUM_VARIABLE];
  return given ? `${CHROMIUM_VARIABLE}=${given} is not an executable file` : 'no Chromium found (looked for /usr/bin/chromium, chromium and chromium-browser on the PATH)';
}

/** A headless Chromium; throws, saying what is missing and how to get it, when there is none. */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(`${missing()}: ${CHROMIUM_HOW_TO}`);
  const { chromium } = await import('playwright-core');
  // --no-sandbox: CI containers run as root, where Chromium's sandbox refuses to start
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

/**
 * `describe(name, body)` when a Chromium is found; otherwise one skipped test
 * whose name says why plus a loud console.warn naming the fix, or — under
 * CI=true, where nothing may be skipped — one failing test that says it.
 */
export function describeWithChromium(name: string, body: () => void): void {
  if (findChromium()) {
    describe(name, body);
    return;
  }
  const why = `${missing()}; ${CHROMIUM_HOW_TO}`;
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs Chromium', () => {
        throw new Error(`${name}: CI=true but ${why}`);
      });
    });
    return;
  }
  console.warn(`SKIPPED ${name}: ${why}`);
  describe(name, () => {
    it.skip(`skipped: ${why}`, () => undefined);
  });
}
