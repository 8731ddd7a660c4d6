import { z } from 'zod';
import { sourceBase } from '../base';
import { connectionFields } from '../mqtt/connection';
import { sessionFields } from '../mqtt/config';
import { idProblem } from './topic';

/**
 * Config of a Sparkplug B source (`type: sparkplug` under `sources:`): an MQTT
 * connection that reads the spBv1.0 namespace. docs/adapters/sparkplug.md
 * explains each option.
 */

const sparkplugId = (what: string) =>
  z.string().superRefine((id, ctx) => {
    const problem = idProblem(id);
    if (problem) ctx.addIssue({ code: 'custom', message: `a ${what} ${problem}` });
  });

export const sparkplugSourceSchema = z
  .strictObject({
    ...sourceBase,
    type: z.literal('sparkplug'),
    ...connectionFields,
    ...sessionFields,
    /** Sparkplug group ids to read. Empty (the default): every group on the broker. */
    groups: z.array(sparkplugId('group id')).default([]),
    /** QoS of the subscriptions: the highest the broker uses to deliver to the agent (the edge node's own publish QoS caps it). */
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(1),
    /** Ask an edge node to publish its birth again (NCMD `Node Control/Rebirth`) after a sequence gap, data before a birth, or an unknown alias. */
    requestRebirth: z.boolean().default(true),
    /** Seconds between two rebirth requests to the same edge node, at least. */
    rebirthIntervalS: z.number().min(0.1).max(3600).default(5),
    /**
     * Act as the Sparkplug primary host application with this host id: publish
     * `spBv1.0/STATE/<id>` retained, `{"online":true}` after subscribing and
     * `{"online":false}` as last will and on stop, so edge nodes configured
     * with this primary host publish only while the agent listens. Unset: no STATE.
     */
    primaryHostId: sparkplugId('host id').optional(),
  })
  .superRefine((c, ctx) => {
    if (c.retryMaxMs < c.retryMinMs) ctx.addIssue({ code: 'custom', path: ['retryMaxMs'], message: 'must be at least retryMinMs' });
    const seen = new Set<string>();
    c.groups.forEach((g, i) => {
      if (seen.has(g)) ctx.addIssue({ code: 'custom', path: ['groups', i], message: `group '${g}' is listed twice` });
      seen.add(g);
    });
  });

export type SparkplugSourceConfig = z.output<typeof sparkplugSourceSchema>;
export type SparkplugSourceInput = z.input<typeof sparkplugSourceSchema>;
