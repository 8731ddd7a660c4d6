import type { EventOf } from '../../model/event';
import { PRODUCTIVITY_MODEL, sendEnds } from './downtime-common';
import type { Operation, OperationContext, OperationOptions, OperationOutcome } from './types';

type Ended = EventOf<'downtime.ended'>;

/**
 * downtime.ended: sets date_end = occurredAt on the stop's record
 * (`<module>.downtime_<downtimeId>`). When the start never reached Odoo, the
 * record is created first with date_start = startedAt (or occurredAt), the
 * work center and the reason, untouched when it already exists.
 * Two load() calls, whatever the number of events (executeBatch).
 */
export function downtimeEnded(opts: OperationOptions = {}): Operation<Ended> {
  return {
    type: 'downtime.ended',
    models: () => [PRODUCTIVITY_MODEL],
    async execute(event: Ended, ctx: OperationContext): Promise<OperationOutcome> {
      const [r] = await sendEnds([event], ctx, opts);
      if (r instanceof Error) throw r;
      return r!;
    },
    executeBatch: (events: Ended[], ctx: OperationContext) => sendEnds(events, ctx, opts),
  };
}
