export * from './rules.schema';
export * from './adl.schema';
export * from './fixed.schema';
export * from './rules';
export * from './bounded-yaml';
