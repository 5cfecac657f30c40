// first: the wording of a missing field for every schema below (and every other library's)
import './zod-messages';
export * from './rules.schema';
export * from './adl.schema';
export * from './fixed.schema';
export * from './id-characters';
export * from './id.schema';
export * from './rules';
export * from './bounded-yaml';
export * from './yaml-library';
export * from './venue-liquidation.schema';
export * from './venue-margin.schema';
