import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Principal } from './api-keys';
import type { HttpRequest } from '../common/http-types';

export const IS_PUBLIC = 'clearsim:public';
export const ADMIN_ONLY = 'clearsim:admin-only';

/** No API key needed (health, readiness, metrics). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** Only an admin key (rules, clock, reset): a venue key gets 403. */
export const AdminOnly = () => SetMetadata(ADMIN_ONLY, true);

/** The principal the ApiKeyGuard authenticated. */
export const Caller = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<HttpRequest>().principal;
  if (!principal) throw new Error('no principal on a guarded route (is the route @Public()?)');
  return principal;
});
