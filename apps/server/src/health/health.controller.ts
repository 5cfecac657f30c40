import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators';
import { ShardService } from '../clearing/shard.service';
import type { HttpResponse } from '../common/http-types';

/** Liveness and readiness (public, unversioned). */
@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(private readonly shard: ShardService) {}

  @Get('healthz')
  @ApiOperation({ summary: 'Liveness: the process is up' })
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  health(): { status: string } {
    return { status: 'ok' };
  }

  @Get('readyz')
  @ApiOperation({ summary: 'Readiness: the store is open and the log replayed' })
  @ApiOkResponse({ schema: { example: { status: 'ready', store: 'file:./data', head: 9, restoredFrom: 0 } } })
  @ApiServiceUnavailableResponse({ schema: { example: { status: 'opening', store: 'file:./data' } } })
  ready(@Res({ passthrough: true }) response: HttpResponse): Record<string, unknown> {
    const ready = this.shard.status === 'ready';
    const body = {
      status: this.shard.status,
      store: this.shard.storeUrl,
      ...(ready ? { head: this.shard.head, restoredFrom: this.shard.restoredFrom } : {}),
      ...(this.shard.error ? { error: this.shard.error.message } : {}),
    };
    response.statusCode = ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE;
    return body;
  }
}
