import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { Count } from '../../common/api-responses';

/** Terminus's indicator map: name → `{status: up|down, …its data}`. */
const INDICATORS: { type: 'object'; additionalProperties: SchemaObject } = {
  type: 'object',
  additionalProperties: { type: 'object', properties: { status: { type: 'string', enum: ['up', 'down'] } }, required: ['status'], additionalProperties: true },
};

/** GET /healthz: a @nestjs/terminus result with no indicator. */
export class HealthResponse {
  @ApiProperty({ enum: ['ok'] })
  status!: 'ok';

  @ApiProperty({ ...INDICATORS, description: 'The indicators that are up (none: liveness checks nothing).' })
  info!: Record<string, unknown>;

  @ApiProperty({ ...INDICATORS, description: 'The indicators that are down (none).' })
  error!: Record<string, unknown>;

  @ApiProperty({ ...INDICATORS, description: 'Every indicator (none).' })
  details!: Record<string, unknown>;
}

/** A @nestjs/terminus health check result: `ok` when every indicator is up, else `error`. */
export class HealthCheckResponse {
  @ApiProperty({ enum: ['ok', 'error', 'shutting_down'] })
  status!: 'ok' | 'error' | 'shutting_down';

  @ApiPropertyOptional({ ...INDICATORS, description: 'The indicators that are up, with their data (`store`: head, restoredFrom; `kafka`: state).' })
  info?: Record<string, unknown>;

  @ApiPropertyOptional({ ...INDICATORS, description: 'The indicators that are down, with why (`store`: state and message; `kafka`: state).' })
  error?: Record<string, unknown>;

  @ApiProperty({ ...INDICATORS, description: 'Every indicator.' })
  details!: Record<string, unknown>;
}

/** GET /readyz, ready (200) or not (503). */
export class ReadinessResponse {
  @ApiProperty({
    example: 'ready',
    description: '`ready`; otherwise the shard\'s state (`opening`, `failed`, `closing`, `closed`) or, with the shard ready, `kafka-<status>` (`kafka-starting`, `kafka-failed`, `kafka-stopping`).',
  })
  status!: string;

  @ApiProperty({ example: 'file:./data', description: 'The event store\'s URL.' })
  store!: string;

  @Count({ optional: true, example: 9, description: 'Once the shard is ready: the log\'s head.' })
  head?: number;

  @Count({ optional: true, example: 0, description: 'Once the shard is ready: the snapshot position the replay started from (0: none).' })
  restoredFrom?: number;

  @ApiPropertyOptional({ description: 'Why the shard failed to open.' })
  error?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'With Kafka: the worker (topics, group, shard, committed offset, published position, lag, counters consumed, applied, duplicates, skipped, deadLettered, decisionsPublished).',
  })
  kafka?: Record<string, unknown>;

  @ApiProperty({ type: HealthCheckResponse, description: 'The @nestjs/terminus checks: `store`, and `kafka` with Kafka.' })
  checks!: HealthCheckResponse;
}
