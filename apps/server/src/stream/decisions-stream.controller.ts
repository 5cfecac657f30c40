import { Controller, Headers, Query, Sse, type MessageEvent } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Observable } from 'rxjs';
import type { Principal } from '../auth/api-keys';
import { Caller } from '../auth/auth.decorators';
import { ApiErrorResponses, ApiGuardedRoute } from '../common/api-responses';
import { badRequest } from '../common/validation';
import { DecisionStreamHub } from './decision-stream.hub';
import { StreamQueryDto } from './dto/stream-query.dto';

/** Live decisions as server-sent events. */
@ApiTags('decisions')
@ApiGuardedRoute()
@Controller({ path: 'decisions', version: '1' })
export class DecisionsStreamController {
  constructor(private readonly hub: DecisionStreamHub) {}

  @Sse('stream', { maxPendingDataLength: 16 * 1024 * 1024 })
  @ApiOperation({
    summary: 'Live stream of decisions (server-sent events)',
    description:
      'One SSE event per decision: `id: <log position>`, `data: <the decision in canonical JSON>`. Without Last-Event-ID or ?from=, only decisions appended from now on; with them, the logged decisions after that position first (no gap, no repeat), then live ones. A venue key gets only the decisions naming one of its accounts, with every other venue\'s account id replaced by "*redacted*" and only its own shares of a socialized loss. After an admin reset, an `event: reset` with `id: 0`; comments (`: keep-alive`) every 15 s.',
  })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this position (browsers send it on reconnect).' })
  @ApiOkResponse({
    description: 'The event stream, until the client disconnects.',
    content: {
      'text/event-stream': {
        schema: {
          type: 'string',
          example: 'id: 8\ndata: {"type":"MarginCallIssued","v":1,"ts":"2026-01-01T00:02:00Z","account":"a-alice","amount":"495","deadline":"2026-01-01T01:02:00Z","equity":"450","initialMargin":"945","maintenanceMargin":"472.5"}\n\n',
        },
      },
    },
  })
  @ApiErrorResponses([400, 'An invalid `from`, Last-Event-ID or unknown query parameter.'])
  stream(@Query() query: StreamQueryDto, @Headers('last-event-id') lastEventId: string | undefined, @Caller() principal: Principal): Observable<MessageEvent> {
    let resumeAfter = query.from === undefined ? undefined : query.from - 1;
    if (lastEventId !== undefined && lastEventId !== '') {
      if (!/^\d{1,15}$/.test(lastEventId)) throw badRequest(['Last-Event-ID: must be a log position (a whole number >= 0)']);
      resumeAfter = Number(lastEventId);
    }
    return this.hub.stream(principal, resumeAfter);
  }
}
