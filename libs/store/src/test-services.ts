/// <reference types="jest" />
import { Client } from 'pg';

export interface ServiceRequirement {
  /** The environment variable that points the tests at the server, e.g. DATABASE_URL. */
  variable: string;
  /** What it is, for messages: "PostgreSQL". */
  service: string;
  /** How to get one, for messages. */
  howTo: string;
  /** With CI=true, fail instead of skipping when the variable is unset (the server is part of CI). */
  requiredInCi: boolean;
}

/**
 * `describe(name, body)` when `requirement.variable` is set; otherwise one
 * skipped test whose name says why, plus one console.warn line, or, on CI for
 * a server CI provides, one failing test that says how to start it.
 */
export function describeWithService(name: string, requirement: ServiceRequirement, body: (value: string) => void): void {
  const value = process.env[requirement.variable];
  if (value) {
    describe(name, () => body(value));
    return;
  }
  const why = `${requirement.variable} is not set; ${requirement.howTo}`;
  if (requirement.requiredInCi && process.env.CI === 'true') {
    describe(name, () => {
      it(`needs ${requirement.service}`, () => {
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

/** The PostgreSQL server of the tests that need one (DATABASE_URL; infra/services.sh starts it, and CI does). */
export const POSTGRES: ServiceRequirement = {
  variable: 'DATABASE_URL',
  service: 'PostgreSQL',
  howTo: 'run eval "$(infra/services.sh up)" first (PostgreSQL alone: eval "$(infra/services.sh up --no-kafka)"; see infra/README.md)',
  requiredInCi: true,
};

/**
 * A schema of the calling test file's own in the database at `databaseUrl`, dropped after its tests (call it inside
 * the describe): its name and the URL that selects it (`?schema=`).
 */
export function testSchema(databaseUrl: string, prefix: string): { schema: string; url: string } {
  const schema = `${prefix}_${process.pid}_${Date.now().toString(36)}`;
  afterAll(async () => {
    const sql = new Client({ connectionString: databaseUrl });
    await sql.connect();
    await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await sql.end();
  });
  return { schema, url: `${databaseUrl}${databaseUrl.includes('?') ? '&' : '?'}schema=${schema}` };
}
