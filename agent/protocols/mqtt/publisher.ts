import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { AgentError, errorCode, errorMessage } from '../../errors';
import { componentLogger, type Logger } from '../../log';
import type { MqttOutConfig } from './config';
import { clientOptions, explainTlsError, safeUrl } from './connection';
import { topicFilterProblem, topicMatches, topicNameProblem } from './topic';

/**
 * The agent's own MQTT connection (`mqttOut:`). On every connect it publishes
 * a retained `online` state; the broker publishes the retained `offline` last
 * will when the connection is lost without a goodbye; a clean stop publishes
 * `offline` itself (a clean disconnect discards the will). Other parts use
 * `publish()` on the same connection (released manufacturing orders).
 */

export interface MqttStatusPublisherOptions {
  config: MqttOutConfig;
  /** Plant id from config: in the status topic, the default client id and every state message. */
  plant: string;
  /** The agent's version, announced in the `online` message. */
  version: string;
  /** Relative TLS file paths are read from here. */
  stateDir: string;
  log?: Logger;
}

export interface PublishOptions {
  /** Keep this message at the broker as the topic's last value. Default false. */
  retain?: boolean;
  /** 0 at most once, 1 at least once (default), 2 exactly once. */
  qos?: 0 | 1 | 2;
}

/** A message on a filter another part listens to; `retained` when the broker kept it (sent on subscribing). */
export type MessageListener = (topic: string, payload: Buffer, retained: boolean) => void;

export interface AgentState {
  state: 'online' | 'offline';
  plant: string;
  version: string;
  /** When this state was published (the will: when the connection it guards was made). */
  at: string;
  /** offline only: `shutdown` (clean stop) or `connection lost` (the last will). */
  reason?: 'shutdown' | 'connection lost';
}

export class MqttStatusPublisher {
  readonly statusTopic: string;
  readonly clientId: string;

  private readonly config: MqttOutConfig;
  private readonly plant: string;
  private readonly version: string;
  private readonly stateDir: string;
  private readonly log: Logger;
  private client: MqttClient | undefined;
  private stopping: Promise<void> | undefined;
  private connected = false;
  private lastError: { message: string; code?: string; at: string } | null = null;
  private lastLogged = '';
  private counts = { births: 0, published: 0, failed: 0 };
  /** Filters other parts listen to on this connection (acknowledgements, retained topics), subscribed again on every connect. */
  private readonly listeners: Array<{ filter: string; qos: 0 | 1 | 2; onMessage: MessageListener; subscribed: () => void }> = [];

  constructor(opts: MqttStatusPublisherOptions) {
    this.config = opts.config;
    this.plant = opts.plant;
    this.version = opts.version;
    this.stateDir = opts.stateDir;
    this.log = opts.log ?? componentLogger('mqtt-out');
    this.statusTopic = opts.config.status.topic.split('{plant}').join(opts.plant);
    const problem = topicNameProblem(this.statusTopic);
    if (problem) throw new AgentError('CONFIG_INVALID', `mqttOut.status.topic '${this.statusTopic}': ${problem}`);
    this.clientId = opts.config.clientId ?? statusClientId(opts.plant);
  }

  /** Connect (in the background; failures are retried and show in health()). Safe to call again. */
  async start(): Promise<void> {
    if (this.client || !this.config.enabled) return;
    this.stopping = undefined;
    const c = this.config;
    const will: AgentState = { state: 'offline', plant: this.plant, version: this.version, at: new Date().toISOString(), reason: 'connection lost' };
    const opts: IClientOptions = {
      // Nothing to keep between runs: a clean session.
      ...clientOptions(c, this.clientId, true, this.stateDir),
      will: { topic: this.statusTopic, payload: Buffer.from(JSON.stringify(will)), qos: c.status.qos, retain: c.status.retain },
    };
    const client = connect(c.url, opts);
    client.on('connect', () => {
      this.connected = true;
      this.log.info({ broker: safeUrl(c.url), topic: this.statusTopic }, 'mqtt-out: connected');
      const birth: AgentState = { state: 'online', plant: this.plant, version: this.version, at: new Date().toISOString() };
      client.publish(this.statusTopic, JSON.stringify(birth), { qos: c.status.qos, retain: c.status.retain }, (err) => {
        if (err) this.noteError(err);
        else this.counts.births++;
      });
    });
    client.on('message', (topic, payload, packet) => {
      for (const l of this.listeners) if (topicMatches(l.filter, topic)) l.onMessage(topic, payload, packet.retain);
    });
    client.on('connect', () => {
      for (const l of this.listeners) this.subscribeNow(client, l);
    });
    client.on('close', () => {
      this.connected = false;
    });
    client.on('error', (err) => this.noteError(explainTlsError(err, c)));
    this.client = client;
  }

  /**
   * Publish on the agent's connection. Resolves when the broker has it (QoS
   * 1/2: acknowledged; QoS 0: written). While the connection is down, QoS 1/2
   * messages wait in memory and go out after reconnecting; QoS 0 fails.
   * Rejects with AgentError `MQTT_NOT_STARTED` before start() or after stop().
   */
  publish(topic: string, payload: string | Buffer | object, options: PublishOptions = {}): Promise<void> {
    const client = this.client;
    if (!client || this.stopping) return Promise.reject(new AgentError('MQTT_NOT_STARTED', 'the MQTT output is not running'));
    const problem = topicNameProblem(topic);
    if (problem) return Promise.reject(new AgentError('MQTT_BAD_TOPIC', `cannot publish on '${topic}': ${problem}`));
    const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
    const qos = options.qos ?? 1;
    return new Promise((resolve, reject) => {
      client.publish(topic, body, { qos, retain: options.retain ?? false }, (err) => {
        if (err) {
          this.counts.failed++;
          reject(new AgentError('MQTT_PUBLISH_FAILED', `publishing on ${topic} failed: ${errorMessage(err)}`, { cause: err, retryable: true }));
        } else {
          this.counts.published++;
          resolve();
        }
      });
    });
  }

  /**
   * Listen to a topic filter on this connection (a clean session: subscribed
   * again after every reconnect, when the broker also sends the filter's
   * retained messages again). `onMessage` must not throw. Resolves when the
   * broker first acknowledged the subscription (its retained messages come
   * right after); rejects with MQTT_BAD_TOPIC for an invalid filter.
   */
  subscribe(filter: string, qos: 0 | 1 | 2, onMessage: MessageListener): Promise<void> {
    const problem = topicFilterProblem(filter);
    if (problem) return Promise.reject(new AgentError('MQTT_BAD_TOPIC', `cannot subscribe to '${filter}': ${problem}`));
    return new Promise((subscribed) => {
      const listener = { filter, qos, onMessage, subscribed };
      this.listeners.push(listener);
      if (this.client?.connected) this.subscribeNow(this.client, listener);
    });
  }

  private subscribeNow(client: MqttClient, l: { filter: string; qos: 0 | 1 | 2; subscribed: () => void }): void {
    client.subscribe(l.filter, { qos: l.qos }, (err) => {
      if (err) this.noteError(err);
      else l.subscribed();
    });
  }

  /** Publish the retained `offline` state and disconnect cleanly. Safe to call twice or without start. */
  stop(): Promise<void> {
    const client = this.client;
    if (!client) return Promise.resolve();
    if (!this.stopping) this.stopping = this.shutdown(client);
    return this.stopping;
  }

  health(): { connected: boolean; lastError: { message: string; code?: string; at: string } | null; details: Record<string, unknown> } {
    return {
      connected: this.connected,
      lastError: this.lastError,
      details: { broker: safeUrl(this.config.url), clientId: this.clientId, topic: this.statusTopic, ...this.counts },
    };
  }

  private async shutdown(client: MqttClient): Promise<void> {
    if (client.connected) {
      const bye: AgentState = { state: 'offline', plant: this.plant, version: this.version, at: new Date().toISOString(), reason: 'shutdown' };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 3000);
        client.publish(this.statusTopic, JSON.stringify(bye), { qos: this.config.status.qos, retain: this.config.status.retain }, (err) => {
          clearTimeout(timer);
          if (err) this.noteError(err);
          resolve();
        });
      });
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => client.end(true, {}, () => resolve()), 3000);
      client.end(false, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    client.removeAllListeners();
    client.on('error', () => undefined);
    this.client = undefined;
    this.connected = false;
    this.log.info({ topic: this.statusTopic }, 'mqtt-out: stopped');
  }

  private noteError(err: unknown): void {
    const message = errorMessage(err);
    const code = errorCode(err);
    this.lastError = code === undefined ? { message, at: new Date().toISOString() } : { message, code, at: new Date().toISOString() };
    if (message !== this.lastLogged) {
      this.lastLogged = message;
      this.log.warn({ err: message, code }, 'mqtt-out: ' + message);
    }
  }
}

/** Default client id of the agent's own connection: `edge-agent.<plant>` (sources use `edge-agent.<plant>.<name>`). */
export function statusClientId(plant: string): string {
  const clean = plant.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '') || 'plant';
  return `edge-agent.${clean}`.slice(0, 128);
}
