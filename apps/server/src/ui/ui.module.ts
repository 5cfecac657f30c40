import { Module } from '@nestjs/common';
import { UiController } from './ui.controller';

/** GET /ui: the live monitoring page (docs/live.md). */
@Module({ controllers: [UiController] })
export class UiModule {}
