import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Count } from '../../common/api-responses';

/** GET /healthz. */
export class HealthResponse {
  @ApiProperty({ enum: ['ok'] })
  status!: 'ok';
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
}
