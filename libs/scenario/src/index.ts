export * from './scenario.schema';
export * from './scenario';
export * from './generate';
export * from './prng';
export * from './stress-paths';
