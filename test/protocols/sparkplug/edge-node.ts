import { connect, type MqttClient } from 'mqtt';
import { get as sparkplugPayload } from 'sparkplug-payload';
import type { UMetric, UPayload } from 'sparkplug-payload/lib/sparkplugbpayload';

/**
 * A Sparkplug B edge node for tests, encoding with Eclipse Tahu's
 * sparkplug-payload (not the agent's decoder): NBIRTH with a bdSeq and the
 * NDEATH as last will, NDATA with sequence numbers, devices, and the NCMD
 * messages it receives, decoded.
 */

const tahu = sparkplugPayload('spBv1.0')!;

export const encode = (payload: UPayload): Buffer => Buffer.from(tahu.encodePayload(payload));

export class EdgeNodeSim {
  client: MqttClient | undefined;
  seq = 0;
  /** NCMD payloads received, decoded with Tahu. */
  readonly commands: UPayload[] = [];

  constructor(
    readonly url: string,
    readonly group: string,
    readonly node: string,
    /** QoS of births and data (Sparkplug says 0; 1 exercises acknowledgement after commit). */
    readonly qos: 0 | 1 = 1,
  ) {}

  topic(type: string, device?: string): string {
    return `spBv1.0/${this.group}/${type}/${this.node}${device ? `/${device}` : ''}`;
  }

  /** Connect with the NDEATH of `bdSeq` as last will, and listen for commands. */
  async connect(bdSeq: number): Promise<void> {
    const client = connect(this.url, {
      clientId: `t-sp-${this.node}-${Math.random().toString(36).slice(2, 10)}`,
      clean: true,
      reconnectPeriod: 0,
      will: { topic: this.topic('NDEATH'), payload: this.deathPayload(bdSeq), qos: 1, retain: false },
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    client.on('message', (_topic, payload) => this.commands.push(tahu.decodePayload(payload)));
    await client.subscribeAsync(this.topic('NCMD'), { qos: 0 });
    this.client = client;
  }

  deathPayload(bdSeq: number): Buffer {
    return encode({ timestamp: Date.now(), metrics: [{ name: 'bdSeq', type: 'UInt64', value: bdSeq }] });
  }

  async birth(bdSeq: number, metrics: UMetric[], timestamp = Date.now()): Promise<void> {
    this.seq = 0;
    await this.send('NBIRTH', { timestamp, seq: 0, metrics: [{ name: 'bdSeq', type: 'UInt64', value: bdSeq }, ...metrics] });
  }

  /** The next NDATA (or `seq` to force one). */
  async data(metrics: UMetric[], opts: { seq?: number; timestamp?: number } = {}): Promise<void> {
    await this.send('NDATA', { timestamp: opts.timestamp ?? Date.now(), seq: opts.seq ?? this.next(), metrics });
  }

  async deviceBirth(device: string, metrics: UMetric[]): Promise<void> {
    await this.send('DBIRTH', { timestamp: Date.now(), seq: this.next(), metrics }, device);
  }

  async deviceData(device: string, metrics: UMetric[]): Promise<void> {
    await this.send('DDATA', { timestamp: Date.now(), seq: this.next(), metrics }, device);
  }

  async deviceDeath(device: string): Promise<void> {
    await this.send('DDEATH', { timestamp: Date.now(), seq: this.next(), metrics: [] }, device);
  }

  /** Publish an NDEATH as the broker would from the will. */
  async death(bdSeq: number): Promise<void> {
    await this.raw(this.topic('NDEATH'), this.deathPayload(bdSeq));
  }

  async raw(topic: string, payload: Buffer): Promise<void> {
    await this.client!.publishAsync(topic, payload, { qos: this.qos });
  }

  async end(): Promise<void> {
    await new Promise<void>((resolve) => (this.client ? this.client.end(true, {}, () => resolve()) : resolve()));
  }

  private next(): number {
    this.seq = (this.seq + 1) % 256;
    return this.seq;
  }

  private async send(type: string, payload: UPayload, device?: string): Promise<void> {
    await this.raw(this.topic(type, device), encode(payload));
  }
}
