import { installFastRecordDecoding } from './fast-records';

/**
 * Imported first by the consumer thread (consumer-thread.ts), before anything there loads kafkajs: its fetch
 * decoding is replaced only if the replacement is in place when kafkajs loads. `CLEARSIM_KAFKA_FAST_RECORDS=0`
 * keeps kafkajs's own decoding (for comparison).
 */
export const fastRecordsInstalled = process.env.CLEARSIM_KAFKA_FAST_RECORDS === '0' ? false : installFastRecordDecoding();
