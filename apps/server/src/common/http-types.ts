import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../auth/api-keys';

/** The parts of an Express request the server uses (Express 5 ships no types here). */
export interface HttpRequest extends IncomingMessage {
  principal?: Principal;
  body?: unknown;
}

export type HttpResponse = ServerResponse;

/** The error body of every refusal: Nest's shape, with `message` always a list of `field: problem`. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string[];
  [extra: string]: unknown;
}
