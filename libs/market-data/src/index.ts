export * from './bar-path';
export * from './csv-position';
export * from './epoch';
export * from './layouts';
export * from './market-data-import';
export * from './nul-byte-scan';
export * from './trade-marks';
