import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import type { AccountStatus } from '@clearsim/clearing';
import { IsOneOf, TimestampField, WholeNumberQuery } from '../../common/validation';

export class AccountQueryDto {
  @TimestampField({ optional: true, example: '2026-01-01T00:02:00Z', description: 'Time travel: the account as it was after the last event with ts <= at (the log folded up to there, deciding nothing).' })
  at?: string;
}

export const ACCOUNT_STATUSES: readonly AccountStatus[] = ['healthy', 'margin-call', 'liquidated', 'bankrupt', 'system'];
export const MAX_LIST_LIMIT = 10_000;

export class ListAccountsQueryDto {
  @ApiPropertyOptional({ enum: ACCOUNT_STATUSES, description: 'Only accounts with this status.' })
  @IsOptional()
  @IsOneOf(ACCOUNT_STATUSES)
  status?: AccountStatus;

  @ApiPropertyOptional({ enum: ['health', 'id'], default: 'health', description: 'health: equity / maintenance margin ascending, most at risk first (then accounts without maintenance margin, system accounts last); id: by account id.' })
  @IsOptional()
  @IsOneOf(['health', 'id'])
  sort?: 'health' | 'id';

  @WholeNumberQuery({ default: 100, minimum: 1, maximum: MAX_LIST_LIMIT, description: 'Most accounts to return (decimal digits).' })
  limit?: number;
}
