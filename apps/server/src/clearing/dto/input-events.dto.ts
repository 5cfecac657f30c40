import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsOptional, ValidateNested } from 'class-validator';
import type { InputType } from '@clearsim/events';
import { DecimalField, IdField, IsAbsentOr, IsJsonObject, IsOneOf, TimestampField } from '../../common/validation';

/**
 * The input events (libs/events/src/input-events.ts) as class-validator DTOs: the HTTP edge's
 * first check and the OpenAPI schema. The body is a union discriminated by
 * `type`; InputEventPipe picks the class by `type` and validates it. The
 * one codec (`decodeEvent(raw, 'input')`, zod) then runs on the same body in
 * the command handler, exactly as for JSONL files and Kafka.
 */
abstract class InputEventDto {
  abstract type: InputType;

  @TimestampField({ example: '2026-01-01T00:00:00Z', description: 'When it happened (ISO-8601 UTC). Never older than the shard clock.' })
  ts!: string;

  @IdField({ optional: true, example: 'venue-a:evt-42', description: 'Idempotency key: an input whose eventId was already applied is ignored.' })
  eventId?: string;

  @ApiPropertyOptional({ enum: [1], description: 'Schema version (1).' })
  @IsAbsentOr()
  @IsOneOf([1])
  v?: number;
}

export class RulesActivatedDto extends InputEventDto {
  @ApiProperty({ enum: ['RulesActivated'] })
  @IsOneOf(['RulesActivated'])
  type!: 'RulesActivated';

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'A rules object (docs/rules.md), validated in depth by @clearsim/rules. Presets: POST /v1/admin/rules.',
    example: {
      name: 'demo',
      model: 'cross',
      marginCall: { graceSeconds: 3600 },
      accounts: { insurance: 'insurance', fees: 'fees', backstop: 'backstop' },
      instruments: { 'BTC-PERP': { tiers: [{ initialRate: '0.1', maintenanceRate: '0.05' }] } },
    },
  })
  @IsJsonObject()
  rules!: Record<string, unknown>;
}

export class InstrumentListedDto extends InputEventDto {
  @ApiProperty({ enum: ['InstrumentListed'] })
  @IsOneOf(['InstrumentListed'])
  type!: 'InstrumentListed';

  @IdField({ example: 'BTC-PERP' })
  instrument!: string;

  @ApiProperty({ enum: ['perpetual', 'future', 'option', 'index'], example: 'perpetual' })
  @IsOneOf(['perpetual', 'future', 'option', 'index'])
  kind!: string;

  @IdField({ optional: true, example: 'BTC' })
  underlying?: string;

  @IdField({ optional: true, example: 'USD', description: 'Default USD.' })
  settlementAsset?: string;

  @DecimalField({ optional: true, positive: true, example: '1', description: 'Contract multiplier (default 1).' })
  multiplier?: string | number;

  @TimestampField({ optional: true, example: '2026-03-27T08:00:00Z' })
  expiry?: string;

  @ApiPropertyOptional({ enum: ['call', 'put'] })
  @IsAbsentOr()
  @IsOneOf(['call', 'put'])
  optionType?: string;

  @DecimalField({ optional: true, positive: true, example: '60000' })
  strike?: string | number;

  @ApiPropertyOptional({ enum: ['linear', 'inverse'], description: 'inverse: coin-margined, multiplier the face value in the quote currency, settled in settlementAsset (the coin). Default linear.' })
  @IsAbsentOr()
  @IsOneOf(['linear', 'inverse'])
  payoff?: string;
}

export class DepositedDto extends InputEventDto {
  @ApiProperty({ enum: ['Deposited'] })
  @IsOneOf(['Deposited'])
  type!: 'Deposited';

  @IdField({ example: 'a-alice', description: 'Account id (an account exists once it has a deposit).' })
  account!: string;

  @IdField({ example: 'USD' })
  asset!: string;

  @DecimalField({ positive: true, example: '1000' })
  amount!: string | number;
}

export class WithdrawalRequestedDto extends InputEventDto {
  @ApiProperty({ enum: ['WithdrawalRequested'] })
  @IsOneOf(['WithdrawalRequested'])
  type!: 'WithdrawalRequested';

  @IdField({ example: 'w1', description: 'Idempotency key of the request.' })
  requestId!: string;

  @IdField({ example: 'a-alice' })
  account!: string;

  @IdField({ example: 'USD' })
  asset!: string;

  @DecimalField({ positive: true, example: '10' })
  amount!: string | number;
}

export class PriceUpdatedDto extends InputEventDto {
  @ApiProperty({ enum: ['PriceUpdated'] })
  @IsOneOf(['PriceUpdated'])
  type!: 'PriceUpdated';

  @IdField({ example: 'BTC-PERP' })
  instrument!: string;

  @DecimalField({ positive: true, example: '10000' })
  price!: string | number;
}

export class TradeExecutedDto extends InputEventDto {
  @ApiProperty({ enum: ['TradeExecuted'] })
  @IsOneOf(['TradeExecuted'])
  type!: 'TradeExecuted';

  @IdField({ example: 't1', description: 'Idempotency key of the trade.' })
  tradeId!: string;

  @IdField({ example: 'BTC-PERP' })
  instrument!: string;

  @IdField({ example: 'a-alice' })
  buyer!: string;

  @IdField({ example: 'a-mm' })
  seller!: string;

  @DecimalField({ positive: true, example: '1' })
  qty!: string | number;

  @DecimalField({ positive: true, example: '10000' })
  price!: string | number;

  @DecimalField({ optional: true, example: '0', description: 'Default 0; negative is a rebate.' })
  buyerFee?: string | number;

  @DecimalField({ optional: true, example: '0', description: 'Default 0; negative is a rebate.' })
  sellerFee?: string | number;
}

export class FundingRateAppliedDto extends InputEventDto {
  @ApiProperty({ enum: ['FundingRateApplied'] })
  @IsOneOf(['FundingRateApplied'])
  type!: 'FundingRateApplied';

  @IdField({ example: 'BTC-PERP' })
  instrument!: string;

  @DecimalField({ example: '0.0001', description: 'Positive: longs pay shorts.' })
  rate!: string | number;
}

export class InstrumentSettledDto extends InputEventDto {
  @ApiProperty({ enum: ['InstrumentSettled'] })
  @IsOneOf(['InstrumentSettled'])
  type!: 'InstrumentSettled';

  @IdField({ example: 'BTC-0327' })
  instrument!: string;

  @DecimalField({ positive: true, example: '61000' })
  price!: string | number;
}

export class VolatilityUpdatedDto extends InputEventDto {
  @ApiProperty({ enum: ['VolatilityUpdated'] })
  @IsOneOf(['VolatilityUpdated'])
  type!: 'VolatilityUpdated';

  @IdField({ example: 'BTC' })
  underlying!: string;

  @DecimalField({ positive: true, example: '0.65' })
  volatility!: string | number;

  @DecimalField({ optional: true, positive: true, example: '60000' })
  strike?: string | number;

  @TimestampField({ optional: true, example: '2026-03-27T08:00:00Z' })
  expiry?: string;
}

/** One mark of a MarketMoved. */
export class MarkDto {
  @IdField({ example: 'BTC-PERP' })
  instrument!: string;

  @DecimalField({ positive: true, example: '10000' })
  price!: string | number;
}

/** One implied volatility of a MarketMoved: the whole underlying, or one (strike, expiry) point with both given. */
export class VolatilityDto {
  @IdField({ example: 'BTC' })
  underlying!: string;

  @DecimalField({ positive: true, example: '0.65' })
  volatility!: string | number;

  @DecimalField({ optional: true, positive: true, example: '60000' })
  strike?: string | number;

  @TimestampField({ optional: true, example: '2026-03-27T08:00:00Z' })
  expiry?: string;
}

export class MarketMovedDto extends InputEventDto {
  @ApiProperty({ enum: ['MarketMoved'] })
  @IsOneOf(['MarketMoved'])
  type!: 'MarketMoved';

  @ApiPropertyOptional({
    type: [MarkDto],
    description: 'New marks, each instrument at most once. All marks and volatilities are folded first, then every affected account is margined once.',
    example: [
      { instrument: 'BTC-PERP', price: '9900' },
      { instrument: 'BTC-0327', price: '10010' },
    ],
  })
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => MarkDto)
  marks?: MarkDto[];

  @ApiPropertyOptional({ type: [VolatilityDto], description: 'New implied volatilities, applied after the marks (at least one mark or volatility in all).' })
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => VolatilityDto)
  volatilities?: VolatilityDto[];
}

/** One leg of a MultiLegTradeExecuted (a TradeExecuted without its own id). */
export class TradeLegDto {
  @IdField({ example: 'BTC-PERP' })
  instrument!: string;

  @IdField({ example: 'a-alice' })
  buyer!: string;

  @IdField({ example: 'a-mm' })
  seller!: string;

  @DecimalField({ positive: true, example: '1' })
  qty!: string | number;

  @DecimalField({ positive: true, example: '10000' })
  price!: string | number;

  @DecimalField({ optional: true, example: '0', description: 'Default 0; negative is a rebate.' })
  buyerFee?: string | number;

  @DecimalField({ optional: true, example: '0', description: 'Default 0; negative is a rebate.' })
  sellerFee?: string | number;
}

export class MultiLegTradeExecutedDto extends InputEventDto {
  @ApiProperty({ enum: ['MultiLegTradeExecuted'] })
  @IsOneOf(['MultiLegTradeExecuted'])
  type!: 'MultiLegTradeExecuted';

  @IdField({ example: 'spread-1', description: 'Idempotency key of the whole trade (shared with TradeExecuted ids).' })
  tradeId!: string;

  @ApiProperty({
    type: [TradeLegDto],
    description: 'The legs, booked together in this order and margined once after the last; refused as a whole if any leg is invalid.',
    example: [
      { instrument: 'BTC-PERP', buyer: 'a-alice', seller: 'a-mm', qty: '1', price: '10000' },
      { instrument: 'BTC-0327', buyer: 'a-mm', seller: 'a-alice', qty: '1', price: '10100' },
    ],
  })
  @IsArray()
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @Type(() => TradeLegDto)
  legs!: TradeLegDto[];
}

export class TokenUnitsCreatedDto extends InputEventDto {
  @ApiProperty({ enum: ['TokenUnitsCreated'] })
  @IsOneOf(['TokenUnitsCreated'])
  type!: 'TokenUnitsCreated';

  @IdField({ example: 'c1', description: 'Idempotency key of the creation.' })
  requestId!: string;

  @IdField({ example: 'a-alice', description: 'The holder: pays NAV per unit × units (rounded up) from its cash.' })
  account!: string;

  @IdField({ example: 'BTCBULL', description: 'A leveraged token of the rules (tokens).' })
  token!: string;

  @DecimalField({ positive: true, example: '10' })
  units!: string | number;

  @DecimalField({ optional: true, positive: true, example: '250', description: 'Issue price per unit: only for the first creation of a token with no units outstanding.' })
  nav?: string | number;
}

export class TokenUnitsRedeemedDto extends InputEventDto {
  @ApiProperty({ enum: ['TokenUnitsRedeemed'] })
  @IsOneOf(['TokenUnitsRedeemed'])
  type!: 'TokenUnitsRedeemed';

  @IdField({ example: 'r1', description: 'Idempotency key of the redemption.' })
  requestId!: string;

  @IdField({ example: 'a-alice', description: 'The holder: receives NAV per unit × units (rounded down).' })
  account!: string;

  @IdField({ example: 'BTCBULL' })
  token!: string;

  @DecimalField({ positive: true, example: '10' })
  units!: string | number;
}

export class ClockAdvancedDto extends InputEventDto {
  @ApiProperty({ enum: ['ClockAdvanced'] })
  @IsOneOf(['ClockAdvanced'])
  type!: 'ClockAdvanced';
}

/** The DTO class of each input type (exhaustive: a new input type fails to compile until it has one). */
export const INPUT_DTOS: { [T in InputType]: new () => InputEventDto } = {
  RulesActivated: RulesActivatedDto,
  InstrumentListed: InstrumentListedDto,
  Deposited: DepositedDto,
  WithdrawalRequested: WithdrawalRequestedDto,
  PriceUpdated: PriceUpdatedDto,
  TradeExecuted: TradeExecutedDto,
  FundingRateApplied: FundingRateAppliedDto,
  InstrumentSettled: InstrumentSettledDto,
  VolatilityUpdated: VolatilityUpdatedDto,
  MarketMoved: MarketMovedDto,
  MultiLegTradeExecuted: MultiLegTradeExecutedDto,
  TokenUnitsCreated: TokenUnitsCreatedDto,
  TokenUnitsRedeemed: TokenUnitsRedeemedDto,
  ClockAdvanced: ClockAdvancedDto,
};

export const INPUT_DTO_CLASSES = Object.values(INPUT_DTOS);

/** OpenAPI schema of one input event: oneOf the DTOs, discriminated by `type`. */
export const INPUT_EVENT_SCHEMA = {
  oneOf: INPUT_DTO_CLASSES.map((dto) => ({ $ref: getSchemaPath(dto) })),
  discriminator: { propertyName: 'type', mapping: Object.fromEntries(Object.entries(INPUT_DTOS).map(([type, dto]) => [type, getSchemaPath(dto)])) },
};
