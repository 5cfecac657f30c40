import { closeSync, openSync, readSync } from 'node:fs';
import { MAX_YAML_LENGTH } from '@clearsim/rules';

/**
 * The bytes that can hold a YAML document of `MAX_YAML_LENGTH` characters (UTF-8: at most 4 bytes a character),
 * and one character more: what is read of a rules file or a scenario.
 */
export const MAX_YAML_BYTES = 4 * MAX_YAML_LENGTH + 4;

/**
 * A text file read as UTF-8, but no more than `maxBytes` of it: a rules file or scenario that is a device, a pipe
 * that never ends (`/dev/zero`) or a file of gigabytes is not read whole into memory before its length is checked.
 * What is cut off still decodes to more characters than the YAML bound, so the parser refuses it as too long.
 */
export function readTextBounded(file: string, maxBytes = MAX_YAML_BYTES): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(maxBytes);
    let filled = 0;
    while (filled < maxBytes) {
      const read = readSync(fd, buffer, filled, maxBytes - filled, null);
      if (read === 0) break;
      filled += read;
    }
    return buffer.toString('utf8', 0, filled);
  } finally {
    closeSync(fd);
  }
}
