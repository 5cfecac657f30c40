import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { statusOf } from '@clearsim/clearing';
import { mayAccessAccount, visibleEvent } from '../auth/access-policy';
import type { Principal } from '../auth/api-keys';
import { Caller } from '../auth/auth.decorators';
import { ShardService } from '../clearing/shard.service';
import { ApiErrorResponses, ApiGuardedRoute } from '../common/api-responses';
import { LogQueryDto } from './dto/log-query.dto';
import { LogPageResponse, SummaryResponse } from './dto/log.response';

/** The log itself (inputs and decisions, in order), and the shard's summary. */
@ApiTags('log')
@ApiGuardedRoute()
@Controller({ version: '1' })
export class LogController {
  constructor(private readonly shard: ShardService) {}

  @Get('log')
  @ApiOperation({
    summary: 'Read the log from a position',
    description:
      'Events in log order, each `{position, type, v, ts, …}` in canonical JSON (what the store holds and outputHash is computed over). ' +
      'A venue key sees market-wide events and the events naming one of its accounts, with every other venue\'s account id replaced by "*redacted*" (account, buyer, seller, counterparty), only its own shares of a socialized loss, and no postedBy/eventId of inputs another principal posted (docs/idempotency.md); positions keep their gaps. Page on with `from=next` while next <= head.',
  })
  @ApiOkResponse({
    type: LogPageResponse,
    example: {
      from: 1,
      head: 9,
      next: 3,
      events: [
        { position: 1, type: 'RulesActivated', v: 1, ts: '2026-01-01T00:00:00Z', rules: { name: 'demo' } },
        { position: 2, type: 'Deposited', v: 1, ts: '2026-01-01T00:00:00Z', account: 'a-alice', asset: 'USD', amount: '1000' },
      ],
    },
  })
  @ApiErrorResponses([400, 'An invalid or unknown query parameter.'])
  async read(@Query() query: LogQueryDto, @Caller() principal: Principal): Promise<Record<string, unknown>> {
    const from = query.from ?? 1;
    const limit = query.limit ?? 100;
    const store = this.shard.store;
    const head = this.shard.head;
    const events: Record<string, unknown>[] = [];
    let next = from;
    if (from <= head) {
      for await (const { position, event } of store.read(from, { toPosition: head })) {
        next = position + 1;
        const visible = visibleEvent(principal, event);
        if (visible) events.push({ position, ...visible });
        if (events.length >= limit) break;
      }
    }
    return { from, head, next, events };
  }

  @Get('summary')
  @ApiOperation({
    summary: 'The shard\'s summary',
    description:
      'An admin key: the `clearsim run --json` counters and outputHash of the whole log (no per-account detail), and the head. ' +
      'A venue key: the head, rules, clock and insurance fund, and its own accounts counted by status — no market-wide counter or hash (they would describe other venues\' accounts).',
  })
  @ApiOkResponse({ type: SummaryResponse })
  summary(@Caller() principal: Principal): Promise<Record<string, unknown>> {
    return this.shard.read((engine, head) => {
      const { accounts: _none, ...summary } = engine.summary({ accounts: false });
      if (principal.role === 'admin') return { store: this.shard.storeUrl, position: head, ...summary };
      const byStatus: Record<string, number> = {};
      let accounts = 0;
      for (const id of engine.state.ledger.accounts.keys()) {
        if (!mayAccessAccount(principal, id)) continue;
        accounts++;
        const status = statusOf(engine.state, id);
        byStatus[status] = (byStatus[status] ?? 0) + 1;
      }
      return { store: this.shard.storeUrl, position: head, rules: summary.rules, clock: summary.clock, insuranceFund: summary.insuranceFund, scope: `${principal.prefix}*`, accounts, byStatus };
    });
  }
}
