import { bootServer, type TestServer } from './server-harness';

/** The live page's static routes (apps/server/src/ui): public, typed, locked down, and not part of the API's document. */
describe('GET /ui', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await bootServer();
  });
  afterAll(() => server.close());

  it('serves the page without a key, with a policy that lets it load only itself and call only this server', async () => {
    const response = await server.http.get('/ui').expect(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.text).toContain('<script src="/ui/live.js" defer></script>');
    const policy = response.headers['content-security-policy'];
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("connect-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
  });

  it.each([
    ['/ui/live.js', 'text/javascript; charset=utf-8', 'x-api-key'],
    ['/ui/live.css', 'text/css; charset=utf-8', '#accounts'],
    ['/ui/uPlot.iife.min.js', 'text/javascript; charset=utf-8', 'uPlot'],
    ['/ui/uPlot.min.css', 'text/css; charset=utf-8', '.uplot'],
  ])('serves %s as %s (bundled, no CDN)', async (path, type, content) => {
    const response = await server.http.get(path).expect(200);
    expect(response.headers['content-type']).toBe(type);
    expect(response.text).toContain(content);
  });

  it('is left out of the OpenAPI document; the data stays behind the key', async () => {
    const document = (await server.http.get('/docs-json').expect(200)).body as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths).filter((path) => path.startsWith('/ui'))).toEqual([]);
    await server.http.get('/v1/accounts').expect(401);
    await server.http.get('/ui/nothing-here').expect(404);
  });
});
