export * from './returns';
export * from './var-es';
export * from './ewma';
export * from './dynamic-margin';
export * from './stats';
export * from './backtest';
