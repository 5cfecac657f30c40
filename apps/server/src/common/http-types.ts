import type { IncomingMessage } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { Principal } from '../auth/api-keys';

/** The parts of a (Fastify) request the server uses. */
export interface HttpRequest {
  headers: IncomingMessage['headers'];
  principal?: Principal;
  body?: unknown;
}

export type HttpResponse = FastifyReply;

/** The error body of every refusal: Nest's shape, with `message` always a list of `field: problem`. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string[];
  [extra: string]: unknown;
}
