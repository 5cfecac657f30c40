import { Module } from '@nestjs/common';
import { ClearingModule } from '../clearing/clearing.module';
import { HealthController } from './health.controller';

/** /healthz and /readyz. */
@Module({
  imports: [ClearingModule],
  controllers: [HealthController],
})
export class HealthModule {}
