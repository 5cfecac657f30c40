export * from './normal';
export * from './time';
export * from './black76';
export * from './volatility-surface';
export * from './portfolio-greeks';
export * from './settlement';
