import { Module, ValidationPipe, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { LoggerModule } from 'nestjs-pino';
import { AccountsModule } from './accounts/accounts.module';
import { AdminModule } from './admin/admin.module';
import { AuthModule } from './auth/auth.module';
import { ClearingModule } from './clearing/clearing.module';
import { DomainErrorsFilter } from './common/domain-errors.filter';
import { VALIDATION_OPTIONS } from './common/validation';
import type { ServerOptions } from './config/server-options';
import { serverConfigModule } from './config/server.config';
import { HealthModule } from './health/health.module';
import { KafkaModule } from './kafka/kafka.module';
import { LogModule } from './log/log.module';
import { MetricsModule } from './metrics/metrics.module';
import { StreamModule } from './stream/stream.module';
import { UiModule } from './ui/ui.module';

/**
 * The clearsim service: one module per capability around the shard
 * (ClearingModule). The core decides; these modules move bytes.
 */
@Module({})
export class AppModule {
  static forRoot(options: ServerOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        serverConfigModule(options),
        LoggerModule.forRoot({
          pinoHttp: { level: options.logLevel ?? 'info' },
          // no per-request middleware: main.ts logs each answered request from a Fastify hook (common/request-log.ts)
          forRoutes: [],
        }),
        CqrsModule.forRoot(),
        AuthModule.forRoot(options.apiKeys, { publicMetrics: options.publicMetrics === true }),
        MetricsModule,
        ClearingModule,
        AccountsModule,
        LogModule,
        StreamModule,
        AdminModule,
        HealthModule,
        UiModule,
        ...(options.kafka ? [KafkaModule.forRoot()] : []),
      ],
      providers: [
        { provide: APP_PIPE, useValue: new ValidationPipe(VALIDATION_OPTIONS) },
        { provide: APP_FILTER, useClass: DomainErrorsFilter },
      ],
    };
  }
}
