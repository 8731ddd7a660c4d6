import { z } from 'zod';
import { sourceBase } from '../base';
import { clientIdField, connectionFields, tlsSchema, tlsUrlProblem } from './connection';
import { topicFilterProblem, topicNameProblem } from './topic';

/**
 * Config of an MQTT source (`type: mqtt` under `sources:`) and of the MQTT
 * status publisher (`mqttOut:`). docs/adapters/mqtt.md explains each option.
 */

const topicFilter = z.string().superRefine((f, ctx) => {
  const problem = topicFilterProblem(f);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const topicName = z.string().superRefine((t, ctx) => {
  const problem = topicNameProblem(t);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const subscriptionSchema = z.strictObject({
  /** Topic filter; `+` matches one level, `#` (last) matches everything below. */
  topic: topicFilter,
  /** Highest QoS the broker uses to deliver to us: 0 at most once, 1 at least once, 2 exactly once (toward the agent). */
  qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(1),
  /** `json`: the payload must be JSON (otherwise it is kept as invalid input); `text`: the value is the UTF-8 text as sent. */
  payload: z.enum(['json', 'text']).default('json'),
});

export type MqttSubscription = z.output<typeof subscriptionSchema>;

/**
 * How a source holds its broker session and its messages: shared by the
 * MQTT source and the Sparkplug B source (they use the same connection code).
 */
export const sessionFields = {
  /**
   * Client id at the broker. The persistent session (messages kept while the
   * agent is away) belongs to this id, so it must stay the same across
   * restarts. Default: `edge-agent.<plant>.<source name>`.
   */
  clientId: clientIdField.optional(),
  /** false keeps a persistent session: the broker stores QoS 1/2 messages while the agent is away. true starts empty each time. */
  clean: z.boolean().default(false),
  /** MQTT 5 only: seconds the broker keeps the session after the agent disconnects (MQTT 3.1.1 brokers use their own setting). */
  sessionExpiryS: z.number().int().min(0).max(4294967295).default(604_800),
  /** How many received messages may wait for the outbox at once; beyond that the agent stops reading from the broker. Bounds memory. */
  maxInflight: z.number().int().min(1).max(65535).default(1000),
  /** A message larger than this many bytes is kept as invalid input, not handed to the rules. */
  maxPayloadBytes: z.number().int().min(1).max(268_435_456).default(1_048_576),
  /** Shortest wait, in milliseconds, before offering held messages again after the outbox refused them (the ceiling doubles up to retryMaxMs; full jitter above this). */
  retryMinMs: z.number().int().min(10).max(60_000).default(250),
  /** Longest wait, in milliseconds, between offers while the outbox refuses. */
  retryMaxMs: z.number().int().min(100).max(600_000).default(10_000),
};

export const mqttSourceSchema = z
  .strictObject({
    ...sourceBase,
    type: z.literal('mqtt'),
    ...connectionFields,
    ...sessionFields,
    /** What to subscribe to. */
    subscriptions: z.array(subscriptionSchema).min(1),
    /** JSON nested deeper than this is kept as invalid input (deep nesting would overflow the stack of the code that reads it). */
    maxDepth: z.number().int().min(1).max(256).default(64),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.subscriptions.forEach((s, i) => {
      if (seen.has(s.topic)) ctx.addIssue({ code: 'custom', path: ['subscriptions', i, 'topic'], message: `topic filter '${s.topic}' is listed twice` });
      seen.add(s.topic);
    });
    if (c.retryMaxMs < c.retryMinMs) ctx.addIssue({ code: 'custom', path: ['retryMaxMs'], message: 'must be at least retryMinMs' });
    tlsUrlProblem(c, ctx);
  });

export type MqttSourceConfig = z.output<typeof mqttSourceSchema>;
export type MqttSourceInput = z.input<typeof mqttSourceSchema>;

/**
 * `mqttOut:` the agent's own connection to a broker, on which it announces
 * itself (a retained `online` message on connect, `offline` as last will and on
 * clean shutdown) and publishes what other parts hand it (released orders).
 */
export const mqttOutSchema = z
  .strictObject({
    /** Set false to keep the section but not connect. */
    enabled: z.boolean().default(true),
    ...connectionFields,
    /** Client id at the broker. Default: `edge-agent.<plant>`. */
    clientId: clientIdField.optional(),
    status: z
      .strictObject({
        /** Topic of the agent's state. `{plant}` is replaced by the plant id. */
        topic: topicName.default('edge-agent/{plant}/status'),
        /** QoS of the state messages and the last will. */
        qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(1),
        /** Keep the last state at the broker so a newcomer sees it at once. */
        retain: z.boolean().default(true),
      })
      .prefault({}),
  })
  .superRefine((c, ctx) => tlsUrlProblem(c, ctx));

export type MqttOutConfig = z.output<typeof mqttOutSchema>;
export type MqttOutInput = z.input<typeof mqttOutSchema>;

export { tlsSchema };
