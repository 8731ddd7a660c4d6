import type { EventOf } from '../../model/event';
import { PRODUCTIVITY_MODEL, sendStarts } from './downtime-common';
import type { Operation, OperationContext, OperationOptions, OperationOutcome } from './types';

type Started = EventOf<'downtime.started'>;

/**
 * downtime.started: one mrp.workcenter.productivity record (17/18/19), keyed
 * `<module>.downtime_<downtimeId>`, upserting workcenter_id, loss_id (the
 * reason, by name), date_start = occurredAt and description; date_end is never
 * written here, so a start that arrives after its end keeps the end.
 * Batchable: many starts go in one load().
 */
export function downtimeStarted(opts: OperationOptions = {}): Operation<Started> {
  return {
    type: 'downtime.started',
    models: () => [PRODUCTIVITY_MODEL],
    async execute(event: Started, ctx: OperationContext): Promise<OperationOutcome> {
      const [r] = await sendStarts([event], ctx, opts);
      if (r instanceof Error) throw r;
      return r!;
    },
    executeBatch: (events: Started[], ctx: OperationContext) => sendStarts(events, ctx, opts),
  };
}
