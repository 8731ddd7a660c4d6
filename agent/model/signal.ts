/**
 * What a source said: telemetry, never sent to Odoo as such. Rules turn
 * signals into business events (agent/rules).
 */
export interface Signal {
  /** The configured name of the source (adapter instance). */
  source: string;
  /** What was read: a tag name, a register name, an MQTT topic, `scan`. */
  tag: string;
  value: SignalValue;
  quality: 'good' | 'uncertain' | 'bad';
  /** Source timestamp (ISO 8601). Falls back to receivedAt when the source has none. */
  sourceTime: string;
  /** When the agent received it (ISO 8601). */
  receivedAt: string;
  /** Protocol details a rule may use (MQTT qos/retain, a scanner's symbology, ...). */
  meta?: Record<string, unknown>;
}

export type SignalValue = number | boolean | string | null | { [k: string]: unknown } | unknown[];

/** Input that could not be understood: kept with its raw bytes and the reason, never dropped. */
export interface InvalidInput {
  source: string;
  /** Topic, tag or port the input came from. */
  origin: string;
  reason: string;
  /** The raw input: UTF-8 text where it is text, otherwise base64 with `encoding: 'base64'`. */
  raw: string;
  encoding?: 'utf8' | 'base64';
  receivedAt: string;
}
