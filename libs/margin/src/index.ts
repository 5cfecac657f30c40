export * from './tiers';
export * from './risk';
export * from './liquidation-price';
export * from './price-bands';
export * from './portfolio/scenario-margin';
export * from './collateral';
export * from './var/var-margin';
export * from './lending';
