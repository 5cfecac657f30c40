export * from './ledger.state';
export * from './position-math';
export * from './ledger';
