import { Controller, Get, HttpStatus, Optional, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators';
import { ShardService } from '../clearing/shard.service';
import { ApiErrorResponses } from '../common/api-responses';
import type { HttpResponse } from '../common/http-types';
import { KafkaService } from '../kafka/kafka.service';
import { HealthResponse, ReadinessResponse } from './dto/health.response';

/** Liveness and readiness (public, unversioned). */
@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly shard: ShardService,
    @Optional() private readonly kafka?: KafkaService,
  ) {}

  @Get('healthz')
  @ApiOperation({ summary: 'Liveness: the process is up' })
  @ApiOkResponse({ type: HealthResponse, example: { status: 'ok' } })
  @ApiErrorResponses(500)
  health(): { status: string } {
    return { status: 'ok' };
  }

  @Get('readyz')
  @ApiOperation({
    summary: 'Readiness: the store is open, the log replayed and (with Kafka) the shard worker consuming',
    description:
      'With Kafka, `kafka` carries the worker: topics, group, shard, committed offset, published position, lag and counters ' +
      '(consumed, applied, duplicates, skipped, deadLettered, decisionsPublished); status `kafka-starting`, `kafka-failed`, `kafka-stopping` → 503.',
  })
  @ApiOkResponse({ type: ReadinessResponse, example: { status: 'ready', store: 'file:./data', head: 9, restoredFrom: 0 } })
  @ApiServiceUnavailableResponse({ description: 'Not ready yet (or any more): the same body, saying why.', type: ReadinessResponse, example: { status: 'opening', store: 'file:./data' } })
  @ApiErrorResponses(500)
  ready(@Res({ passthrough: true }) response: HttpResponse): Record<string, unknown> {
    const shardReady = this.shard.status === 'ready';
    const kafkaStatus = this.kafka?.status;
    const ready = shardReady && (kafkaStatus === undefined || kafkaStatus === 'running');
    const body = {
      status: ready ? 'ready' : shardReady ? `kafka-${kafkaStatus}` : this.shard.status,
      store: this.shard.storeUrl,
      ...(shardReady ? { head: this.shard.head, restoredFrom: this.shard.restoredFrom } : {}),
      ...(this.shard.error ? { error: this.shard.error.message } : {}),
      ...(this.kafka ? { kafka: this.kafka.describe() } : {}),
    };
    response.statusCode = ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE;
    return body;
  }
}
