import { Module, ValidationPipe, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { LoggerModule } from 'nestjs-pino';
import { AccountsModule } from './accounts/accounts.module';
import { AdminModule } from './admin/admin.module';
import { AuthModule } from './auth/auth.module';
import { ClearingModule } from './clearing/clearing.module';
import { DomainErrorsFilter } from './common/domain-errors.filter';
import { requestIdOf } from './common/fastify-body';
import type { HttpRequest } from './common/http-types';
import { VALIDATION_OPTIONS } from './common/validation';
import { ConfigModule } from './config/config.module';
import type { ServerOptions } from './config/server-options';
import { HealthModule } from './health/health.module';
import { KafkaModule } from './kafka/kafka.module';
import { LogModule } from './log/log.module';
import { MetricsModule } from './metrics/metrics.module';
import { StreamModule } from './stream/stream.module';

/** Routes too frequent to log (probes and scrapes). */
const QUIET_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

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
        ConfigModule.forRoot(options),
        LoggerModule.forRoot({
          pinoHttp: {
            level: options.logLevel ?? 'info',
            // the id Fastify gave the request (common/fastify-body.ts), which it also answers as x-request-id
            genReqId: (request) => (request as { id?: string }).id ?? requestIdOf(request),
            customProps: (request) => {
              const principal = (request as HttpRequest).principal;
              return principal ? { key: principal.name } : {};
            },
            serializers: {
              req: (request: { id: string; method: string; url: string }) => ({ id: request.id, method: request.method, url: request.url }),
              res: (response: { statusCode: number }) => ({ statusCode: response.statusCode }),
            },
            autoLogging: { ignore: (request) => QUIET_ROUTES.has((request.url ?? '').split('?')[0]!) },
            customLogLevel: (_request, response, error) => (error || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'info'),
          },
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
        ...(options.kafka ? [KafkaModule.forRoot()] : []),
      ],
      providers: [
        { provide: APP_PIPE, useValue: new ValidationPipe(VALIDATION_OPTIONS) },
        { provide: APP_FILTER, useClass: DomainErrorsFilter },
      ],
    };
  }
}
