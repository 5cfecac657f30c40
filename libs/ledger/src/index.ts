import * as positionMath from './position-math';

export * from './holder-set';
export * from './ledger.state';
export * from './ledger';
export * from './position-map';
export * from './option-marks';
export * from './price-history';

export type { FillResult } from './position-math';
// plain properties rather than `export *` for the position arithmetic of every margin check (see libs/money/src/index.ts)
export const { applyFill, tradeNotional, positionValue, unrealizedPnl, positionEquityValue, entryPrice } = positionMath;
