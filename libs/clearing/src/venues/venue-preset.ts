import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBoundedYaml } from '@clearsim/rules';

/** A preset of libs/rules/presets as written (the raw object a RulesActivated carries), for the venue tests. */
export function venuePreset(name: string): Record<string, unknown> {
  return parseBoundedYaml(readFileSync(join(__dirname, '..', '..', '..', 'rules', 'presets', `${name}.yaml`), 'utf8')) as Record<string, unknown>;
}
