import { Module } from '@nestjs/common';
import { ClearingModule } from '../clearing/clearing.module';
import { AccountsController } from './accounts.controller';
import { AccountsService } from './accounts.service';
import { WhatIfController } from './what-if.controller';

/** Account projections over HTTP: read, list by health, what-if. */
@Module({
  imports: [ClearingModule],
  controllers: [AccountsController, WhatIfController],
  providers: [AccountsService],
})
export class AccountsModule {}
