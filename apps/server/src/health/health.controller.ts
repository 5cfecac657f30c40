import { Controller, Get, Header, HttpStatus, Optional, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, HealthIndicatorService, type HealthCheckResult, type HealthIndicatorResult } from '@nestjs/terminus';
import { Public } from '../auth/auth.decorators';
import { ShardService } from '../clearing/shard.service';
import { ApiErrorResponses } from '../common/api-responses';
import type { HttpResponse } from '../common/http-types';
import { KafkaService } from '../kafka/kafka.service';
import { HealthResponse, ReadinessResponse } from './dto/health.response';

const READY_EXAMPLE = {
  status: 'ready',
  store: 'file:./data',
  head: 9,
  restoredFrom: 0,
  checks: { status: 'ok', info: { store: { status: 'up', head: 9 } }, error: {}, details: { store: { status: 'up', head: 9 } } },
};

/**
 * Liveness and readiness (public, unversioned), as @nestjs/terminus health
 * checks: /healthz checks nothing (the process answers: a liveness probe must
 * not fail because a dependency does), /readyz checks the store and, with
 * Kafka, the shard worker. /readyz keeps its flat fields (status, store,
 * head, restoredFrom, error, kafka) and adds terminus's result as `checks`.
 */
@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly shard: ShardService,
    @Optional() private readonly kafka?: KafkaService,
  ) {}

  @Get('healthz')
  @Header('cache-control', 'no-cache, no-store, must-revalidate')
  @ApiOperation({ summary: 'Liveness: the process is up', description: 'A terminus health check with no indicator: always `ok` while the process answers.' })
  @ApiOkResponse({ type: HealthResponse, example: { status: 'ok', info: {}, error: {}, details: {} } })
  @ApiErrorResponses(500)
  healthz(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('readyz')
  @Header('cache-control', 'no-cache, no-store, must-revalidate')
  @ApiOperation({
    summary: 'Readiness: the store is open, the log replayed and (with Kafka) the shard worker consuming',
    description:
      'Terminus checks `store` (up once the log is replayed: head, restoredFrom) and, with Kafka, `kafka` (up while the worker runs), under `checks`. ' +
      'With Kafka, `kafka` carries the worker: topics, group, shard, committed offset, published position, lag and counters ' +
      '(consumed, applied, duplicates, skipped, deadLettered, decisionsPublished); status `kafka-starting`, `kafka-failed`, `kafka-stopping` → 503.',
  })
  @ApiOkResponse({ type: ReadinessResponse, example: READY_EXAMPLE })
  @ApiServiceUnavailableResponse({
    description: 'Not ready yet (or any more): the same body, saying why.',
    type: ReadinessResponse,
    example: { status: 'opening', store: 'file:./data', checks: { status: 'error', info: {}, error: { store: { status: 'down', state: 'opening' } }, details: { store: { status: 'down', state: 'opening' } } } },
  })
  @ApiErrorResponses(500)
  async ready(@Res({ passthrough: true }) response: HttpResponse): Promise<Record<string, unknown>> {
    const checks = await this.runChecks();
    const shardReady = this.shard.status === 'ready';
    const kafkaStatus = this.kafka?.status;
    const ready = checks.status === 'ok';
    const body = {
      status: ready ? 'ready' : shardReady ? `kafka-${kafkaStatus}` : this.shard.status,
      store: this.shard.storeUrl,
      ...(shardReady ? { head: this.shard.head, restoredFrom: this.shard.restoredFrom } : {}),
      ...(this.shard.error ? { error: this.shard.error.message } : {}),
      ...(this.kafka ? { kafka: this.kafka.describe() } : {}),
      checks,
    };
    response.statusCode = ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE;
    return body;
  }

  /** Terminus's result, whether up (returned) or down (thrown as a 503 carrying the same result). */
  private async runChecks(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([() => this.storeCheck(), ...(this.kafka ? [() => this.kafkaCheck(this.kafka!)] : [])]);
    } catch (error) {
      if (error instanceof ServiceUnavailableException) return error.getResponse() as HealthCheckResult;
      throw error;
    }
  }

  private storeCheck(): HealthIndicatorResult {
    const check = this.indicator.check('store');
    if (this.shard.status === 'ready') return check.up({ head: this.shard.head, restoredFrom: this.shard.restoredFrom });
    return check.down({ state: this.shard.status, ...(this.shard.error ? { message: this.shard.error.message } : {}) });
  }

  private kafkaCheck(kafka: KafkaService): HealthIndicatorResult {
    const check = this.indicator.check('kafka');
    return kafka.status === 'running' ? check.up({ state: kafka.status }) : check.down({ state: kafka.status });
  }
}
