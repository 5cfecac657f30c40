// Three tiers, as in Emmett: *.unit.spec.ts (pure, milliseconds), *.int.spec.ts
// (real stores / brokers), *.e2e.spec.ts (the built CLI or a booted app).
const { compilerOptions } = require('./tsconfig.json');

const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [
    `^${alias}$`,
    `<rootDir>/${target}`,
  ]),
);

const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];

const project = (name, match) => ({
  displayName: name,
  testEnvironment: 'node',
  rootDir: __dirname,
  roots: ['<rootDir>/libs', '<rootDir>/apps', '<rootDir>/test'],
  testMatch: [`**/*.${match}.spec.ts`],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper,
});

module.exports = {
  // the tests' scratch files in one directory, removed at the end (test/scratch-tmpdir.js);
  // CLEARSIM_KEEP_TEST_SCRATCH=1 keeps it for a look
  globalSetup: '<rootDir>/test/scratch-setup.js',
  globalTeardown: '<rootDir>/test/scratch-teardown.js',
  projects: [project('unit', 'unit'), project('int', 'int'), project('e2e', 'e2e')],
};
