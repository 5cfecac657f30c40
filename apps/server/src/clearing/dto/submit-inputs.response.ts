import { ApiProperty } from '@nestjs/swagger';
import { Count } from '../../common/api-responses';

/** An event as the log holds it, with its position: `{position, type, v, ts, …}` in canonical JSON (the fields of its type: docs/models.md). */
export class LoggedEvent {
  @ApiProperty({ type: 'integer', minimum: 1, example: 8, description: 'Its position in the log (1-based).' })
  position!: number;

  @ApiProperty({ example: 'MarginCallIssued', description: 'The event type: an input (as posted to POST /v1/inputs) or a decision the core made.' })
  type!: string;

  @ApiProperty({ type: 'integer', enum: [1], description: 'Schema version.' })
  v!: number;

  @ApiProperty({ type: String, format: 'date-time', example: '2026-01-01T00:02:00Z' })
  ts!: string;
}

/** The positions an append took, first to last. */
export class AppendedRange {
  @ApiProperty({ type: 'integer', minimum: 1, example: 7 })
  from!: number;

  @ApiProperty({ type: 'integer', minimum: 1, example: 8 })
  to!: number;
}

/** The answer to a submission (POST /v1/inputs, /v1/inputs/batch, /v1/admin/rules, /v1/admin/clock). */
export class SubmitInputsResponse {
  @Count({ example: 1, description: 'Inputs appended.' })
  accepted!: number;

  @Count({ example: 0, description: 'Inputs ignored as repeats of an idempotency key (tradeId, requestId, eventId): nothing appended for them.' })
  duplicates!: number;

  @ApiProperty({ type: () => AppendedRange, nullable: true, description: 'Positions of the appended events (inputs and decisions); null when nothing was appended.' })
  appended!: AppendedRange | null;

  @Count({ example: 8, description: 'The log\'s head after the submission.' })
  head!: number;

  @ApiProperty({ type: () => [LoggedEvent], description: 'The decisions the inputs caused, in log order, with their positions.' })
  decisions!: LoggedEvent[];
}
