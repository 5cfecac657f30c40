import { z } from 'zod';
import { controlCharacterProblem, ID_CHARACTERS_PATTERN } from './id-characters';

/**
 * `text` refined to refuse a control character (id-characters.ts): the issue on the text's own path, naming the
 * character and where it is. The JSON Schema generated from it (a refinement has none) states the rule as a pattern.
 */
export const refuseControlCharacters = <S extends z.ZodType<string>>(text: S) =>
  text
    .superRefine((value, ctx) => {
      const problem = controlCharacterProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    })
    .meta({ pattern: ID_CHARACTERS_PATTERN });

/** An account the rules name (the insurance, fees and backstop accounts, the isolated ones, a token's fund and counterparty): a non-empty id without control characters. */
export const accountId = refuseControlCharacters(z.string().min(1));
