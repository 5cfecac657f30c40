import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Principal } from './api-keys';
import type { HttpRequest } from '../common/http-types';

export const IS_PUBLIC = 'clearsim:public';
export const ADMIN_ONLY = 'clearsim:admin-only';
export const METRICS = 'clearsim:metrics';

/** No API key needed (health, readiness, the OpenAPI document). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** The Prometheus scrape: an admin key, or no key with `publicMetrics` (serve --public-metrics). */
export const MetricsScrape = () => SetMetadata(METRICS, true);

/** Only an admin key (rules, clock, reset): a venue key gets 403. */
export const AdminOnly = () => SetMetadata(ADMIN_ONLY, true);

/** The principal the ApiKeyGuard authenticated. */
export const Caller = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<HttpRequest>().principal;
  if (!principal) throw new Error('no principal on a guarded route (is the route @Public()?)');
  return principal;
});
