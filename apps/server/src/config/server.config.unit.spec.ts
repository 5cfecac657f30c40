import { parseApiKeys } from '../auth/api-keys';
import { InvalidServerOptions, serverOptionsFromEnvironment, validateServerOptions } from './server.config';
import type { ServerOptions } from './server-options';

const base: ServerOptions = { store: 'memory:', apiKeys: parseApiKeys(['admin-secret-1:admin']) };
const problemsOf = (options: unknown): string[] => {
  try {
    validateServerOptions(options as ServerOptions);
  } catch (error) {
    if (error instanceof InvalidServerOptions) return error.problems;
    throw error;
  }
  return [];
};

describe('validateServerOptions', () => {
  it('returns valid options as given: no value changed, no default added', () => {
    const options: ServerOptions = { ...base, port: 0, maxBatch: 5, kafka: { brokers: ['127.0.0.1:9092'], shards: 2, shard: 1 } };
    expect(validateServerOptions(options)).toBe(options);
    expect(validateServerOptions(base)).toEqual(base);
  });

  it('names every field that is wrong, and what is wrong with it', () => {
    expect(problemsOf({ ...base, port: 70000, maxBodyBytes: 100, logLevel: 'loud' })).toEqual([
      'port: must be at most 65535',
      expect.stringMatching(/^logLevel: /),
      'maxBodyBytes: must be at least 1024',
    ]);
    expect(problemsOf({ ...base, port: 1.5 })).toEqual(['port: must be a whole number']);
    expect(problemsOf({ ...base, store: '' })).toEqual(['store: must not be empty']);
    expect(problemsOf({ ...base, commitDelayMicros: -1 })).toEqual(['commitDelayMicros: must be at least 0']);
    // no "0 for none": an unbounded wait is what the option exists to prevent
    expect(problemsOf({ ...base, requestTimeoutMs: 0 })).toEqual(['requestTimeoutMs: must be at least 100']);
    expect(problemsOf({ ...base, requestTimeoutMs: 3_600_001 })).toEqual(['requestTimeoutMs: must be at most 3600000']);
    expect(problemsOf({ ...base, kafka: { brokers: [] } })).toEqual(['kafka.brokers: needs at least one host:port']);
    expect(problemsOf({ ...base, kafka: { brokers: ['localhost'] } })).toEqual(['kafka.brokers.0: must be host:port']);
    expect(problemsOf({ ...base, kafka: { brokers: ['k:9092'], shards: 2, shard: 2 } })).toEqual(['kafka.shard: must be less than shards']);
    expect(problemsOf({ ...base, kafka: { brokers: ['k:9092'], inputsTopic: 'in put' } })).toEqual([expect.stringMatching(/^kafka.inputsTopic: must be a Kafka name/)]);
  });
});

describe('serverOptionsFromEnvironment', () => {
  it('reads the CLEARSIM_* variables, with the defaults of server-options.ts', () => {
    expect(serverOptionsFromEnvironment({}, 'file:./data')).toEqual({ store: 'file:./data', port: 8080, host: '127.0.0.1', apiKeys: [], logLevel: 'info' });
    const options = serverOptionsFromEnvironment(
      { CLEARSIM_STORE: 'memory:', CLEARSIM_PORT: '0', CLEARSIM_HOST: '0.0.0.0', CLEARSIM_API_KEYS: 'admin-secret-1:admin', CLEARSIM_LOG_LEVEL: 'silent', CLEARSIM_MAX_BODY_BYTES: '2048', CLEARSIM_REQUEST_TIMEOUT_MS: '5000', CLEARSIM_COMMIT_DELAY_US: '0' },
      'file:./data',
    );
    expect(options).toMatchObject({ store: 'memory:', port: 0, host: '0.0.0.0', logLevel: 'silent', maxBodyBytes: 2048, requestTimeoutMs: 5000, commitDelayMicros: 0 });
    expect(options.apiKeys.map((key) => key.principal.role)).toEqual(['admin']);
  });

  it('refuses a bad value naming its variable (CLEARSIM_PORT=eighty used to become NaN)', () => {
    expect(() => serverOptionsFromEnvironment({ CLEARSIM_PORT: 'eighty', CLEARSIM_LOG_LEVEL: 'loud', CLEARSIM_MAX_BODY_BYTES: '1e9' }, 'memory:')).toThrow(
      new InvalidServerOptions([
        'CLEARSIM_PORT: "eighty" is not a whole number from 0 to 65535',
        'CLEARSIM_MAX_BODY_BYTES: "1e9" is not a whole number from 1024 to 1073741824',
        'CLEARSIM_LOG_LEVEL: "loud" is not one of fatal, error, warn, info, debug, trace, silent',
      ]),
    );
    expect(() => serverOptionsFromEnvironment({ CLEARSIM_API_KEYS: 'short:admin' }, 'memory:')).toThrow(/CLEARSIM_API_KEYS: .*at least 8 characters/);
    expect(() => serverOptionsFromEnvironment({ CLEARSIM_COMMIT_DELAY_US: '2ms' }, 'memory:')).toThrow(new InvalidServerOptions(['CLEARSIM_COMMIT_DELAY_US: "2ms" is not a whole number from 0 to 1000000']));
    expect(() => serverOptionsFromEnvironment({ CLEARSIM_REQUEST_TIMEOUT_MS: '30s' }, 'memory:')).toThrow(new InvalidServerOptions(['CLEARSIM_REQUEST_TIMEOUT_MS: "30s" is not a whole number from 100 to 3600000']));
  });
});
