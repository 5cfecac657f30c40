import { mkdtempSync } from 'node:fs';
import { get, type ClientRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { at, rulesFor } from '../../../libs/clearing/src/testing/given';
import { createServer, parseApiKeys, type ServerOptions } from '../src/main';

/** Keys of the e2e tests: an admin, venue A (accounts a-*), venue B (accounts b-*). */
export const ADMIN = 'admin-secret-1';
export const VENUE_A = 'venue-a-secret';
export const VENUE_B = 'venue-b-secret';

export const freshStore = (): string => `file:${mkdtempSync(join(tmpdir(), 'clearsim-server-'))}`;

export interface TestServer {
  app: INestApplication;
  url: string;
  store: string;
  http: ReturnType<typeof request>;
  close(): Promise<void>;
}

/** Boots the real service (createServer, as `clearsim serve` does) on a temp-dir file store and a free loopback port. */
export async function bootServer(options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const store = options.store ?? freshStore();
  const app = await createServer({
    store,
    port: 0,
    apiKeys: parseApiKeys([`${ADMIN}:admin`, `${VENUE_A}:venue:a-`, `${VENUE_B}:venue:b-`]),
    logLevel: 'silent',
    processMetrics: false,
    shutdownHooks: false,
    ...options,
  });
  return { app, url: await app.getUrl(), store, http: request(app.getHttpServer()), close: () => app.close() };
}

/**
 * The margin-call story of test/fixtures/margin-call.jsonl with venue
 * prefixes, under the test rules (IM 10%, MM 5%, grace 3,600 s, fee 1%):
 * a-alice long 1 @ 10,000 with 1,000 of cash against the market maker a-mm.
 */
export const SETUP = [
  { type: 'RulesActivated', ts: at(0), rules: rulesFor() },
  { type: 'InstrumentListed', ts: at(0), instrument: 'BTC-PERP', kind: 'perpetual', underlying: 'BTC', settlementAsset: 'USD', multiplier: '1' },
  { type: 'Deposited', ts: at(0), account: 'a-alice', asset: 'USD', amount: '1000' },
  { type: 'Deposited', ts: at(0), account: 'a-mm', asset: 'USD', amount: '1000000' },
  { type: 'Deposited', ts: at(0), account: 'b-bob', asset: 'USD', amount: '5000' },
  { type: 'Deposited', ts: at(0), account: 'insurance', asset: 'USD', amount: '1000' },
  { type: 'PriceUpdated', ts: at(0), instrument: 'BTC-PERP', price: '10000' },
];
export const TRADE = { type: 'TradeExecuted', ts: at(60), tradeId: 't1', instrument: 'BTC-PERP', buyer: 'a-alice', seller: 'a-mm', qty: '1', price: '10000' };
export const DROP = { type: 'PriceUpdated', ts: at(120), instrument: 'BTC-PERP', price: '9450' };

export interface SseEvent {
  id?: string;
  event?: string;
  data?: Record<string, unknown>;
}

export interface SseClient {
  response: IncomingMessage;
  events: SseEvent[];
  comments: string[];
  /** Resolves once `count` events have arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<SseEvent[]>;
  close(): void;
}

/** Opens /v1/decisions/stream with a raw http.get and parses the event stream as it arrives. */
export function openStream(url: string, key: string, headers: Record<string, string> = {}, path = '/v1/decisions/stream'): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    let req: ClientRequest | undefined = undefined;
    req = get(`${url}${path}`, { headers: { 'x-api-key': key, accept: 'text/event-stream', ...headers } }, (response) => {
      const events: SseEvent[] = [];
      const comments: string[] = [];
      const waiters: { count: number; resolve: (events: SseEvent[]) => void }[] = [];
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = {};
          let isEvent = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) {
              comments.push(line.slice(1).trim());
              continue;
            }
            const [field, value] = [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)];
            if (field === 'id') event.id = value;
            else if (field === 'event') event.event = value;
            else if (field === 'data') event.data = JSON.parse(value);
            else continue;
            isEvent = true;
          }
          if (isEvent) events.push(event);
        }
        for (const waiter of [...waiters]) {
          if (events.length >= waiter.count) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(events.slice());
          }
        }
      });
      resolve({
        response,
        events,
        comments,
        waitFor: (count, timeoutMs = 5000) =>
          new Promise((done, fail) => {
            if (events.length >= count) return done(events.slice());
            const timer = setTimeout(() => fail(new Error(`timed out waiting for ${count} SSE events; got ${JSON.stringify(events)}`)), timeoutMs);
            waiters.push({ count, resolve: (got) => (clearTimeout(timer), done(got)) });
          }),
        close: () => req?.destroy(),
      });
    });
    req.on('error', reject);
  });
}

/** What came back on a raw connection: the status, the headers (lower-cased names), the JSON body, and whether the server closed it. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  closed: boolean;
  elapsedMs: number;
}

/**
 * Sends `bytes` as they are on a fresh connection (no HTTP client to correct
 * them) and reads until the server closes it or `waitMs` passes.
 */
export function rawExchange(url: string, bytes: string, waitMs = 5000): Promise<RawAnswer | { status: undefined; closed: boolean; elapsedMs: number; text: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let text = '';
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      const elapsedMs = Date.now() - started;
      const split = text.indexOf('\r\n\r\n');
      if (split < 0) return resolve({ status: undefined, closed, elapsedMs, text });
      const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
      const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: JSON.parse(text.slice(split + 4)), closed, elapsedMs });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('close', () => finish(true));
    socket.on('error', reject);
  });
}
