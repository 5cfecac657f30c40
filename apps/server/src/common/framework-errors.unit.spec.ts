import type { Socket } from 'node:net';
import { answerClientError } from './framework-errors';

/** A socket stand-in that records what the handler does to it. */
function fakeSocket(state: { writable?: boolean; destroyed?: boolean; headersSent?: boolean } = {}) {
  const written: string[] = [];
  const destroyed: unknown[] = [];
  const socket = {
    writable: state.writable ?? true,
    destroyed: state.destroyed ?? false,
    _httpMessage: state.headersSent === undefined ? null : { headersSent: state.headersSent },
    write: (text: string) => written.push(text),
    destroy: (error?: unknown) => destroyed.push(error),
  };
  return { socket: socket as unknown as Socket, written, destroyed };
}

const error = (code: string, message = 'Parse Error: x') => Object.assign(new Error(message), { code });

describe('answerClientError', () => {
  it('writes one answer in the error body and closes the connection', () => {
    const { socket, written, destroyed } = fakeSocket();
    const refused = error('HPE_INVALID_METHOD', 'Parse Error: Invalid method encountered');
    answerClientError(refused, socket);
    expect(written).toHaveLength(1);
    const [head, body] = written[0]!.split('\r\n\r\n');
    expect(head!.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(head).toContain('connection: close');
    expect(head).toContain(`content-length: ${Buffer.byteLength(body!)}`);
    expect(JSON.parse(body!)).toEqual({ statusCode: 400, error: 'Bad Request', message: ['request: not a valid HTTP/1.1 request (Parse Error: Invalid method encountered)'] });
    expect(destroyed).toEqual([refused]);
  });

  it('never writes a second status line into a response already started on the connection (it only closes it)', () => {
    const { socket, written, destroyed } = fakeSocket({ headersSent: true });
    answerClientError(error('ERR_HTTP_REQUEST_TIMEOUT'), socket);
    expect(written).toEqual([]);
    expect(destroyed).toHaveLength(1);
    // a response not yet started: answered
    const fresh = fakeSocket({ headersSent: false });
    answerClientError(error('ERR_HTTP_REQUEST_TIMEOUT'), fresh.socket);
    expect(fresh.written[0]).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
  });

  it('leaves a reset or already closed connection alone', () => {
    for (const [code, state] of [['ECONNRESET', {}], ['HPE_INVALID_METHOD', { destroyed: true }]] as const) {
      const { socket, written, destroyed } = fakeSocket(state);
      answerClientError(error(code), socket);
      expect([written, destroyed]).toEqual([[], []]);
    }
  });

  it('writes nothing to a socket that is no longer writable, and closes it', () => {
    const { socket, written, destroyed } = fakeSocket({ writable: false });
    answerClientError(error('HPE_INVALID_METHOD'), socket);
    expect(written).toEqual([]);
    expect(destroyed).toHaveLength(1);
  });
});
