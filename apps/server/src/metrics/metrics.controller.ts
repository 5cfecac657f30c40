import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { MetricsScrape } from '../auth/auth.decorators';
import { ApiErrorResponses, ApiKeyAuth } from '../common/api-responses';
import type { HttpResponse } from '../common/http-types';
import { MetricsService } from './metrics.service';

/** Prometheus scrape endpoint (unversioned): an admin key, or public with `serve --public-metrics`. */
@ApiTags('health')
@ApiKeyAuth()
@MetricsScrape()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @ApiOperation({ summary: 'Prometheus metrics', description: 'The Prometheus text exposition format: clearsim_* counters and histograms (inputs, decisions, appends, requests) and, unless disabled, the process metrics.' })
  @ApiOkResponse({ description: 'The metrics.', content: { 'text/plain': { schema: { type: 'string', example: '# HELP clearsim_log_head Position of the last event of the log (0: empty)\n# TYPE clearsim_log_head gauge\nclearsim_log_head 9\n' } } } })
  @ApiErrorResponses(401, 403, 500)
  @Header('Cache-Control', 'no-store')
  async scrape(@Res() response: HttpResponse): Promise<void> {
    const body = await this.metrics.render();
    await response.header('Content-Type', this.metrics.contentType).send(body);
  }
}
