import { ApiProperty } from '@nestjs/swagger';
import { ClockText, Count, DecimalText } from '../../common/api-responses';
import { LoggedEvent } from '../../clearing/dto/submit-inputs.response';

/** A page of the log (GET /v1/log). */
export class LogPageResponse {
  @ApiProperty({ type: 'integer', minimum: 1, example: 1, description: 'The position asked for.' })
  from!: number;

  @Count({ example: 9, description: 'The log\'s head when the page was read.' })
  head!: number;

  @ApiProperty({ type: 'integer', minimum: 1, example: 3, description: 'Where the next page starts (`from=next`); past head when there is no more.' })
  next!: number;

  @ApiProperty({ type: () => [LoggedEvent], description: 'The events the key may see, in log order (positions keep the gaps of events it may not).' })
  events!: LoggedEvent[];
}

/** The shard's summary (GET /v1/summary): the counters of `clearsim run --json`, without accounts. */
export class SummaryResponse {
  @ApiProperty({ example: 'file:./data', description: 'The event store\'s URL (credentials hidden).' })
  store!: string;

  @Count({ example: 9, description: 'The log\'s head the summary is of.' })
  position!: number;

  @ApiProperty({ type: String, nullable: true, example: 'demo', description: 'The active rules\' name; null before any RulesActivated.' })
  rules!: string | null;

  @ClockText({ description: 'The log\'s clock; null before the first event.' })
  clock!: string | null;

  @Count({ example: 9 }) eventsIn!: number;
  @Count({ example: 0 }) duplicates!: number;
  @Count({ example: 5 }) decisions!: number;
  @Count({ example: 1 }) marginCalls!: number;
  @Count({ example: 0 }) marginCallsMet!: number;
  @Count({ example: 1 }) gracePeriodsExpired!: number;
  @Count({ example: 1 }) liquidations!: number;
  @Count({ example: 1 }) positionsLiquidated!: number;
  @Count({ example: 0 }) bankruptcies!: number;
  @Count({ example: 0 }) insuranceDraws!: number;
  @Count({ example: 0 }) autoDeleverages!: number;
  @Count({ example: 0 }) lossesSocialized!: number;
  @Count({ example: 0 }) withdrawalsApproved!: number;
  @Count({ example: 0 }) withdrawalsRejected!: number;

  @DecimalText({ example: '0', description: 'Total drawn from the insurance fund.' })
  insuranceDrawn!: string;

  @DecimalText({ example: '1000', description: 'The insurance account\'s cash now.' })
  insuranceFund!: string;

  @ApiProperty({ pattern: '^[0-9a-f]{64}$', example: '5f8ed228d71b85cf4fee3d0788b72ecfcea9cf0a7ed83af4ce88c33e7fdaab0b', description: 'SHA-256 chain over the log (docs/architecture.md): the same inputs give the same hash.' })
  outputHash!: string;
}
