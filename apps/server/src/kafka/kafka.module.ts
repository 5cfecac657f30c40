import { Global, Module, type DynamicModule } from '@nestjs/common';
import { ClearingModule } from '../clearing/clearing.module';
import { MetricsModule } from '../metrics/metrics.module';
import { KafkaService } from './kafka.service';

/**
 * Kafka inputs in, decisions out (`serve --kafka-brokers …`): the KafkaService
 * runs libs/kafka's shard worker on the ClearingModule's ShardRunner.
 * Imported only when Kafka is enabled; global so that /readyz can inject it
 * (optionally) without importing it.
 */
@Global()
@Module({})
export class KafkaModule {
  static forRoot(): DynamicModule {
    return { module: KafkaModule, imports: [ClearingModule, MetricsModule], providers: [KafkaService], exports: [KafkaService] };
  }
}
