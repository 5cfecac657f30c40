import { connect } from 'node:net';
import { at } from '../../../libs/clearing/src/testing/given';
import { ADMIN, bootServer, DROP, openStream, rawExchange, SETUP, TRADE, type TestServer } from './server-harness';

/**
 * A request must arrive within --request-timeout-ms (ServerOptions.requestTimeoutMs). Fastify's default is no
 * limit: a body shorter than its Content-Length held its connection open for as long as the client liked.
 */
describe('the request timeout', () => {
  const TIMEOUT_MS = 300;
  let server: TestServer;
  const head = async (): Promise<number> => (await server.http.get('/v1/log').set('x-api-key', ADMIN)).body.head;

  beforeAll(async () => {
    server = await bootServer({ requestTimeoutMs: TIMEOUT_MS });
    expect((await server.http.post('/v1/inputs/batch').set('x-api-key', ADMIN).send([...SETUP, TRADE])).status).toBe(200);
  });
  afterAll(() => server?.close());

  const request = (path: string, body: string, sent = body) =>
    `POST ${path} HTTP/1.1\r\nHost: x\r\nx-api-key: ${ADMIN}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${sent}`;

  it.each([
    ['a body shorter than its Content-Length', request('/v1/inputs', JSON.stringify(DROP), JSON.stringify(DROP).slice(0, 20))],
    ['a body that never starts', request('/v1/admin/clock', JSON.stringify({ ts: at(600) }), '')],
    ['headers that never end', `POST /v1/inputs HTTP/1.1\r\nHost: x\r\nx-api-key: ${ADMIN}\r\n`],
  ])('%s: 408 in the error body and the connection closed, within the timeout and a check interval; nothing appended', async (_name, bytes) => {
    const before = await head();
    const answer = await rawExchange(server.url, bytes, 3_000);
    expect(answer).toMatchObject({
      status: 408,
      closed: true,
      body: { statusCode: 408, error: 'Request Timeout', message: [`request: not received in full within ${TIMEOUT_MS} ms (serve --request-timeout-ms)`] },
    });
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(answer.elapsedMs).toBeLessThan(2 * TIMEOUT_MS + 500);
    expect(await head()).toBe(before);
  });

  it('a request that arrives in time, however slowly, is answered as usual', async () => {
    const body = JSON.stringify({ type: 'ClockAdvanced', ts: at(90) });
    const { hostname, port } = new URL(server.url);
    const socket = connect(Number(port), hostname);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    const raw = request('/v1/inputs', body);
    // in five pieces over about half the timeout
    for (let i = 0; i < 5; i++) {
      socket.write(raw.slice((i * raw.length) / 5, ((i + 1) * raw.length) / 5));
      await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS / 10));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.destroy();
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).toContain('"accepted":1');
  });

  it('does not cut a response that takes longer: the decision stream stays open past it', async () => {
    const stream = await openStream(server.url, ADMIN);
    try {
      await new Promise((resolve) => setTimeout(resolve, 3 * TIMEOUT_MS));
      expect((await server.http.post('/v1/inputs').set('x-api-key', ADMIN).send(DROP)).status).toBe(200);
      const [call] = await stream.waitFor(1);
      expect(call!.data).toMatchObject({ type: 'MarginCallIssued', account: 'a-alice' });
    } finally {
      stream.close();
    }
  });
});

describe('the request timeout by default', () => {
  it('is 60 s for the whole request and for its headers (Fastify\'s default was none)', async () => {
    const server = await bootServer();
    try {
      const http = server.app.getHttpServer() as { requestTimeout: number; headersTimeout: number };
      expect([http.requestTimeout, http.headersTimeout]).toEqual([60_000, 60_000]);
    } finally {
      await server.close();
    }
  });
});
