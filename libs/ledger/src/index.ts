export * from './ledger.state';
export * from './position-math';
export * from './ledger';
export * from './option-marks';
export * from './price-history';
