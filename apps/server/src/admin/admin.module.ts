import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { ClearingModule } from '../clearing/clearing.module';
import { AdminController } from './admin.controller';

/** Admin endpoints: rules, clock, reset. */
@Module({
  imports: [CqrsModule, ClearingModule],
  controllers: [AdminController],
})
export class AdminModule {}
