import { hostname } from 'node:os';
import { connect, Store, type IClientOptions, type IConnackPacket, type IPublishPacket, type IStore, type ISubscriptionMap, type MqttClient } from 'mqtt';
import { isoNow } from '../../clock';
import { AgentError, errorCode, errorMessage } from '../../errors';
import type { Logger } from '../../log';
import { HandOver, type Held } from '../hand-over';
import type { AdapterContext, AdapterHealth, SourceAdapter } from '../types';
import type { MqttSourceConfig, sessionFields } from './config';
import { clientOptions, defaultClientId, explainTlsError, safeUrl, type ConnectionConfig } from './connection';
import { rawPayload } from './decode';
import { TopicPayloadReader, type MessageReader, type MqttLink } from './reader';

/**
 * MQTT source: subscribes with a persistent session and hands what each
 * message says to the rules as signals. What to subscribe to and how a
 * payload becomes signals is its reader's (./reader.ts): plain topics by
 * default (one signal per message, tag = topic), Sparkplug B for
 * `type: sparkplug` (../sparkplug). A message is acknowledged once all of its
 * signals (and its invalid input, if any) are committed.
 *
 * Acknowledgement after commit
 * ----------------------------
 * QoS 1: the PUBACK is sent only after `ctx.emit` (or `ctx.reject`) resolved,
 * that is after the outbox committed. Up to `maxInflight` messages wait at
 * once in the hand-over (../hand-over.ts) and are offered to the outbox
 * together (group commit): what arrived in the same loop turn or during the
 * previous commit; PUBACKs go out in the order the messages arrived. Beyond
 * `maxInflight` the adapter stops reading from the socket, so the broker keeps
 * the rest.
 *
 * QoS 2: the PUBREC (the step after which the broker no longer resends the
 * message) is sent only after the commit. mqtt.js sends PUBREC right after it
 * stores an incoming QoS 2 message in its incoming store, so this adapter gives
 * it a store whose `put` completes after the commit. QoS 2 messages are
 * therefore taken one at a time.
 *
 * When the outbox refuses (OUTBOX_FULL or any other failure), nothing is
 * acknowledged: the messages are held and offered again with a growing wait
 * (retryMinMs..retryMaxMs); reading stays paused while `maxInflight` are held.
 * When the connection drops, held QoS 1/2 messages that were not committed are
 * forgotten (the broker still has them and sends them again) and no
 * acknowledgement from the old connection is ever sent on a new one.
 *
 * QoS 0 messages are never acknowledged (the protocol has no acknowledgement);
 * they are at most once: lost if the agent stops before they were committed.
 */

/** What acknowledging a held message takes. */
interface Waiting {
  /** The network connection (mqtt.js stream) the message arrived on: it is acknowledged on that one only. */
  via: unknown;
  qos: 0 | 1 | 2;
  messageId: number | undefined;
  /** QoS 2 only: lets mqtt.js send the PUBREC. */
  release?: () => void;
  /** Held items of this message (its signals, its invalid input) not yet committed: it is acknowledged when the last one is. */
  parts: number;
  /** The reader's own step once the message is committed (Reading.committed). */
  committed?: () => void;
}

/** How long stop() lets a commit under way finish, so what it committed is acknowledged now. */
const STOP_GRACE_MS = 5000;

/** Passed to mqtt.js's handleMessage callback to stop it sending its own PUBACK (this adapter sends it after the commit). */
const ACK_AFTER_COMMIT = new Error('acknowledged by the MQTT source after the outbox commit');

type PacketSender = { _sendPacket(packet: { cmd: 'puback'; messageId: number }, cb?: (err?: Error) => void): void };

/** mqtt.js incoming store for QoS 2: `put` completes (and PUBREC goes out) only after the outbox commit. */
class CommitBeforePubrecStore implements IStore {
  private readonly released = new Map<number, IPublishPacket>();

  constructor(private readonly onPut: (packet: IPublishPacket, done: () => void) => void) {}

  put(packet: { cmd: string; messageId?: number }, cb: (err?: Error) => void): this {
    if (packet.cmd !== 'publish' || packet.messageId === undefined) {
      cb();
      return this;
    }
    const pub = packet as IPublishPacket;
    const messageId = packet.messageId;
    this.onPut(pub, () => {
      // Keep only what PUBREL needs: the payload is already in the outbox.
      this.released.set(messageId, { cmd: 'publish', qos: 2, dup: false, retain: false, topic: pub.topic, payload: Buffer.alloc(0), messageId });
      cb();
    });
    return this;
  }

  get(packet: { messageId?: number }, cb: (err?: Error, packet?: IPublishPacket) => void): this {
    const p = packet.messageId === undefined ? undefined : this.released.get(packet.messageId);
    // Unknown id: committed before a restart; mqtt.js then answers PUBCOMP directly.
    if (p) cb(undefined, p);
    else cb(new Error('missing packet'));
    return this;
  }

  del(packet: { messageId?: number }, cb: (err?: Error, packet?: IPublishPacket) => void): this {
    const p = packet.messageId === undefined ? undefined : this.released.get(packet.messageId);
    if (packet.messageId !== undefined) this.released.delete(packet.messageId);
    if (p) cb(undefined, p);
    else cb(new Error('missing packet'));
    return this;
  }

  createStream(): ReturnType<IStore['createStream']> {
    // mqtt.js reads it only for outgoing messages; an incoming store has none to replay.
    return new Store().createStream();
  }

  close(cb: (err?: Error) => void): void {
    this.released.clear();
    cb();
  }

  get size(): number {
    return this.released.size;
  }
}

export interface MqttSourceOptions {
  /** Plant id from config: part of the default client id. */
  plant?: string;
  /** What the connection reads (default: the plain topics of `config.subscriptions`). */
  reader?: MessageReader;
  /** The source's type, for health and the page (default `mqtt`). */
  type?: string;
}

type SessionConfig = Pick<MqttSourceConfig, keyof typeof sessionFields>;

/** What the MQTT connection of a source needs from its config (the rest is its reader's). */
export type MqttSessionConfig = ConnectionConfig & SessionConfig & { name: string };

export class MqttSourceAdapter implements SourceAdapter {
  readonly type: string;
  readonly name: string;
  readonly clientId: string;

  private readonly log: Logger;
  private client: MqttClient | undefined;
  private store: CommitBeforePubrecStore | undefined;
  private readonly held: HandOver<Waiting>;
  /** mqtt.js continuation withheld while `maxInflight` messages wait: reading is paused until it is called. */
  private withheld: { resume: () => void } | undefined;
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private connectedOnce = false;

  private connected = false;
  private lastDataAt: string | null = null;
  private lastError: AdapterHealth['lastError'] = null;
  private lastLogged = { message: '', at: 0 };
  private readonly reader: MessageReader;
  private readonly link: MqttLink;
  private counts = { received: 0, acked: 0, invalid: 0, forgotten: 0, reconnects: 0 };

  constructor(
    private readonly config: MqttSessionConfig,
    private readonly ctx: AdapterContext,
    options: MqttSourceOptions = {},
  ) {
    this.name = config.name;
    this.type = options.type ?? 'mqtt';
    this.reader = options.reader ?? new TopicPayloadReader(config as MqttSourceConfig);
    this.link = {
      get connected() {
        return link();
      },
      publish: (topic, payload, opts) => this.publish(topic, payload, opts),
    };
    const link = () => this.client?.connected === true;
    this.log = ctx.log;
    let plant = options.plant ?? (ctx as AdapterContext & { plant?: string }).plant;
    if (config.clientId === undefined && plant === undefined) {
      plant = hostname();
      this.log.warn(
        { plant },
        'mqtt: no plant id given to the source; deriving the client id from the host name. Set clientId to keep the broker session if the host is renamed',
      );
    }
    this.clientId = config.clientId ?? defaultClientId(plant!, config.name);
    this.held = new HandOver<Waiting>(ctx, this.log, {
      policy: 'keep-all',
      limit: config.maxInflight,
      retry: { initialMs: config.retryMinMs, maxMs: config.retryMaxMs, floorMs: config.retryMinMs },
      what: 'messages',
      onCommitted: (items) => this.acknowledge(items),
      onRefused: (err) => this.recordError(err, 'outbox'),
      onSpace: () => this.resumeReading(),
    });
  }

  async start(): Promise<void> {
    if (this.client) return;
    this.stopping = false;
    this.stopped = undefined;
    this.connectedOnce = false;
    this.held.start();
    const c = this.config;
    const opts: IClientOptions = {
      ...clientOptions(c, this.clientId, c.clean, this.ctx.stateDir),
      manualConnect: true,
    };
    if (c.protocolVersion === 5) {
      opts.properties = {
        sessionExpiryInterval: c.clean ? 0 : c.sessionExpiryS,
        receiveMaximum: Math.min(c.maxInflight, 65535),
      };
    }
    this.store = new CommitBeforePubrecStore((packet, done) => this.onQos2Put(packet, done));
    opts.incomingStore = this.store;
    const will = this.reader.will?.();
    if (will) opts.will = will;
    const client = connect(c.url, opts);
    if (typeof (client as unknown as PacketSender)._sendPacket !== 'function') {
      client.end(true);
      throw new AgentError('MQTT_LIBRARY_CHANGED', 'the installed mqtt.js has no _sendPacket: acknowledgement after commit cannot work with this version');
    }
    client.handleMessage = (packet, callback) => this.onPublish(packet, callback);
    client.on('connect', (connack) => this.onConnect(client, connack));
    client.on('close', () => this.onClose());
    client.on('reconnect', () => {
      this.counts.reconnects++;
      // Each connection carries its own last will (a Sparkplug host's STATE death names the time of its birth).
      const next = this.reader.will?.();
      if (next) client.options.will = next;
    });
    client.on('error', (err) => this.noteError(explainTlsError(err, c), 'connection'));
    this.client = client;
    client.connect();
    this.log.info(
      { broker: safeUrl(c.url), clientId: this.clientId, clean: c.clean, subscriptions: this.reader.subscriptions().map((s) => s.topic) },
      `${this.type}: source starting`,
    );
  }

  stop(): Promise<void> {
    if (!this.client) return Promise.resolve();
    if (!this.stopped) this.stopped = this.shutdown(this.client);
    return this.stopped;
  }

  health(): AdapterHealth {
    const devices = this.reader.devices?.();
    return {
      ...(devices ? { devices } : {}),
      connected: this.connected,
      lastDataAt: this.lastDataAt,
      lastError: this.lastError,
      details: {
        broker: safeUrl(this.config.url),
        clientId: this.clientId,
        received: this.counts.received,
        acked: this.counts.acked,
        committed: this.held.counts.signals + this.held.counts.invalid,
        invalid: this.counts.invalid,
        /** Held messages forgotten because their connection dropped before they were committed (the broker sends them again). */
        forgotten: this.counts.forgotten,
        outboxRefusals: this.held.counts.refusals,
        reconnects: this.counts.reconnects,
        waiting: this.held.size,
        /** True while the outbox refuses: nothing is acknowledged and held messages are offered again later. */
        paused: this.held.refusing,
        /** True while reading from the broker is stopped because maxInflight messages wait. */
        readingPaused: this.withheld !== undefined,
        subscriptions: this.reader.subscriptions().length,
        ...this.reader.details?.(),
      },
    };
  }

  // --- connection events -------------------------------------------------

  private onConnect(client: MqttClient, connack: IConnackPacket): void {
    this.connected = true;
    const first = !this.connectedOnce;
    this.connectedOnce = true;
    this.log.info({ sessionPresent: connack.sessionPresent, first }, 'mqtt: connected');
    this.reader.connected?.(connack.sessionPresent);
    // A resumed session keeps its subscriptions. Subscribe on the first
    // connect of this process anyway, so a filter added to the config since
    // the session was made is picked up.
    if (connack.sessionPresent && !first) {
      this.reader.subscribed?.(this.link);
      return;
    }
    const map: ISubscriptionMap = {};
    for (const s of this.reader.subscriptions()) {
      map[s.topic] = this.config.protocolVersion === 5 ? { qos: s.qos, rh: 1 } : { qos: s.qos };
    }
    client.subscribe(map, (err, granted) => {
      if (err) {
        this.noteError(err, 'subscribe');
        return;
      }
      const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
      if (refused.length > 0) {
        this.noteError(new AgentError('MQTT_SUBSCRIBE_REFUSED', `the broker refused the subscription to ${refused.join(', ')}`), 'subscribe');
      } else {
        this.log.info({ granted: (granted ?? []).map((g) => `${g.topic}@${g.qos}`) }, 'mqtt: subscribed');
        this.reader.subscribed?.(this.link);
      }
    });
  }

  private onClose(): void {
    // Closing it ourselves on stop is no trouble to report.
    if (this.connected && !this.stopping) this.log.warn('mqtt: connection closed');
    this.connected = false;
    // Held QoS 1/2 messages of the closed connection that are not committed:
    // the broker still owns them and sends them again after reconnecting.
    this.counts.forgotten += this.held.forget((m) => m.note.qos !== 0);
    // Let mqtt.js run through what it still had from the closed connection;
    // onPublish turns those away (QoS 1/2) so they are never acknowledged.
    const w = this.withheld;
    this.withheld = undefined;
    if (w) w.resume();
  }

  // --- receiving -----------------------------------------------------------

  /** mqtt.js calls this for QoS 0 and 1 on PUBLISH, and for QoS 2 on PUBREL (already committed then). */
  private onPublish(packet: IPublishPacket, callback: (err?: Error) => void): void {
    if (packet.qos === 2) {
      callback();
      return;
    }
    if (this.stopping) return; // not acknowledged; the broker sends QoS 1 again next time
    const proceed = () => callback(packet.qos === 1 ? ACK_AFTER_COMMIT : undefined);
    if (packet.qos === 1 && !this.client?.connected) {
      // Left over from a connection that has closed: the broker sends it again.
      proceed();
      return;
    }
    this.accept(packet);
    if (this.held.full) {
      this.withheld = { resume: proceed };
    } else {
      proceed();
    }
  }

  /** mqtt.js stores an incoming QoS 2 message; `done` lets it send PUBREC. */
  private onQos2Put(packet: IPublishPacket, done: () => void): void {
    // Stopping, or left over from a closed connection: no PUBREC, the broker sends it again.
    if (this.stopping || !this.client?.connected) return;
    this.accept(packet, done);
  }

  private accept(packet: IPublishPacket, release?: () => void): void {
    const receivedAt = isoNow();
    this.counts.received++;
    this.lastDataAt = receivedAt;
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload, 'utf8') : packet.payload;
    const qos = packet.qos as 0 | 1 | 2;
    const w: Waiting = { via: this.client?.stream, qos, messageId: packet.messageId, release, parts: 0 };
    let reading;
    try {
      reading = this.reader.read(
        { topic: packet.topic, payload, qos, retain: packet.retain, dup: packet.dup, messageId: packet.messageId, receivedAt },
        this.link,
      );
    } catch (err) {
      // A reader must not throw; if one does, the message is kept, not lost.
      reading = {
        signals: [],
        invalid: { source: this.name, origin: packet.topic, reason: `could not be read: ${errorMessage(err)}`, ...rawPayload(payload), receivedAt },
      };
    }
    const { signals, invalid } = reading;
    if (reading.committed) w.committed = reading.committed;
    w.parts = (signals.length > 0 ? 1 : 0) + (invalid ? 1 : 0);
    if (w.parts === 0) {
      this.held.holdNothing(w);
      return;
    }
    // All signals of one message are one held item: maxInflight counts messages.
    if (signals.length > 0) this.held.holdAll(signals, w);
    if (invalid) {
      this.counts.invalid++;
      this.log.warn({ topic: packet.topic, reason: invalid.reason }, `${this.type}: invalid message kept as invalid input`);
      this.held.holdInvalid(invalid, w);
    }
  }

  /** Publish on this source's connection (a reader's commands and state). */
  private publish(topic: string, payload: Buffer | string, opts: { qos: 0 | 1 | 2; retain: boolean }): Promise<void> {
    const client = this.client;
    if (!client?.connected) return Promise.reject(new AgentError('MQTT_NOT_CONNECTED', `not connected: ${topic} not published`));
    return new Promise((resolve, reject) => {
      client.publish(topic, payload, opts, (err) => (err ? reject(err) : resolve()));
    });
  }

  // --- acknowledging -------------------------------------------------------

  /** Acknowledge committed messages, in arrival order, on the connection they came in on. */
  private acknowledge(items: Held<Waiting>[]): void {
    const client = this.client;
    // Acknowledgements of one commit leave in one socket write.
    const stream = client?.connected ? client.stream : undefined;
    if (stream && items.length > 1) {
      stream.cork();
      process.nextTick(() => stream.uncork());
    }
    for (const { note: w } of items) {
      // A message is acknowledged with the last of its parts.
      if (--w.parts > 0) continue;
      w.committed?.();
      if (w.qos === 0) continue;
      if (!client || w.via !== client.stream || !client.connected) {
        // Its connection is gone: the broker sends it again and the outbox ignores the duplicate.
        this.counts.forgotten++;
        continue;
      }
      if (w.qos === 1) {
        (client as unknown as PacketSender)._sendPacket({ cmd: 'puback', messageId: w.messageId! }, (err) => {
          if (err) this.noteError(err, 'puback');
        });
      } else {
        w.release?.();
      }
      this.counts.acked++;
    }
  }

  private resumeReading(): void {
    const w = this.withheld;
    if (!w || this.held.full) return;
    this.withheld = undefined;
    w.resume();
  }

  // --- stopping ------------------------------------------------------------

  private async shutdown(client: MqttClient): Promise<void> {
    this.stopping = true;
    // A commit under way may finish, so what it committed is acknowledged now
    // rather than sent again after the next start.
    const left = await this.held.stop(STOP_GRACE_MS);
    if (left.length > 0) {
      this.log.warn(
        { held: left.length, qos0: left.filter((m) => m.note.qos === 0).length },
        'mqtt: stopping with messages not committed; QoS 1/2 come again from the broker, QoS 0 are lost',
      );
    }
    this.withheld = undefined;
    if (client.connected && this.reader.stopping) {
      try {
        await this.reader.stopping(this.link);
      } catch (err) {
        this.noteError(err, 'stopping');
      }
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        client.end(true, {}, () => resolve());
      }, 3000);
      client.end(false, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    client.removeAllListeners();
    client.on('error', () => undefined);
    this.store = undefined;
    this.client = undefined;
    this.connected = false;
    this.log.info({ received: this.counts.received, acked: this.counts.acked, invalid: this.counts.invalid }, 'mqtt: source stopped');
  }

  /** For health: the last problem, as `<stage>: <message>`. */
  private recordError(err: unknown, stage: string): string {
    const message = `${stage}: ${errorMessage(err)}`;
    const code = errorCode(err);
    this.lastError = code === undefined ? { message, at: new Date().toISOString() } : { message, code, at: new Date().toISOString() };
    return message;
  }

  private noteError(err: unknown, stage: string): void {
    const message = this.recordError(err, stage);
    const now = Date.now();
    // The same failure repeats at every reconnect or retry: log it once a minute.
    if (message !== this.lastLogged.message || now - this.lastLogged.at > 60_000) {
      this.lastLogged = { message, at: now };
      this.log.warn({ err: errorMessage(err), code: errorCode(err), stage }, 'mqtt: ' + message);
    }
  }
}

export function createMqttSource(config: MqttSourceConfig, ctx: AdapterContext, options: MqttSourceOptions = {}): MqttSourceAdapter {
  return new MqttSourceAdapter(config, ctx, options);
}
