import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
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

  @Count({ example: 9, optional: true, description: 'Admin keys only (market-wide).' }) eventsIn?: number;
  @Count({ example: 0, optional: true, description: 'Admin keys only (market-wide).' }) duplicates?: number;
  @Count({ example: 5, optional: true, description: 'Admin keys only (market-wide).' }) decisions?: number;
  @Count({ example: 1, optional: true, description: 'Admin keys only (market-wide).' }) marginCalls?: number;
  @Count({ example: 0, optional: true, description: 'Admin keys only (market-wide).' }) marginCallsMet?: number;
  @Count({ example: 1, optional: true, description: 'Admin keys only (market-wide).' }) gracePeriodsExpired?: number;
  @Count({ example: 1, optional: true, description: 'Admin keys only (market-wide).' }) liquidations?: number;
  @Count({ example: 1, optional: true, description: 'Admin keys only (market-wide).' }) positionsLiquidated?: number;
  @Count({ example: 0, optional: true, description: 'Admin keys only (market-wide).' }) bankruptcies?: number;
  @Count({ example: 0, optional: true, description: 'Admin keys only (market-wide).' }) insuranceDraws?: number;
  @Count({ example: 0, optional: true, description: 'Admin keys only (market-wide).' }) autoDeleverages?: number;
  @Count({ example: 0, optional: true, description: 'Admin keys only (market-wide).' }) lossesSocialized?: number;
  @Count({ example: 0, optional: true, description: 'Admin keys only (market-wide).' }) withdrawalsApproved?: number;
  @Count({ example: 0, optional: true, description: 'Admin keys only (market-wide).' }) withdrawalsRejected?: number;

  @DecimalText({ example: '0', optional: true, description: 'Total drawn from the insurance fund (admin keys only).' })
  insuranceDrawn?: string;

  @DecimalText({ example: '1000', description: 'The insurance account\'s cash now.' })
  insuranceFund!: string;

  @ApiPropertyOptional({ pattern: '^[0-9a-f]{64}$', example: '6332442a02fc5769fde84580ad4098073a53b67f3c72da59a28edc7051ca64ba', description: 'SHA-256 over the decisions (docs/architecture.md): the same inputs give the same hash (admin keys only).' })
  outputHash?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { deficitCovered: '500', profitTaken: '2500', overshoot: '2000', accountsDeleveraged: 1, notionalDeleveraged: '8500' },
    description: 'Once an ADL fill happened (admin keys only): the deficit the ADL fills covered, the profit they took, the overshoot (taken − covered), the accounts and notional deleveraged (docs/rules.md "ADL policies and overshoot").',
  })
  adl?: Record<string, string | number>;

  @ApiPropertyOptional({ example: 'a-*', description: 'Venue keys: the accounts the key may see.' })
  scope?: string;

  @Count({ optional: true, example: 3, description: 'Venue keys: how many of its accounts the shard holds.' })
  accounts?: number;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'integer', minimum: 0 }, example: { healthy: 2, 'margin-call': 1 }, description: 'Venue keys: its accounts counted by status.' })
  byStatus?: Record<string, number>;
}
