import { Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { RecordMetricsHandler } from './record-metrics.handler';

/** Prometheus metrics: the registry, /metrics, and the event handler that feeds it. */
@Module({
  controllers: [MetricsController],
  providers: [MetricsService, RecordMetricsHandler],
  exports: [MetricsService],
})
export class MetricsModule {}
