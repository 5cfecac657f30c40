import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The pure core may not touch I/O, clocks, randomness or the NestJS shell.
const coreLibs = ['money', 'events', 'rules', 'ledger', 'margin', 'saga', 'clearing', 'scenario', 'risk-models', 'options', 'market-data'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // tests read parsed JSON output freely
    files: ['**/*.spec.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: coreLibs.map((lib) => `libs/${lib}/src/**/*.ts`),
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@nestjs/*', 'pg', 'kafkajs', '@kurrent/*', 'node:*', 'fs', 'path', 'os', 'child_process', 'crypto'], message: 'The clearing core is pure: no I/O, no framework. Put adapters in libs/store or apps/.' },
            { group: ['@clearsim/store'], message: 'The core does not know the store.' },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Time is an argument: use the event ts.' },
        { object: 'Math', property: 'random', message: 'Randomness is a seeded generator passed in.' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Time is an argument: use the event ts.' },
      ],
    },
  },
);
