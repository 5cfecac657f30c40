import { ForbiddenException, Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { HttpRequest } from '../common/http-types';
import type { Principal } from './api-keys';
import { ADMIN_ONLY, IS_PUBLIC, METRICS } from './auth.decorators';

/** Injection token: secret → principal. */
export const API_KEYS = Symbol('API_KEYS');

/** Injection token of AuthOptions. */
export const AUTH_OPTIONS = Symbol('AUTH_OPTIONS');

export interface AuthOptions {
  /** `/metrics` (@MetricsScrape) answers without a key; otherwise it needs an admin key. */
  publicMetrics: boolean;
}

/**
 * The global guard: every route needs a known key (`x-api-key: KEY`, or
 * `Authorization: Bearer KEY`) unless it is @Public() — 401 without one or
 * with an unknown one; @AdminOnly() routes — and @MetricsScrape() unless
 * `publicMetrics` — answer 403 to a venue key. Scope
 * checks on account ids (403) are done where the ids are known (access-policy.ts).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(API_KEYS) private readonly keys: ReadonlyMap<string, Principal>,
    @Inject(AUTH_OPTIONS) private readonly options: AuthOptions,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const metrics = this.reflector.getAllAndOverride<boolean>(METRICS, targets) === true;
    if (metrics && this.options.publicMetrics) return true;
    const request = context.switchToHttp().getRequest<HttpRequest>();
    const secret = keyOf(request);
    if (secret === undefined) {
      throw new UnauthorizedException({ statusCode: 401, error: 'Unauthorized', message: ['x-api-key: an API key is required (x-api-key header, or Authorization: Bearer)'] });
    }
    const principal = this.keys.get(secret);
    if (!principal) throw new UnauthorizedException({ statusCode: 401, error: 'Unauthorized', message: ['x-api-key: unknown API key'] });
    request.principal = principal;
    if (principal.role !== 'admin' && (metrics || this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, targets))) {
      throw new ForbiddenException({ statusCode: 403, error: 'Forbidden', message: [`x-api-key: ${principal.name} is a venue key; this route needs an admin key`] });
    }
    return true;
  }
}

/** The key a request carries: `x-api-key`, else `Authorization: Bearer`. */
export function keyOf(request: HttpRequest): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  const authorization = request.headers.authorization;
  const bearer = authorization && /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return bearer ? bearer[1] : undefined;
}
