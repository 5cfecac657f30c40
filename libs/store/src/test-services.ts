/// <reference types="jest" />

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
