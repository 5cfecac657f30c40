import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { MetricsScrape } from '../auth/auth.decorators';
import type { HttpResponse } from '../common/http-types';
import { MetricsService } from './metrics.service';

/** Prometheus scrape endpoint (unversioned): an admin key, or public with `serve --public-metrics`. */
@ApiExcludeController()
@MetricsScrape()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async scrape(@Res() response: HttpResponse): Promise<void> {
    const body = await this.metrics.render();
    response.setHeader('Content-Type', this.metrics.contentType);
    response.end(body);
  }
}
