import { consumerThreadOn, DEFAULT_CONSUMER_THREAD, parseConsumerThreadSetting } from './threaded-consumer';

describe('--kafka-consumer-thread / CLEARSIM_KAFKA_CONSUMER_THREAD', () => {
  it('auto puts kafkajs on a thread of its own only with a second core to run it; on and off whatever the cores', () => {
    expect(DEFAULT_CONSUMER_THREAD).toBe('auto');
    expect([1, 2, 8].map((cores) => consumerThreadOn('auto', cores))).toEqual([false, true, true]);
    expect([1, 2].map((cores) => consumerThreadOn('on', cores))).toEqual([true, true]);
    expect([1, 2].map((cores) => consumerThreadOn('off', cores))).toEqual([false, false]);
  });

  it('reads on, off and auto (any case, spaces around); anything else is an error naming the field', () => {
    expect(parseConsumerThreadSetting(' ON ', 'F')).toBe('on');
    expect(parseConsumerThreadSetting('off', 'F')).toBe('off');
    expect(parseConsumerThreadSetting('Auto', 'F')).toBe('auto');
    expect(() => parseConsumerThreadSetting('1', 'CLEARSIM_KAFKA_CONSUMER_THREAD')).toThrow('CLEARSIM_KAFKA_CONSUMER_THREAD: "1" is not one of on, off, auto');
  });
});
