// Jest's globalSetup and globalTeardown (jest.config.js): every test's scratch files in one directory that the run
// removes at its end. The suites make their stores, generated days and bad inputs with mkdtemp under os.tmpdir(), and
// many spawn the CLI or a server that does the same; without this each `npm test` left ~300 MB of them in /tmp.
// TMPDIR is set before jest starts its workers, so they and every child process they spawn inherit it.
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const KEY = 'CLEARSIM_TEST_SCRATCH';
/** The pid of the jest process that made the directory: only it removes it. */
const OWNER = 'CLEARSIM_TEST_SCRATCH_OWNER';

async function setup() {
  // nested runs (a test that runs jest) keep their parent's directory, and leave it to the parent to remove
  if (process.env[KEY]) return;
  const dir = mkdtempSync(join(tmpdir(), 'clearsim-tests-'));
  process.env[KEY] = dir;
  process.env[OWNER] = String(process.pid);
  process.env.TMPDIR = dir;
}

async function teardown() {
  const dir = process.env[KEY];
  if (!dir || process.env[OWNER] !== String(process.pid) || process.env.CLEARSIM_KEEP_TEST_SCRATCH === '1') return;
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch (error) {
    // a child still writing there (a test that failed to stop its server) must not turn a green run red: say what is left
    process.stderr.write(`clearsim tests: could not remove the scratch directory ${dir}: ${error.message}\n`);
  }
}

module.exports = { setup, teardown };
