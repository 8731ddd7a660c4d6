import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { IClientOptions } from 'mqtt';
import { z } from 'zod';
import { errorMessage } from '../../errors';
import { formatIssues } from '../../model/event';
import type { Logger } from '../../log';
import type { InvalidInput } from '../../model/signal';
import type { IncomingMessage, MessageReader, MqttLink, Reading } from '../mqtt/reader';
import type { DeviceHealth } from '../types';
import type { SparkplugSourceConfig } from './config';
import { encodePayload, readPayload } from './decode';
import { EdgeNodes, type SavedBirth } from './nodes';
import { DataType } from './schema';
import { commandTopic, parseTopic, stateTopic, subscriptionFilters } from './topic';

/**
 * Sparkplug B on an MQTT source's connection: subscribes to the births, data
 * and deaths of edge nodes and devices, turns them into signals (EdgeNodes),
 * keeps what cannot be read as invalid input, asks edge nodes for a rebirth
 * when the agent lost track of them (at most once per `rebirthIntervalS` per
 * node), and, as primary host application, publishes its STATE.
 *
 * The births it knows are kept in the state directory, written once a
 * birth's or a death's message is committed. After a restart they are taken
 * back only when the broker resumed the session at QoS 1 or 2: then no
 * message was missed, and what the broker queued meanwhile is read with the
 * aliases it was sent with, instead of being kept as invalid input while a
 * rebirth is asked for.
 */

/** Last values per edge node or device shown on the status page. */
const PAGE_VALUES = 50;
/** Topics whose reading is remembered; the memory is emptied when it is full. */
const TOPIC_CACHE = 4096;
/** Longest reason kept with invalid input (a message with many bad metrics). */
const MAX_REASON = 2000;

export class SparkplugReader implements MessageReader {
  private readonly nodes: EdgeNodes;
  private readonly lastRebirth = new Map<string, number>();
  private readonly topics = new Map<string, ReturnType<typeof parseTopic>>();
  private readonly filters: Array<{ topic: string; qos: 0 | 1 | 2 }>;
  /** The timestamp of the STATE birth and death of the current connection. */
  private stateAt = Date.now();
  private readonly counts = { messages: 0, rebirthRequests: 0, rebirthsHeldBack: 0, ignored: 0, birthsRestored: 0 };
  /** Where the births are kept (undefined: not kept). */
  private readonly birthsFile: string | undefined;
  /** Births saved by the previous run, until the first connection says whether they still hold. */
  private saved: SavedBirth[] | undefined;
  private saveFailed = false;

  constructor(
    private readonly config: SparkplugSourceConfig,
    private readonly log: Logger,
    stateDir?: string,
  ) {
    this.nodes = new EdgeNodes(config.name);
    const groups = config.groups.length > 0 ? config.groups : ['+'];
    this.filters = groups.flatMap((g) => subscriptionFilters(g)).map((topic) => ({ topic, qos: config.qos }));
    if (stateDir !== undefined) {
      this.birthsFile = join(stateDir, 'sparkplug', `${encodeURIComponent(config.name)}.births.json`);
      this.saved = this.loadBirths(this.birthsFile);
    }
  }

  connected(resumed: boolean): void {
    const saved = this.saved;
    if (saved === undefined) return;
    this.saved = undefined; // the first connection decides
    if (saved.length === 0) return;
    if (resumed && this.config.qos > 0) {
      this.counts.birthsRestored = this.nodes.restore(saved);
      this.log.info(
        { edgeNodes: saved.length },
        'sparkplug: births restored from the last run (the broker kept the session: what it queued is read with their aliases)',
      );
    } else {
      this.log.info(
        { edgeNodes: saved.length, resumed, qos: this.config.qos },
        'sparkplug: births of the last run not used (the broker did not keep the session, or QoS 0 may have lost messages): edge nodes are asked for a rebirth',
      );
    }
  }

  subscriptions(): ReadonlyArray<{ topic: string; qos: 0 | 1 | 2 }> {
    return this.filters;
  }

  read(message: IncomingMessage, link: MqttLink): Reading {
    this.counts.messages++;
    const { topic: name, payload, receivedAt } = message;
    const invalid = (reason: string): Reading => ({ signals: [], invalid: this.invalidInput(name, payload, reason, receivedAt) });
    if (payload.length > this.config.maxPayloadBytes) {
      return invalid(`payload of ${payload.length} bytes is over this source's maxPayloadBytes (${this.config.maxPayloadBytes})`);
    }
    let topic = this.topics.get(name);
    if (topic === undefined) {
      topic = parseTopic(name);
      // Edge nodes and devices publish on a handful of topics each: remember them (bounded).
      if (this.topics.size >= TOPIC_CACHE) this.topics.clear();
      this.topics.set(name, topic);
    }
    if ('problem' in topic) return invalid(topic.problem);
    const decoded = readPayload(payload);
    if (!decoded.ok) return invalid(decoded.reason);
    const outcome = this.nodes.handle(topic, decoded.payload, receivedAt);
    if (outcome.rebirth) this.askRebirth(topic.group, topic.node, outcome.rebirth, link);
    if (outcome.ignored) {
      this.counts.ignored++;
      this.log.info({ topic: name }, `sparkplug: ${outcome.ignored}`);
    }
    const reading: Reading = { signals: outcome.signals };
    if (topic.type !== 'NDATA' && topic.type !== 'DDATA' && this.birthsFile !== undefined) {
      // A birth or a death: what the agent knows of births now is saved once this message is committed (so never ahead of the broker's queue).
      const births = this.nodes.births();
      reading.committed = () => this.saveBirths(births);
    }
    if (outcome.problems.length > 0) {
      let reason = outcome.problems.join('; ');
      if (reason.length > MAX_REASON) reason = `${reason.slice(0, MAX_REASON)}… (${outcome.problems.length} problems)`;
      reading.invalid = this.invalidInput(name, payload, reason, receivedAt);
    }
    return reading;
  }

  will(): IClientOptions['will'] {
    if (this.config.primaryHostId === undefined) return undefined;
    // Birth and death of one connection carry the same timestamp (Sparkplug 3.0): a fresh one per connection.
    this.stateAt = Date.now();
    return { topic: stateTopic(this.config.primaryHostId), payload: Buffer.from(this.state(false)), qos: 1, retain: true };
  }

  subscribed(link: MqttLink): void {
    if (this.config.primaryHostId === undefined) return;
    const topic = stateTopic(this.config.primaryHostId);
    link.publish(topic, this.state(true), { qos: 1, retain: true }).then(
      () => this.log.info({ topic }, 'sparkplug: primary host STATE online published'),
      (err: unknown) => this.log.warn({ topic, err: errorMessage(err) }, 'sparkplug: the STATE online message was not published'),
    );
  }

  async stopping(link: MqttLink): Promise<void> {
    if (this.config.primaryHostId === undefined) return;
    await link.publish(stateTopic(this.config.primaryHostId), this.state(false), { qos: 1, retain: true });
  }

  details(): Record<string, unknown> {
    return { ...this.counts, edgeNodes: this.nodes.size, staleDeaths: this.nodes.staleDeaths };
  }

  devices(): DeviceHealth[] {
    return this.nodes.health(PAGE_VALUES);
  }

  private loadBirths(file: string): SavedBirth[] | undefined {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ file, err: errorMessage(err) }, 'sparkplug: the saved births could not be read');
      return undefined;
    }
    let problem: string;
    try {
      const parsed = birthsFileSchema.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data.births;
      problem = formatIssues(parsed.error.issues);
    } catch (err) {
      problem = errorMessage(err);
    }
    this.log.warn({ file, err: problem }, 'sparkplug: the saved births are not usable; edge nodes are asked for a rebirth');
    return undefined;
  }

  /** Write the whole file next to itself, then rename: a crash leaves the old births or the new ones. */
  private saveBirths(births: SavedBirth[]): void {
    const file = this.birthsFile!;
    try {
      mkdirSync(dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ version: 1, births }), { mode: 0o600 });
      renameSync(tmp, file);
      if (this.saveFailed) this.log.info({ file }, 'sparkplug: births are saved again');
      this.saveFailed = false;
    } catch (err) {
      if (!this.saveFailed)
        this.log.warn({ file, err: errorMessage(err) }, 'sparkplug: the births could not be saved (after a restart the edge nodes are asked for a rebirth)');
      this.saveFailed = true;
    }
  }

  private state(online: boolean): string {
    return JSON.stringify({ online, timestamp: this.stateAt });
  }

  private askRebirth(group: string, node: string, reason: string, link: MqttLink): void {
    const key = `${group}/${node}`;
    if (!this.config.requestRebirth) {
      this.log.warn({ node: key, reason }, 'sparkplug: the edge node needs a rebirth, and requestRebirth is off');
      return;
    }
    const now = Date.now();
    const last = this.lastRebirth.get(key);
    if (last !== undefined && now - last < this.config.rebirthIntervalS * 1000) {
      this.counts.rebirthsHeldBack++;
      return;
    }
    this.lastRebirth.set(key, now);
    this.counts.rebirthRequests++;
    const topic = commandTopic(group, node);
    const payload = encodePayload({
      timestamp: now,
      metrics: [{ name: 'Node Control/Rebirth', timestamp: now, datatype: DataType.Boolean, booleanValue: true }],
    });
    this.log.info({ node: key, reason, topic }, 'sparkplug: rebirth requested');
    link.publish(topic, Buffer.from(payload), { qos: 0, retain: false }).catch((err: unknown) => {
      // Not connected: the next message of that node asks again (after rebirthIntervalS).
      this.lastRebirth.delete(key);
      this.log.warn({ node: key, err: errorMessage(err) }, 'sparkplug: the rebirth request was not sent');
    });
  }

  private invalidInput(origin: string, payload: Buffer, reason: string, receivedAt: string): InvalidInput {
    return { source: this.config.name, origin, reason, raw: payload.toString('base64'), encoding: 'base64', receivedAt };
  }
}

const savedMetrics = z.array(z.tuple([z.string(), z.union([z.number(), z.string(), z.null()]), z.number()]));

/** The births file as the reader writes it (version 1). */
const birthsFileSchema = z.object({
  version: z.literal(1),
  births: z.array(
    z.object({
      group: z.string(),
      node: z.string(),
      bdSeq: z.string().optional(),
      since: z.string().nullable(),
      metrics: savedMetrics,
      devices: z.array(z.object({ name: z.string(), since: z.string().nullable(), metrics: savedMetrics })),
    }),
  ),
}) satisfies z.ZodType<{ version: 1; births: SavedBirth[] }>;
