import { ConfigService } from '@nestjs/config';
import { createServer, parseApiKeys } from '../src/main';
import { SERVER_OPTIONS } from '../src/config/server-options';
import { bootServer, freshStore } from './server-harness';

/** The server's options live in @nestjs/config (namespace `server`), validated when the app is built. */
describe('server configuration (@nestjs/config)', () => {
  it('holds the options given, under the server namespace and the SERVER_OPTIONS token', async () => {
    const server = await bootServer({ maxBatch: 7 });
    try {
      const config = server.app.get(ConfigService);
      expect(config.get<number>('server.maxBatch')).toBe(7);
      expect(server.app.get(SERVER_OPTIONS)).toMatchObject({ store: server.store, maxBatch: 7 });
      // and it is what the routes obey: a batch of 8 inputs is over the bound
      const batch = Array.from({ length: 8 }, (_, i) => ({ type: 'ClockAdvanced', ts: `2026-01-01T00:00:0${i}Z` }));
      const response = await server.http.post('/v1/inputs/batch').set('x-api-key', 'admin-secret-1').send(batch);
      expect(response.status).toBe(400);
      expect(JSON.stringify(response.body.message)).toContain('7');
    } finally {
      await server.close();
    }
  });

  it('refuses invalid options before listening, naming the field', async () => {
    const options = { store: freshStore(), port: 70000, apiKeys: parseApiKeys(['admin-secret-1:admin']), logLevel: 'silent' as const, shutdownHooks: false, processMetrics: false };
    await expect(createServer(options)).rejects.toThrow('invalid server options: port: must be at most 65535');
  });
});
