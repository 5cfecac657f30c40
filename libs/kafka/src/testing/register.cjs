/* eslint-disable @typescript-eslint/no-require-imports */
/* global require, __dirname, process */
'use strict';
// Lets a plain `node` child process (the integration tests' killable worker)
// run this repository's TypeScript sources: @swc/core compiles each .ts file
// on require, as jest's @swc/jest does, and the path aliases of tsconfig.json
// resolve as there (`@clearsim/<lib>` to libs/<lib>/src, and the light entry
// points such as `@clearsim/events/bytes`). Test-only: production code runs
// from the tsc build.
const Module = require('node:module');
const path = require('node:path');
const { transformSync } = require('@swc/core');

const root = path.resolve(__dirname, '../../../..');
const aliases = require(path.join(root, 'tsconfig.json')).compilerOptions.paths;
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  const alias = aliases[request];
  const target = alias ? path.join(root, alias[0]) : request;
  return resolve.call(this, target, parent, ...rest);
};

require.extensions['.ts'] = function (module, filename) {
  const source = require('node:fs').readFileSync(filename, 'utf8');
  const { code } = transformSync(source, {
    filename,
    sourceMaps: 'inline',
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
process.env.CLEARSIM_SWC_REGISTER = '1';
