import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { freshStore, rawExchange } from './server-harness';

/** `clearsim serve` as a user runs it: the built CLI (`npm test` builds first). */
const CLEARSIM = join(__dirname, '..', '..', '..', 'bin', 'clearsim');
/** KAFKA_BROKERS would turn Kafka on (infra/services.sh exports it); these tests are HTTP only. */
const { KAFKA_BROKERS: _kafka, ...ENV } = process.env;

describe('clearsim serve', () => {
  it('prints where it listens and its keys by name, serves, and exits 0 on SIGTERM', async () => {
    const child = spawn(CLEARSIM, ['serve', '--store', freshStore(), '--port', '0', '--api-key', 'admin-key-123:admin', '--log-level', 'silent', '--request-timeout-ms', '400'], { stdio: ['ignore', 'pipe', 'pipe'], env: ENV });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
        if (match && stderr.includes('API keys')) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    expect(stderr).toContain(`OpenAPI:  ${url}/docs`);
    expect(stderr).toContain(`live:     ${url}/ui`);
    expect(stderr).toMatch(/API keys: admin#[0-9a-f]{8} \(admin\)/);
    expect(stderr).not.toContain('admin-key-123');
    expect(await (await fetch(`${url}/readyz`)).json()).toMatchObject({ status: 'ready', head: 0 });
    expect((await fetch(`${url}/v1/summary`, { headers: { 'x-api-key': 'admin-key-123' } })).status).toBe(200);
    // --request-timeout-ms reaches the server: a request that stops halfway is a 408 naming it
    const stalled = await rawExchange(url, 'POST /v1/inputs HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 10\r\n\r\n{', 3_000);
    expect(stalled).toMatchObject({ status: 408, body: { message: ['request: not received in full within 400 ms (serve --request-timeout-ms)'] } });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it.each([
    [['--api-key', 'short:admin'], /--api-key: .*at least 8 characters/],
    [['--api-key', 'venue-key-1:venue'], /a venue key needs a non-empty account prefix/],
    [['--port', 'eighty'], /--port: "eighty" is not a whole number/],
    [['--max-body-bytes', '1e9'], /--max-body-bytes: "1e9" is not a whole number/],
    [['--max-body-bytes', '100'], /--max-body-bytes: "100" is less than 1024/],
    [['--request-timeout-ms', '0'], /--request-timeout-ms: "0" is not a whole number from 100 to 3600000/],
    [['--request-timeout-ms', '1e4'], /--request-timeout-ms: "1e4" is not a whole number from 100 to 3600000/],
    [['--shards', '2', '--shard', '1'], /--shards, --shard: need --kafka-brokers \(or KAFKA_BROKERS\)/],
    [['--kafka-brokers', '127.0.0.1:19092', '--shards', '2', '--shard', '2'], /--shard: 2 is not a shard of 2 \(0 to 1\)/],
    [['--kafka-brokers', 'localhost'], /--kafka-brokers: "localhost" is not host:port/],
    [['--kafka-brokers', '127.0.0.1:19092', '--inputs-topic', 'in put'], /--inputs-topic: "in put" is not a Kafka name/],
    [['--kafka-brokers', '127.0.0.1:19092', '--kafka-consumer-thread', 'yes'], /--kafka-consumer-thread: "yes" is not one of on, off, auto/],
    [['--kafka-consumer-thread', 'on'], /--kafka-consumer-thread: need --kafka-brokers \(or KAFKA_BROKERS\)/],
  ])('exits 2 on bad usage %j', (args, message) => {
    const result = spawnSync(CLEARSIM, ['serve', '--store', freshStore(), ...args], { encoding: 'utf8', env: ENV });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
