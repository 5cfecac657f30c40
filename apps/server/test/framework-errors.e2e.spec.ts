import { connect } from 'node:net';
import { at } from '../../../libs/clearing/src/testing/given';
import { ADMIN, bootServer, rawExchange, type RawAnswer, type TestServer } from './server-harness';

/** The service's error body (DomainErrorsFilter, ErrorResponse in the OpenAPI document). */
const errorShape = (statusCode: number, error: string, message: string) => ({ statusCode, error, message: [message] });

describe('refusals before any route come in the service\'s error body', () => {
  let server: TestServer;
  let errorSchema: { properties: Record<string, unknown>; required: string[] };

  beforeAll(async () => {
    server = await bootServer();
    errorSchema = (await server.http.get('/docs-json')).body.components.schemas.ErrorResponse;
  });
  afterAll(() => server?.close());

  /** Only fields the OpenAPI document's ErrorResponse declares, with the ones it requires. */
  const expectDocumentedShape = (body: unknown) => {
    expect(Object.keys(body as object).filter((key) => !(key in errorSchema.properties))).toEqual([]);
    expect(Object.keys(body as object)).toEqual(expect.arrayContaining(errorSchema.required));
  };

  it('no route for the method and path: 404 naming them (Nest said "Cannot GET /nope?…", echoing the whole URL)', async () => {
    for (const [method, path, message] of [
      ['get', '/nope?secret=x', 'url: no route GET "/nope" (the routes are listed at /docs)'],
      ['delete', '/v1/inputs', 'url: no route DELETE "/v1/inputs" (the routes are listed at /docs)'],
      ['put', '/v1/log', 'url: no route PUT "/v1/log" (the routes are listed at /docs)'],
    ] as const) {
      const response = await server.http[method](path).set('x-api-key', ADMIN);
      expect(response.status).toBe(404);
      expect(response.body).toEqual(errorShape(404, 'Not Found', message));
      expectDocumentedShape(response.body);
    }
    // a 404 of a route (no such account) keeps its own message
    const account = await server.http.get('/v1/accounts/a-nobody').set('x-api-key', ADMIN);
    expect(account.body.message).toEqual(['id: no account "a-nobody" (an account exists once it has a Deposited event)']);
  });

  it('a malformed percent-encoding in the path: 400 (Fastify\'s {code, message: string})', async () => {
    const response = await server.http.get('/v1/accounts/%E0%A4%A').set('x-api-key', ADMIN);
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.body).toEqual(errorShape(400, 'Bad Request', 'url: "/v1/accounts/%E0%A4%A" is not a valid URL path (a malformed percent-encoding)'));
    expectDocumentedShape(response.body);
  });

  it('a path segment longer than 4096 characters: 414, quoting 32 characters of it (Fastify echoed all of them, with "error": "Bad Request")', async () => {
    const response = await server.http.get(`/v1/accounts/${'a'.repeat(5000)}`).set('x-api-key', ADMIN).set('x-request-id', 'long-id-1');
    expect(response.status).toBe(414);
    expect(response.headers['x-request-id']).toBe('long-id-1');
    expect(response.body).toEqual(errorShape(414, 'URI Too Long', `url: a path segment of "/v1/accounts/${'a'.repeat(19)}"… (5013 characters) is longer than 4096 characters`));
    expectDocumentedShape(response.body);
  });

  describe('refused by Node\'s HTTP parser: the body, a request id, and the connection closed', () => {
    it.each([
      ['not HTTP at all', 'GARBAGE\r\n\r\n', 400, 'Bad Request', 'request: not a valid HTTP/1.1 request (Parse Error: Invalid method encountered)'],
      ['a Content-Length that is not a number', 'POST /v1/admin/clock HTTP/1.1\r\nHost: x\r\ncontent-length: abc\r\n\r\n', 400, 'Bad Request', 'request: not a valid HTTP/1.1 request (Parse Error: Invalid character in Content-Length)'],
      ['both Content-Length and Transfer-Encoding', 'POST /v1/inputs HTTP/1.1\r\nHost: x\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n', 400, 'Bad Request', expect.stringMatching(/^request: not a valid HTTP\/1\.1 request \(Parse Error: /)],
      ['a request line and headers over 16 KiB (a 20 KB query)', `GET /v1/log?x=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431, 'Request Header Fields Too Large', 'headers: the request line and headers are larger than 16384 bytes'],
      ['a 20 KB header', `GET /v1/log HTTP/1.1\r\nHost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'Request Header Fields Too Large', 'headers: the request line and headers are larger than 16384 bytes'],
    ])('%s', async (_name, bytes, status, error, message) => {
      const answer = await rawExchange(server.url, bytes);
      expect(answer).toMatchObject({ status, closed: true, body: { statusCode: status, error, message: [message] } });
      const { headers, body } = answer as RawAnswer;
      expect(headers['content-type']).toBe('application/json; charset=utf-8');
      expect(headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(headers.connection).toBe('close');
      expectDocumentedShape(body);
      // and the server goes on
      expect((await server.http.get('/healthz')).status).toBe(200);
    });
  });

  it('the OpenAPI document says these statuses share the body', async () => {
    const description: string = (await server.http.get('/docs-json')).body.info.description;
    expect(description).toContain('Refusals before any route');
    for (const status of ['404', '414', '431']) expect(description).toContain(status);
  });
});

describe('a request that reaches the server while it closes', () => {
  it('is answered 503 in the error body with Retry-After (Fastify answered {error, message: "Service Unavailable"} with neither)', async () => {
    const server = await bootServer();
    const { hostname, port } = new URL(server.url);
    const socket = connect(Number(port), hostname);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    const body = `{"ts":"${at(60)}"}`;
    // a request in progress (its body not all sent) keeps the connection busy, so closing does not drop it
    socket.write(`POST /v1/admin/clock HTTP/1.1\r\nHost: x\r\nx-api-key: ${ADMIN}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 4)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // closing waits for that connection, which ends once both requests are answered
    const closing = server.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    // the rest of that body, and a second request pipelined behind it, which reaches the router while it closes
    socket.write(`${body.slice(4)}GET /v1/log HTTP/1.1\r\nHost: x\r\nx-api-key: ${ADMIN}\r\n\r\n`);
    await Promise.all([closed, closing]);
    const answers = text.split(/(?=HTTP\/1\.1 )/);
    expect(answers).toHaveLength(2);
    for (const answer of answers) {
      const [head, json] = answer.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
      expect(head).toMatch(/\r\nretry-after: 1\r\n/i);
      expect(head).toMatch(/\r\nx-request-id: [0-9a-f-]{36}\r\n/i);
      expect(JSON.parse(json!)).toEqual({ statusCode: 503, error: 'Service Unavailable', message: ['the server is shutting down'] });
    }
    expect(answers[1]).toMatch(/\r\nconnection: close\r\n/i);
  });
});
