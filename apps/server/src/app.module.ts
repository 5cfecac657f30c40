import { randomUUID } from 'node:crypto';
import { Module, ValidationPipe, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { LoggerModule } from 'nestjs-pino';
import { AccountsModule } from './accounts/accounts.module';
import { AdminModule } from './admin/admin.module';
import { AuthModule } from './auth/auth.module';
import { ClearingModule } from './clearing/clearing.module';
import { DomainErrorsFilter } from './common/domain-errors.filter';
import type { HttpRequest } from './common/http-types';
import { VALIDATION_OPTIONS } from './common/validation';
import type { ServerOptions } from './config/server-options';
import { serverConfigModule } from './config/server.config';
import { HealthModule } from './health/health.module';
import { KafkaModule } from './kafka/kafka.module';
import { LogModule } from './log/log.module';
import { MetricsModule } from './metrics/metrics.module';
import { StreamModule } from './stream/stream.module';
import { UiModule } from './ui/ui.module';

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
        serverConfigModule(options),
        LoggerModule.forRoot({
          pinoHttp: {
            level: options.logLevel ?? 'info',
            genReqId: (request, response) => {
              const given = request.headers['x-request-id'];
              const id = typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
              response.setHeader('x-request-id', id);
              return id;
            },
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
