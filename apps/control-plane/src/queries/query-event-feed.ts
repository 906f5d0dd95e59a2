// What a query's event stream polls for every second besides the pushed progress and operation
// events: its status (phase, conditions, observed generation; sent when it changed) and the alert
// transitions since the last poll (the leader writes them; a client may be on any replica).
import type { MessageEvent } from '@nestjs/common';
import { transitionView } from '../alerting/alerting-api.service';
import type { AlertTransitionRepository } from '../repositories/alert-transition.repository';
import type { QueryRepository } from '../repositories/query.repository';

/** Transitions one poll sends at most; a burst larger than that goes over the next polls. */
export const TRANSITIONS_PER_POLL = 100;

export class QueryEventFeed {
  private lastStatus = '';

  constructor(
    private readonly queryId: string,
    private readonly queryName: string,
    /** The newest transition already seen (the stream's start: AlertTransitionRepository.newestId). */
    private lastTransition: bigint,
    private readonly queries: Pick<QueryRepository, 'find'>,
    private readonly transitions: Pick<AlertTransitionRepository, 'after'>,
  ) {}

  /** A `status` event when the query's status differs from the last one sent; null otherwise. */
  async status(): Promise<MessageEvent | null> {
    const q = await this.queries.find(this.queryId);
    if (!q) return null;
    const status = JSON.stringify({
      phase: q.phase,
      conditions: q.conditions,
      observedGeneration: q.observedGeneration,
    });
    if (status === this.lastStatus) return null;
    this.lastStatus = status;
    return { type: 'status', data: JSON.parse(status) as object };
  }

  /** An `alert` event per transition since the last poll, oldest first. */
  async alerts(): Promise<MessageEvent[]> {
    const rows = await this.transitions.after(this.queryName, this.lastTransition, TRANSITIONS_PER_POLL);
    const last = rows[rows.length - 1];
    if (last) this.lastTransition = last.id;
    return rows.map((t) => ({ type: 'alert', id: String(t.id), data: transitionView(t) }));
  }
}
