import type * as Yaml from 'yaml';

let loaded: typeof Yaml | undefined;

/**
 * The yaml package, loaded on first use rather than with the rules: a run of
 * JSONL inputs, `verify`, `replay` and `run`'s decode thread read no YAML, and
 * loading the package cost each of them ~30 ms of start-up.
 */
export function yamlLibrary(): typeof Yaml {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a synchronous load on first use: parseBoundedYaml is synchronous
  return (loaded ??= require('yaml') as typeof Yaml);
}
