// The codec's error of an input, in a module with no schema: the byte layer (bytes.ts) throws it too.

export interface FieldIssue {
  field: string;
  message: string;
}

/**
 * A field's name as a message quotes it: JSON-escaped (a control character in an unknown key is not written raw to a
 * terminal), and at most 256 characters of it (a path 32 levels deep fits; an unknown key of 10 MB is not echoed back).
 */
export function quotedField(field: string): string {
  return field.length <= 256 ? JSON.stringify(field) : `${JSON.stringify(field.slice(0, 200) + '…')} (${field.length} characters)`;
}

/**
 * An input refused at an edge. `source` is the file (or topic, or HTTP body),
 * `line` is 1-based where the input came from a line-oriented source.
 */
export class InputError extends Error {
  constructor(
    readonly issues: FieldIssue[],
    readonly source?: string,
    readonly line?: number,
  ) {
    super(InputError.describe(issues, source, line));
  }

  static describe(issues: FieldIssue[], source?: string, line?: number): string {
    const where = [source, line !== undefined ? `line ${line}` : undefined].filter(Boolean).join(':');
    const what = issues.map((i) => (i.field ? `field ${quotedField(i.field)}: ${i.message}` : i.message)).join('; ');
    return where ? `${where}: ${what}` : what;
  }

  withLocation(source: string | undefined, line: number | undefined): InputError {
    return new InputError(this.issues, source ?? this.source, line ?? this.line);
  }
}
