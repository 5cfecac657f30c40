import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ClearingModule } from '../clearing/clearing.module';
import { HealthController } from './health.controller';

/**
 * /healthz and /readyz (@nestjs/terminus). Terminus's own error log is off:
 * a 503 from /readyz while the log opens is expected, and the probe routes
 * are kept out of the request log too (app.module.ts).
 */
@Module({
  imports: [ClearingModule, TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
})
export class HealthModule {}
