import type { IClientOptions } from 'mqtt';
import type { InvalidInput, Signal } from '../../model/signal';
import type { DeviceHealth } from '../types';
import type { MqttSourceConfig, MqttSubscription } from './config';
import { decodePayload, rawPayload } from './decode';
import { topicMatches } from './topic';

/**
 * What an MQTT connection reads: the part of an MQTT source that knows the
 * payloads. The connection, its session and acknowledgement after commit are
 * the MQTT source's (adapter.ts); a reader says what to subscribe to and turns
 * each message into signals. Plain topics (JSON or text, this file) and
 * Sparkplug B (../sparkplug) are two readers on the same connection code.
 */

export interface IncomingMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
  dup: boolean;
  messageId: number | undefined;
  /** When the agent received it (ISO 8601). */
  receivedAt: string;
}

/** What one message said: any number of signals, and input that could not be used (kept with its reason). */
export interface Reading {
  signals: Signal[];
  invalid?: InvalidInput;
  /** Called once everything the message said is committed (before its acknowledgement, and even when its connection has gone since). */
  committed?: () => void;
}

/** The source's connection, for a reader that publishes (commands, its own state). */
export interface MqttLink {
  readonly connected: boolean;
  /** Publish on the source's connection; resolves when sent (QoS 0) or acknowledged (QoS 1/2), rejects when not connected. */
  publish(topic: string, payload: Buffer | string, options: { qos: 0 | 1 | 2; retain: boolean }): Promise<void>;
}

export interface MessageReader {
  /** Filters subscribed on every new session, with their QoS. */
  subscriptions(): ReadonlyArray<{ topic: string; qos: 0 | 1 | 2 }>;
  /** One message to signals. Never throws: what cannot be read is `invalid`. */
  read(message: IncomingMessage, link: MqttLink): Reading;
  /** A connection was made, before any of its messages is read; `resumed`: the broker kept the session, and what it queued follows. */
  connected?(resumed: boolean): void;
  /** The last will for the next connection (asked before every connect). */
  will?(): IClientOptions['will'];
  /** The subscriptions of a new connection were granted, or a resumed session kept them: after every connect. */
  subscribed?(link: MqttLink): void;
  /** The source is stopping while still connected (publish a goodbye). */
  stopping?(link: MqttLink): Promise<void>;
  /** Figures for health(). */
  details?(): Record<string, unknown>;
  /** Devices behind the source, for health() and the status page. */
  devices?(): DeviceHealth[];
}

/** Topics whose matching subscription is remembered; the memory is emptied when it is full. */
const MATCH_CACHE = 4096;

/** Plain MQTT topics: each message is one signal, tag = topic, its payload JSON or text (per subscription). */
export class TopicPayloadReader implements MessageReader {
  /** Subscription matched by each topic seen lately (subscriptionFor). */
  private readonly matched = new Map<string, MqttSubscription | undefined>();

  constructor(private readonly config: Pick<MqttSourceConfig, 'name' | 'subscriptions' | 'maxPayloadBytes' | 'maxDepth'>) {}

  subscriptions(): ReadonlyArray<{ topic: string; qos: 0 | 1 | 2 }> {
    return this.config.subscriptions;
  }

  read(message: IncomingMessage): Reading {
    const { topic, payload, receivedAt, qos } = message;
    const source = this.config.name;
    const sub = this.subscriptionFor(topic);
    if (!sub) {
      return {
        signals: [],
        invalid: {
          source,
          origin: topic,
          reason: 'the topic matches no configured subscription (left in the broker session by an earlier configuration?)',
          ...rawPayload(payload),
          receivedAt,
        },
      };
    }
    const decoded = decodePayload(payload, sub.payload, this.config);
    if (!decoded.ok) {
      const { reason, raw, encoding } = decoded;
      return { signals: [], invalid: { source, origin: topic, reason, raw, encoding, receivedAt } };
    }
    const meta: Record<string, unknown> = { qos, retain: message.retain, dup: message.dup, subscription: sub.topic };
    if (message.messageId !== undefined) meta.messageId = message.messageId;
    return { signals: [{ source, tag: topic, value: decoded.value, quality: 'good', sourceTime: receivedAt, receivedAt, meta }] };
  }

  private subscriptionFor(topic: string): MqttSubscription | undefined {
    // Machines publish on a handful of topics each: remember the match per topic (bounded).
    const known = this.matched.get(topic);
    if (known !== undefined || this.matched.has(topic)) return known;
    const sub = this.config.subscriptions.find((s) => topicMatches(s.topic, topic));
    if (this.matched.size >= MATCH_CACHE) this.matched.clear();
    this.matched.set(topic, sub);
    return sub;
  }
}
