import { Module } from '@nestjs/common';
import { ClearingModule } from '../clearing/clearing.module';
import { MetricsModule } from '../metrics/metrics.module';
import { DecisionStreamHub } from './decision-stream.hub';
import { DecisionsStreamController } from './decisions-stream.controller';
import { StreamDecisionsHandler } from './stream-decisions.handler';

/** Server-sent events of the decisions, fed from the event bus. */
@Module({
  imports: [ClearingModule, MetricsModule],
  controllers: [DecisionsStreamController],
  providers: [DecisionStreamHub, StreamDecisionsHandler],
})
export class StreamModule {}
