// Test helpers for event-store adapters. Not exported from index.ts: the
// contract suite uses jest globals and only loads inside jest.
export { describeEventStoreContract, type EventStoreFixture } from './event-store.contract';
export { sampleEventLine, sampleEvents } from './test-events';
