import { KafkaJSProtocolError } from 'kafkajs';
import { retryTransient } from './kafkajs-ports';

/** kafkajs's own error for a protocol code, as a broker would answer it. */
function brokerError(type: string): Error {
  const error = new KafkaJSProtocolError('from the broker');
  Object.defineProperty(error, 'type', { value: type });
  Object.defineProperty(error, 'retriable', { value: false });
  return error;
}

describe('retryTransient', () => {
  it('waits out a fresh broker still loading its group coordinator', async () => {
    let calls = 0;
    const result = await retryTransient(async () => {
      calls++;
      if (calls < 3) throw brokerError(calls === 1 ? 'GROUP_LOAD_IN_PROGRESS' : 'NOT_COORDINATOR_FOR_GROUP');
      return 'offsets';
    });
    expect(result).toBe('offsets');
    expect(calls).toBe(3);
  });

  it('gives up at once on an error that means no', async () => {
    let calls = 0;
    await expect(
      retryTransient(async () => {
        calls++;
        throw brokerError('TOPIC_AUTHORIZATION_FAILED');
      }),
    ).rejects.toThrow('from the broker');
    expect(calls).toBe(1);
  });

  it('gives up after its attempts on a broker that never recovers', async () => {
    let calls = 0;
    await expect(
      retryTransient(async () => {
        calls++;
        throw brokerError('UNKNOWN_TOPIC_OR_PARTITION');
      }, 2),
    ).rejects.toThrow();
    expect(calls).toBe(2);
  });
});
