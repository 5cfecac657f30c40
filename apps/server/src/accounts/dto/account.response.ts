import { ApiProperty } from '@nestjs/swagger';
import { ClockText, Count, DecimalMap, DecimalText, MapOf } from '../../common/api-responses';
import { ACCOUNT_STATUSES } from './account-query.dto';

/** Option greeks, 8 significant digits (float model outputs, not ledger amounts). */
export class Greeks {
  @ApiProperty({ type: Number }) delta!: number;
  @ApiProperty({ type: Number }) gamma!: number;
  @ApiProperty({ type: Number }) vega!: number;
  @ApiProperty({ type: Number }) theta!: number;
}

/** One open position of an account, at the current mark. */
export class AccountPosition {
  @DecimalText({ example: '1', description: 'Signed quantity (negative: short).' }) qty!: string;
  @DecimalText({ example: '10000' }) entryPrice!: string;
  @DecimalText({ example: '9450' }) mark!: string;
  @DecimalText({ example: '-550' }) unrealizedPnl!: string;
  @DecimalText({ example: '945' }) initialMargin!: string;
  @DecimalText({ example: '472.5' }) maintenanceMargin!: string;
  @DecimalText({ optional: true, description: 'Isolated-margin accounts: the margin set aside for this position.' }) isolatedMargin?: string;

  @DecimalText({ nullable: true, example: '9473.68421053', description: 'The mark at which the account (or this isolated position) would fall below maintenance margin; null when there is none (system accounts, fully collateralized).' })
  liquidationPrice!: string | null;

  @ApiProperty({ type: () => Greeks, required: false, description: 'Options only.' })
  greeks?: Greeks;
}

/** Units of one leveraged token an account holds (docs/rules.md §12.1): shown, never margin collateral. */
export class TokenHoldingView {
  @DecimalText({ example: '30' }) units!: string;
  @DecimalText({ example: '70', description: "The fund's NAV / units outstanding, truncated." }) navPerUnit!: string;
  @DecimalText({ example: '2100', description: 'What a redemption would pay now (rounded down); not margin collateral.' }) value!: string;
}

/** GET /v1/accounts/{id}: an account now, or as it was at `?at=`. */
export class AccountResponse {
  @ApiProperty({ example: 'a-alice' }) account!: string;
  @ClockText({ description: 'The log\'s clock at the read (null before the first event).' }) at!: string | null;
  @Count({ example: 8, description: 'The log position the account was read at.' }) position!: number;
  @DecimalText({ example: '1000' }) cash!: string;
  @DecimalMap({ optional: true, example: { BTC: '0.5' }, description: 'Non-cash collateral held, per asset.' }) collateral?: Record<string, string>;
  @DecimalText({ example: '450' }) equity!: string;
  @DecimalText({ example: '945' }) initialMargin!: string;
  @DecimalText({ example: '472.5' }) maintenanceMargin!: string;
  @ApiProperty({ enum: ACCOUNT_STATUSES, example: 'margin-call' }) status!: string;
  @ApiProperty({ enum: ['cross', 'isolated'], example: 'cross' }) marginMode!: 'cross' | 'isolated';
  @MapOf(Greeks, { optional: true, description: 'Accounts holding options: the greeks per underlying.' }) greeks?: Record<string, Greeks>;
  @MapOf(TokenHoldingView, { optional: true, description: 'Accounts holding leveraged token units: per token.' }) tokens?: Record<string, TokenHoldingView>;
  @MapOf(AccountPosition, { description: 'Open positions by instrument.' }) positions!: Record<string, AccountPosition>;
  @DecimalText({ example: '-495', description: 'equity − initial margin.' }) freeCollateral!: string;
  @DecimalText({ nullable: true, example: '0.95238095', description: 'equity / maintenance margin, rounded down; null without a maintenance requirement.' }) health!: string | null;
}

/** One line of GET /v1/accounts. */
export class AccountListRow {
  @ApiProperty({ example: 'a-alice' }) account!: string;
  @ApiProperty({ enum: ACCOUNT_STATUSES, example: 'margin-call' }) status!: string;
  @DecimalText({ nullable: true, example: '0.95238095', description: 'equity / maintenance margin, rounded down; null without a maintenance requirement.' }) health!: string | null;
  @DecimalText({ example: '1000' }) cash!: string;
  @DecimalText({ example: '450' }) equity!: string;
  @DecimalText({ example: '945' }) initialMargin!: string;
  @DecimalText({ example: '472.5' }) maintenanceMargin!: string;
  @DecimalText({ example: '-495' }) freeCollateral!: string;
  @Count({ example: 1, description: 'Open positions.' }) positions!: number;
}

/** GET /v1/accounts. */
export class AccountListResponse {
  @ClockText({ description: 'The log\'s clock at the read (null before the first event).' }) at!: string | null;
  @Count({ example: 8, description: 'The log position the list was read at.' }) position!: number;
  @Count({ example: 2, description: 'Accounts matching (before `limit`).' }) total!: number;
  @ApiProperty({ type: () => [AccountListRow] }) accounts!: AccountListRow[];
}

/** A position in a what-if (before or after the fill). */
export class WhatIfPosition {
  @DecimalText({ example: '1' }) qty!: string;
  @DecimalText({ example: '10000' }) entryPrice!: string;
  @DecimalText({ example: '1000' }) initialMargin!: string;
  @DecimalText({ example: '500' }) maintenanceMargin!: string;
  @DecimalText({ nullable: true, example: '9473.68421053' }) liquidationPrice!: string | null;
}

/** An account's margin figures on one side of a what-if. */
export class WhatIfFigures {
  @DecimalText({ example: '1000' }) cash!: string;
  @DecimalText({ example: '1000' }) equity!: string;
  @DecimalText({ example: '1000' }) initialMargin!: string;
  @DecimalText({ example: '500' }) maintenanceMargin!: string;
  @DecimalText({ example: '0' }) freeCollateral!: string;
  @ApiProperty() meetsInitialMargin!: boolean;
  @ApiProperty() meetsMaintenanceMargin!: boolean;
  @ApiProperty({ type: () => WhatIfPosition, nullable: true, description: 'The position in the instrument; null when there is none.' }) position!: WhatIfPosition | null;
}

/** after − before. */
export class WhatIfChange {
  @DecimalText({ example: '0' }) equity!: string;
  @DecimalText({ example: '1000' }) initialMargin!: string;
  @DecimalText({ example: '500' }) maintenanceMargin!: string;
  @DecimalText({ example: '-1000' }) freeCollateral!: string;
}

/** POST /v1/what-if/trade. */
export class WhatIfResponse {
  @ApiProperty({ example: 'a-alice' }) account!: string;
  @ApiProperty({ example: 'BTC-PERP' }) instrument!: string;
  @ApiProperty({ enum: ['buy', 'sell'] }) side!: 'buy' | 'sell';
  @DecimalText({ example: '1' }) qty!: string;
  @DecimalText({ example: '10000' }) price!: string;
  @ClockText({ description: 'The log\'s clock (null before the first event).' }) at!: string | null;
  @Count({ example: 5, description: 'The log position the state was read at.' }) position!: number;
  @DecimalText({ example: '10000', description: 'The instrument\'s current mark.' }) mark!: string;
  @ApiProperty({ type: () => WhatIfFigures }) before!: WhatIfFigures;
  @ApiProperty({ type: () => WhatIfFigures }) after!: WhatIfFigures;
  @ApiProperty({ type: () => WhatIfChange }) change!: WhatIfChange;
}
