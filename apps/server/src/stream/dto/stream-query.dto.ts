import { WholeNumberQuery } from '../../common/validation';

export class StreamQueryDto {
  @WholeNumberQuery({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Start with the logged decisions from this position on (decimal digits; Last-Event-ID, when sent, wins).' })
  from?: number;
}
