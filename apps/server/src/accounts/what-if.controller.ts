import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { assertMayAccessAccount } from '../auth/access-policy';
import type { Principal } from '../auth/api-keys';
import { Caller } from '../auth/auth.decorators';
import { ApiErrorResponses, ApiGuardedRoute, ApiJsonBodyRoute } from '../common/api-responses';
import { AccountsService } from './accounts.service';
import { WhatIfResponse } from './dto/account.response';
import { WhatIfTradeDto } from './dto/what-if-trade.dto';

/** What-if: a proposed trade's effect on an account's margin, computed by the core on a copy. */
@ApiTags('accounts')
@ApiGuardedRoute()
@Controller({ path: 'what-if', version: '1' })
export class WhatIfController {
  constructor(private readonly accounts: AccountsService) {}

  @Post('trade')
  @HttpCode(200)
  @ApiOperation({
    summary: 'How would a trade change an account\'s margin?',
    description: 'Equity, IM, MM, free collateral, the position and its liquidation price before and after the proposed fill, at current marks. Nothing is appended; the live state is not touched; nothing is decided.',
  })
  @ApiOkResponse({
    type: WhatIfResponse,
    example: {
      account: 'a-alice',
      instrument: 'BTC-PERP',
      side: 'buy',
      qty: '1',
      price: '10000',
      at: '2026-01-01T00:00:00Z',
      position: 5,
      mark: '10000',
      before: { cash: '1000', equity: '1000', initialMargin: '0', maintenanceMargin: '0', freeCollateral: '1000', meetsInitialMargin: true, meetsMaintenanceMargin: true, position: null },
      after: {
        cash: '1000',
        equity: '1000',
        initialMargin: '1000',
        maintenanceMargin: '500',
        freeCollateral: '0',
        meetsInitialMargin: true,
        meetsMaintenanceMargin: true,
        position: { qty: '1', entryPrice: '10000', initialMargin: '1000', maintenanceMargin: '500', liquidationPrice: '9473.68421053' },
      },
      change: { equity: '0', initialMargin: '1000', maintenanceMargin: '500', freeCollateral: '-1000' },
    },
  })
  @ApiJsonBodyRoute()
  @ApiErrorResponses([403, 'The account is outside the venue key\'s prefix.'], [422, 'Unknown account or instrument, no rules yet, … (reason `code`).'])
  trade(@Body() body: WhatIfTradeDto, @Caller() principal: Principal): Promise<Record<string, unknown>> {
    assertMayAccessAccount(principal, body.account);
    return this.accounts.whatIf(body);
  }
}
