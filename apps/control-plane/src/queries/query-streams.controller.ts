// Lag and the live event stream of one query.
import {
  Controller,
  Get,
  NotFoundException,
  type OnModuleDestroy,
  Param,
  ParseUUIDPipe,
  Sse,
  type MessageEvent,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Observable, type Subscriber } from 'rxjs';
import { RequireRole } from '../auth/auth.decorators';
import { lagTotals } from '../lag/lag-totals';
import { LagService } from '../lag/lag.service';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { ApiIdParam } from '../openapi/api-id-param.decorator';
import { OperationEvents } from '../operations/operation-events';
import { operationView } from '../operations/operation-view';
import { ProgressEvents } from '../progress/progress-events';
import { AlertTransitionRepository } from '../repositories/alert-transition.repository';
import { QueryRepository } from '../repositories/query.repository';
import { QueriesService } from './queries.service';
import { QueryEventFeed } from './query-event-feed';
import { queryLagSchema } from './query-responses.dto';

const uuid = new ParseUUIDPipe({
  exceptionFactory: () => new NotFoundException({ code: 'NOT_FOUND', message: 'query not found' }),
});

@ApiTags('queries')
@ApiBearerAuth()
@Controller('api/v1/queries')
export class QueryStreamsController implements OnModuleDestroy {
  /** Every open event stream, so a shutdown can end them. */
  private readonly streams = new Set<Subscriber<MessageEvent>>();

  constructor(
    private readonly queries: QueriesService,
    private readonly lag: LagService,
    private readonly progress: ProgressEvents,
    private readonly operations: OperationEvents,
    private readonly queryRows: QueryRepository,
    private readonly transitions: AlertTransitionRepository,
  ) {}

  @Get(':id/lag')
  @RequireRole('viewer')
  @ApiOperation({
    summary: "Consumer lag of a query's engine group per source partition: records and seconds behind",
  })
  @ApiIdParam('query')
  @ApiResponse({ status: 200, description: 'Lag per partition and totals', standardSchema: queryLagSchema })
  @ApiErrors(401, 403, 404)
  async lagOf(@Param('id', uuid) id: string) {
    await this.queries.getOrThrow(id);
    const partitions = await this.lag.lagOf(id);
    return { queryId: id, ...lagTotals(partitions), partitions };
  }

  /**
   * Server-sent events: `progress`, `status` (phase/conditions changes), `operation` and `alert`
   * (alert transitions). Alert transitions are read from AlertTransition rather than from an
   * in-process emitter: only the leader evaluates, and a client may be connected to any replica.
   */
  @Sse(':id/events')
  @RequireRole('viewer')
  @ApiOperation({
    summary:
      'Live server-sent events of a query: `progress`, `status`, `operation` and `alert` (transitions)',
  })
  @ApiIdParam('query')
  @ApiResponse({
    status: 200,
    description:
      'An endless text/event-stream; `data` of each event is JSON (a progress event, {phase, conditions, observedGeneration}, an Operation, or an AlertTransition)',
    content: {
      'text/event-stream': {
        schema: {
          type: 'object',
          required: ['event', 'data'],
          properties: {
            event: { type: 'string', enum: ['progress', 'status', 'operation', 'alert'] },
            id: { type: 'string' },
            data: { type: 'string' },
          },
        },
      },
    },
  })
  @ApiErrors(401, 403, 404)
  async events(@Param('id', uuid) id: string): Promise<Observable<MessageEvent>> {
    const query = await this.queries.getOrThrow(id);
    // Transitions from now on: the newest id at subscription is the starting point.
    const newest = await this.transitions.newestId(query.name);
    return new Observable<MessageEvent>((sub) => {
      this.streams.add(sub);
      const feed = new QueryEventFeed(id, query.name, newest, this.queryRows, this.transitions);
      const offProgress = this.progress.subscribe(id, (p) =>
        sub.next({ type: 'progress', data: p as object }),
      );
      const offOps = this.operations.subscribe((op) => {
        if (op.queryId === id) sub.next({ type: 'operation', data: operationView(op) });
      });
      const poll = setInterval(() => {
        void feed.status().then(
          (event) => {
            if (event) sub.next(event);
          },
          () => {
            // Database away for a moment: this poll is skipped and the next one, a second later,
            // tries again; requests meanwhile get 503. Logging here would repeat every second.
          },
        );
        void feed.alerts().then(
          (events) => {
            for (const event of events) sub.next(event);
          },
          () => undefined, // as above: the next poll tries again
        );
      }, 1000);
      return () => {
        this.streams.delete(sub);
        offProgress();
        offOps();
        clearInterval(poll);
      };
    });
  }

  /**
   * Ends every open stream when the application closes. The HTTP server's close waits for every
   * response to end, and an event stream never ends by itself: one open dashboard used to hold a
   * SIGTERM until main.ts's 30-s deadline exited 1. Ended, a client reconnects (EventSource does
   * so by itself), to another replica or to this one restarted.
   */
  onModuleDestroy(): void {
    for (const sub of [...this.streams]) sub.complete();
  }
}
