import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { MetricsModule } from '../metrics/metrics.module';
import { SubmitInputsHandler } from './commands/submit-inputs.handler';
import { BatchInputPipe, SingleInputPipe } from './input-event.pipe';
import { InputsController } from './inputs.controller';
import { ShardService } from './shard.service';

/** The shard (one ShardRunner over the store), the SubmitInputs command, and inputs over HTTP. */
@Module({
  imports: [CqrsModule, MetricsModule],
  controllers: [InputsController],
  providers: [ShardService, SubmitInputsHandler, SingleInputPipe, BatchInputPipe],
  exports: [ShardService],
})
export class ClearingModule {}
