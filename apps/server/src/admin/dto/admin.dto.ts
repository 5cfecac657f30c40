import { ApiPropertyOptional } from '@nestjs/swagger';
import { IdField, IsAbsentOr, IsJsonObject, TimestampField } from '../../common/validation';

export class ActivateRulesDto {
  @IdField({ optional: true, example: 'crypto-cross', description: 'A preset: the name of a file of libs/rules/presets (crypto-cross, portfolio-margin, ccp-span, …). Exactly one of preset and rules.' })
  preset?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'A rules object (docs/rules.md). Exactly one of preset and rules.' })
  @IsAbsentOr()
  @IsJsonObject()
  rules?: Record<string, unknown>;

  @TimestampField({ optional: true, example: '2026-01-01T00:00:00Z', description: 'When the rules take effect. Default: the shard clock (required while the log is empty).' })
  ts?: string;

  @IdField({ optional: true, description: 'Idempotency key.' })
  eventId?: string;
}

export class AdvanceClockDto {
  @TimestampField({ example: '2026-01-01T02:00:00Z', description: 'The new time of the log (not older than the shard clock). Grace periods whose deadline it passes expire.' })
  ts!: string;

  @IdField({ optional: true, description: 'Idempotency key.' })
  eventId?: string;
}
