export * from './timestamp';
export * from './input-events';
export * from './decision-events';
export * from './codec';
export * from './output-hash';
export * from './account-fields';
export * from './sha256';
export * from './json-limits';
export { fastDecodeInput, writeDecimalDigits } from './fast-codec';
