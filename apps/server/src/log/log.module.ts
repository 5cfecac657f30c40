import { Module } from '@nestjs/common';
import { ClearingModule } from '../clearing/clearing.module';
import { LogController } from './log.controller';

/** Reading the log and the shard summary over HTTP. */
@Module({
  imports: [ClearingModule],
  controllers: [LogController],
})
export class LogModule {}
