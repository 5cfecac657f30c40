import { WholeNumberQuery } from '../../common/validation';

export const MAX_LOG_LIMIT = 1000;

export class LogQueryDto {
  @WholeNumberQuery({ default: 1, minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'First position to read (1-based; decimal digits).' })
  from?: number;

  @WholeNumberQuery({ default: 100, minimum: 1, maximum: MAX_LOG_LIMIT, description: 'Most events to return (decimal digits).' })
  limit?: number;
}
