import { ApiProperty } from '@nestjs/swagger';
import { DecimalField, IdField, IsOneOf } from '../../common/validation';

export class WhatIfTradeDto {
  @IdField({ example: 'a-alice' })
  account!: string;

  @IdField({ example: 'BTC-PERP' })
  instrument!: string;

  @ApiProperty({ enum: ['buy', 'sell'], example: 'buy' })
  @IsOneOf(['buy', 'sell'])
  side!: 'buy' | 'sell';

  @DecimalField({ positive: true, example: '1' })
  qty!: string | number;

  @DecimalField({ positive: true, example: '10000' })
  price!: string | number;

  @DecimalField({ optional: true, example: '0', description: 'Fee the account would pay (default 0; negative is a rebate).' })
  fee?: string | number;
}
