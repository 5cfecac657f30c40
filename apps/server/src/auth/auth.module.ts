import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { API_KEYS, ApiKeyGuard, AUTH_OPTIONS, type AuthOptions } from './api-key.guard';
import type { ApiKey } from './api-keys';

/** API-key authentication for every route (a global guard). */
@Module({})
export class AuthModule {
  static forRoot(keys: readonly ApiKey[], options: AuthOptions = { publicMetrics: false }): DynamicModule {
    return {
      module: AuthModule,
      providers: [
        { provide: API_KEYS, useValue: new Map(keys.map((key) => [key.secret, key.principal])) },
        { provide: AUTH_OPTIONS, useValue: options },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
      ],
    };
  }
}
