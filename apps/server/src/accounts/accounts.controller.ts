import { Controller, Get, NotFoundException, Param, Query } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { parseTimestamp } from '@clearsim/events';
import { assertMayAccessAccount } from '../auth/access-policy';
import type { Principal } from '../auth/api-keys';
import { Caller } from '../auth/auth.decorators';
import { ApiErrorResponses, ApiGuardedRoute } from '../common/api-responses';
import { AccountsService } from './accounts.service';
import { AccountQueryDto, ListAccountsQueryDto } from './dto/account-query.dto';
import { AccountListResponse, AccountPosition, AccountResponse, Greeks } from './dto/account.response';

const ACCOUNT_EXAMPLE = {
  account: 'a-alice',
  at: '2026-01-01T00:02:00Z',
  position: 8,
  cash: '1000',
  equity: '450',
  initialMargin: '945',
  maintenanceMargin: '472.5',
  status: 'margin-call',
  marginMode: 'cross',
  positions: { 'BTC-PERP': { qty: '1', entryPrice: '10000', mark: '9450', unrealizedPnl: '-550', initialMargin: '945', maintenanceMargin: '472.5', liquidationPrice: '9473.68421053' } },
  freeCollateral: '-495',
  health: '0.95238095',
};

/** Accounts: one (now or at a past time), or a list ranked by health. */
@ApiTags('accounts')
@ApiGuardedRoute()
@ApiExtraModels(AccountPosition, Greeks)
@Controller({ path: 'accounts', version: '1' })
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Get()
  @ApiOperation({ summary: 'List accounts by health', description: 'The accounts the key may see (a venue key: its prefix), optionally of one status; health = equity / maintenance margin, most at risk first.' })
  @ApiOkResponse({
    type: AccountListResponse,
    example: {
      at: '2026-01-01T00:02:00Z',
      position: 8,
      total: 2,
      accounts: [{ account: 'a-alice', status: 'margin-call', health: '0.95238095', cash: '1000', equity: '450', initialMargin: '945', maintenanceMargin: '472.5', freeCollateral: '-495', positions: 1 }],
    },
  })
  @ApiErrorResponses([400, 'An invalid or unknown query parameter.'])
  list(@Query() query: ListAccountsQueryDto, @Caller() principal: Principal): Promise<Record<string, unknown>> {
    return this.accounts.list(principal, { status: query.status, sort: query.sort ?? 'health', limit: query.limit ?? 100 });
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read an account', description: 'Cash, equity, margins, free collateral, health, status and positions with entry, mark and liquidation price. `?at=` reads it as it was then.' })
  @ApiParam({ name: 'id', example: 'a-alice' })
  @ApiOkResponse({ type: AccountResponse, example: ACCOUNT_EXAMPLE })
  @ApiErrorResponses([400, 'An invalid `at` or an unknown query parameter.'], [403, 'The account is outside the venue key\'s prefix.'], [404, 'No such account (at that time).'])
  async get(@Param('id') id: string, @Query() query: AccountQueryDto, @Caller() principal: Principal): Promise<Record<string, unknown>> {
    assertMayAccessAccount(principal, id, 'id');
    const at = query.at === undefined ? undefined : parseTimestamp(query.at);
    const account = await this.accounts.account(id, at);
    if (!account) {
      throw new NotFoundException({ statusCode: 404, error: 'Not Found', message: [`id: no account "${id}"${query.at === undefined ? '' : ` at ${query.at}`} (an account exists once it has a Deposited event)`] });
    }
    return account;
  }
}
