import { join } from 'node:path';
import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { clockIso } from '@clearsim/clearing';
import { loadRules, presetNames, presetsDir } from '../../../cli/src/io/rules-source';
import type { Principal } from '../auth/api-keys';
import { AdminOnly, Caller } from '../auth/auth.decorators';
import { SubmitInputsCommand, type SubmitInputsResult } from '../clearing/commands/submit-inputs.command';
import { SubmitInputsResponse } from '../clearing/dto/submit-inputs.response';
import { ShardService } from '../clearing/shard.service';
import { ApiErrorResponses, ApiGuardedRoute, ApiJsonBodyRoute } from '../common/api-responses';
import { badRequest } from '../common/validation';
import { ActivateRulesDto, AdvanceClockDto } from './dto/admin.dto';
import { ResetResponse } from './dto/reset.response';

/** Admin only: rules, the simulated clock, reset. Each is an input like any other (except reset), so it is logged and replayed. */
@ApiTags('admin')
@ApiGuardedRoute()
@ApiErrorResponses([403, 'A venue key: these routes need an admin key.'])
@AdminOnly()
@Controller({ path: 'admin', version: '1' })
export class AdminController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly shard: ShardService,
  ) {}

  @Post('rules')
  @HttpCode(200)
  @ApiOperation({ summary: 'Activate rules', description: 'Appends a RulesActivated input with a preset or an inline rules object; every account is re-checked under the new rules.' })
  @ApiOkResponse({ description: 'As POST /v1/inputs.', type: SubmitInputsResponse })
  @ApiJsonBodyRoute()
  @ApiErrorResponses(
    [409, 'The server is one shard of several (inputs come through Kafka only); nothing was appended.'],
    [422, 'The core refused the rules (reason `code`); nothing was appended.'],
  )
  async activateRules(@Body() body: ActivateRulesDto, @Caller() principal: Principal): Promise<SubmitInputsResult> {
    if ((body.preset === undefined) === (body.rules === undefined)) throw badRequest(['body: give exactly one of preset and rules']);
    let rules = body.rules;
    if (body.preset !== undefined) {
      const presets = presetNames();
      if (!presets.includes(body.preset)) throw badRequest([`preset: unknown preset "${body.preset}" (presets: ${presets.join(', ')})`]);
      rules = loadRules(join(presetsDir(), `${body.preset}.yaml`)).rules;
    }
    const ts = body.ts ?? (await this.clock());
    if (ts === undefined) throw badRequest(['ts: is required while the log is empty (there is no shard clock yet)']);
    return this.submit({ type: 'RulesActivated', ts, rules, ...(body.eventId ? { eventId: body.eventId } : {}) }, principal);
  }

  @Post('clock')
  @HttpCode(200)
  @ApiOperation({ summary: 'Advance the simulated clock', description: 'Appends a ClockAdvanced input: timers fire on the log\'s clock only, so this is how a test makes a grace period expire.' })
  @ApiOkResponse({
    description: 'As POST /v1/inputs; the decisions are what the passing of time caused: each expired grace timer at its deadline (its `ts`), logged before the clock input.',
    type: SubmitInputsResponse,
    example: { accepted: 1, duplicates: 0, appended: { from: 10, to: 13 }, head: 13, decisions: [{ position: 10, type: 'GracePeriodExpired', v: 1, ts: '2026-01-01T01:02:00Z', account: 'a-alice', deadline: '2026-01-01T01:02:00Z' }] },
  })
  @ApiJsonBodyRoute()
  @ApiErrorResponses(
    [409, 'The server is one shard of several (inputs come through Kafka only); nothing was appended.'],
    [422, 'The core refused the time (reason `code`, e.g. clock-went-backwards); nothing was appended.'],
  )
  advanceClock(@Body() body: AdvanceClockDto, @Caller() principal: Principal): Promise<SubmitInputsResult> {
    return this.submit({ type: 'ClockAdvanced', ts: body.ts, ...(body.eventId ? { eventId: body.eventId } : {}) }, principal);
  }

  @Post('reset')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Start a fresh, empty log',
    description: 'Only for the embedded file store (the log file is deleted; its snapshots no longer match and are ignored) and memory: stores. Waits for queued submissions; SSE clients get an `event: reset`. Meant for test suites.',
  })
  @ApiOkResponse({ type: ResetResponse, example: { store: 'file:./data', head: 0 } })
  @ApiErrorResponses([409, 'The store is neither a file: nor a memory: store.'])
  async reset(): Promise<{ store: string; head: number }> {
    await this.shard.reset();
    return { store: this.shard.storeUrl, head: this.shard.head };
  }

  private async clock(): Promise<string | undefined> {
    return (await this.shard.read((engine) => clockIso(engine.state))) ?? undefined;
  }

  private submit(input: Record<string, unknown>, principal: Principal): Promise<SubmitInputsResult> {
    return this.commandBus.execute(new SubmitInputsCommand([input], principal, false));
  }
}
