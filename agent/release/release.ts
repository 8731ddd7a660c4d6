import type { ReleaseProblem, ReleaseProblemKind, ReleaseStore } from '../buffer/release-store';
import { errorMessage } from '../errors';
import type { Logger } from '../log';
import type { OdooClient } from '../odoo/types';
import type { MqttStatusPublisher } from '../protocols/mqtt/publisher';
import type { SourceAdapter } from '../protocols/types';
import type { CurrentOrderClaim } from '../rules/current-order';
import type { ReleaseConfig } from './config';
import { ReleaseFollower, type ReleaseChange } from './follower';
import { LineWrites, type LineOrder, type LineWriteStatus } from './line-writes';
import { orderMessage, queueMessage, queueOf, RELEASE_STATUS_SCHEMA, releaseTopics, versionOf, type ReleasedOrder, type ReleaseTopics } from './orders';
import { ReleaseMqtt } from './publish';

export interface OrderReleaseDeps {
  config: ReleaseConfig;
  plant: string;
  store: ReleaseStore;
  log: Logger;
  /** The Odoo link, when delivery is configured. */
  odoo: () => { client: OdooClient; connected(): boolean } | undefined;
  /** The agent's own MQTT connection, when configured. */
  mqtt: () => MqttStatusPublisher | undefined;
  adapters: () => readonly SourceAdapter[];
  /** Offer a work center's current order to the rules (the pipeline's claimCurrentOrder). */
  claim?: (workcenter: string, claim: CurrentOrderClaim) => Promise<boolean>;
  /** The claim the rules hold for a work center now. */
  currentClaim?: (workcenter: string) => CurrentOrderClaim | undefined;
  now?: () => number;
}

export interface ReleaseStatus {
  enabled: true;
  orders: number;
  /** When Odoo's data was last read (ms), null when never. */
  asOf: number | null;
  fullAt: number | null;
  odoo: { reachable: boolean; unreachableSince: number | null; lastError: string | null };
  polls: { full: number; incremental: number; failed: number; lastRequests: number };
  mqtt: { published: number; failed: number; emptied: number; foreign: number; lastError: string | null } | null;
  acks: { received: number; lastAt: number | null };
  workcenters: Array<{ name: string; queue: number; head: string | null; headAckedAt: number | null; headAckCurrent: boolean }>;
  writes: LineWriteStatus[];
  problems: { counts: Partial<Record<ReleaseProblemKind, number>>; latest: ReleaseProblem[] };
}

const STATUS_EVERY_MS = 60_000;
const CONNECT_GRACE_MS = 3000;

/**
 * Order release, Odoo -> plant: follows the plant's open orders in Odoo
 * (ReleaseFollower), publishes them per order and per work center on MQTT
 * (ReleaseMqtt), writes each line's current order to its controller
 * (LineWrites), hands the order a line is on to the rules, and takes the
 * MES's acknowledgements. Works from its SQLite copy while Odoo is away.
 */
export class OrderRelease {
  private readonly follower: ReleaseFollower;
  private readonly topics: ReleaseTopics;
  private readonly writes: LineWrites;
  private mqttSide: ReleaseMqtt | undefined;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private needFull = true;
  private unreachableSince: number | null = null;
  private lastError: string | null = null;
  private readonly polls = { full: 0, incremental: 0, failed: 0, lastRequests: 0 };
  private readonly acks = new Map<number, { at: number; version: string }>();
  private ackCount = 0;
  private lastAckAt: number | null = null;
  private lastStatusAt = 0;
  private readonly claimed = new Map<string, string | null>();
  private readonly now: () => number;
  private readonly startedAt: number;

  constructor(private readonly deps: OrderReleaseDeps) {
    this.now = deps.now ?? Date.now;
    this.startedAt = this.now();
    this.follower = new ReleaseFollower(deps.config, deps.store, this.now);
    this.topics = releaseTopics(deps.config.mqtt, deps.plant);
    this.writes = new LineWrites(deps.config.writes, deps.adapters, deps.log, (wc, detail) => this.problem('write-refused', wc, detail));
    for (const s of deps.store.orders()) if (s.ack) this.acks.set(s.order.id, { at: s.ack.at, version: s.ack.version });
  }

  /** Publish what SQLite holds (the list survives a restart), then follow Odoo. */
  async start(): Promise<void> {
    const out = this.deps.config.mqtt.enabled ? this.deps.mqtt() : undefined;
    if (out) {
      this.mqttSide = new ReleaseMqtt(
        out,
        this.topics,
        this.deps.config.mqtt.qos,
        {
          current: (topic) => this.messageFor(topic),
          filled: () => this.follower.asOf !== null,
          ack: (topic, payload) => this.onAck(topic, payload),
          foreign: (topic, raw) => this.problem('foreign-content', topic, `a retained message on ${topic} is not one of the release's messages`, raw),
        },
        this.deps.log,
      );
      await this.mqttSide.start();
    }
    if (this.follower.asOf !== null) await this.publishAll();
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.writes.stop();
    await this.chain.catch(() => undefined);
  }

  /** One read of Odoo now (the resync schedule: `full`). Serialised with the polls. */
  read(kind: 'full' | 'incremental'): Promise<ReleaseChange | undefined> {
    const run = this.chain.then(() => this.readNow(kind));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** The released orders, as last read. */
  orders(): ReleasedOrder[] {
    return this.follower.list();
  }

  /** Resolves once no line write is under way (tests). */
  writesSettled(): Promise<void> {
    return this.writes.settled();
  }

  status(): ReleaseStatus {
    const orders = this.follower.list();
    const names = new Set([...this.follower.plantWorkcenters(), ...this.writes.workcenters().map((w) => this.follower.odooName(w) ?? w)]);
    return {
      enabled: true,
      orders: orders.length,
      asOf: this.follower.asOf,
      fullAt: this.follower.fullAt,
      odoo: { reachable: this.unreachableSince === null, unreachableSince: this.unreachableSince, lastError: this.lastError },
      polls: { ...this.polls },
      mqtt: this.mqttSide ? { ...this.mqttSide.counts, lastError: this.mqttSide.lastError } : null,
      acks: { received: this.ackCount, lastAt: this.lastAckAt },
      workcenters: [...names].sort().map((name) => {
        const queue = queueOf(orders, name);
        const head = queue[0]?.order;
        const ack = head ? this.acks.get(head.id) : undefined;
        return {
          name,
          queue: queue.length,
          head: head?.name ?? null,
          headAckedAt: ack?.at ?? null,
          headAckCurrent: !!head && !!ack && ack.version === versionText(head),
        };
      }),
      writes: this.writes.status(),
      problems: { counts: this.deps.store.problemCounts(), latest: this.deps.store.problems(20) },
    };
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.read(this.needFull ? 'full' : 'incremental').finally(() => this.schedule(this.deps.config.pollSeconds * 1000));
    }, ms);
  }

  private async readNow(kind: 'full' | 'incremental'): Promise<ReleaseChange | undefined> {
    if (this.stopped) return undefined;
    const link = this.deps.odoo();
    if (!link || !link.connected()) {
      // The link connects in its first seconds: not yet a reason to say Odoo is away.
      if (this.now() - this.startedAt >= CONNECT_GRACE_MS || !link) this.unreachable(link ? 'Odoo is not reachable now' : 'no Odoo link is configured');
      return undefined;
    }
    let change: ReleaseChange;
    try {
      change = await this.follower.read(link.client, this.needFull ? 'full' : kind);
    } catch (err) {
      this.polls.failed++;
      this.unreachable(errorMessage(err));
      return undefined;
    }
    this.needFull = false;
    this.polls[change.kind]++;
    this.polls.lastRequests = change.requests;
    const wasDown = this.unreachableSince !== null;
    this.unreachableSince = null;
    this.lastError = null;
    if (wasDown) this.deps.log.info('release: Odoo answers again');
    await this.publishChange(change);
    return change;
  }

  private unreachable(why: string): void {
    if (this.unreachableSince === null) {
      this.unreachableSince = this.now();
      this.deps.log.warn(
        { err: why },
        `release: cannot read Odoo (${why}); the plant keeps the list of ${this.follower.list().length} orders as of ${this.follower.asOf ? new Date(this.follower.asOf).toISOString() : 'never'}`,
      );
      void this.publishStatus();
    }
    this.lastError = why;
  }

  private async publishChange(change: ReleaseChange): Promise<void> {
    for (const u of change.unknownWorkcenters) {
      this.problem(
        'unknown-workcenter',
        u.workcenter,
        `order ${u.order} has work order "${u.workorder}" at work center "${u.workcenter}", which is not one of this plant's (release.workcenters)`,
      );
    }
    if (change.changed.length || change.removed.length)
      this.deps.log.info(
        { changed: change.changed.length, removed: change.removed.map((r) => `${r.order.name} (${r.reason})`), requests: change.requests },
        `release: ${change.kind} read of Odoo`,
      );
    const plant = new Set(this.follower.plantWorkcenters());
    const queues = change.kind === 'full' ? plant : new Set([...change.workcenters].filter((w) => plant.has(w)));
    const side = this.mqttSide;
    if (side) {
      const puts: Array<Promise<boolean>> = [];
      for (const o of change.changed) puts.push(side.put(this.topics.order(o.name), orderMessage(o, this.deps.plant, change.asOf)));
      for (const r of change.removed) puts.push(side.put(this.topics.order(r.order.name), ''));
      for (const wc of queues) puts.push(side.put(this.topics.queue(wc), this.queueFor(wc)));
      await Promise.all(puts);
    }
    await this.afterQueues(change.kind === 'full' ? undefined : change.workcenters);
    if (change.kind === 'full' || change.changed.length || change.removed.length || this.now() - this.lastStatusAt >= STATUS_EVERY_MS)
      await this.publishStatus();
  }

  /** Everything the release holds (after a start): orders, queues, status. */
  private async publishAll(): Promise<void> {
    const side = this.mqttSide;
    if (side) {
      const puts: Array<Promise<boolean>> = [];
      for (const o of this.follower.list())
        puts.push(side.put(this.topics.order(o.name), orderMessage(o, this.deps.plant, this.follower.asOfOf(o.id) ?? this.follower.asOf!)));
      for (const wc of this.follower.plantWorkcenters()) puts.push(side.put(this.topics.queue(wc), this.queueFor(wc)));
      await Promise.all(puts);
    }
    await this.afterQueues(undefined);
    await this.publishStatus();
  }

  /** Line writes and the rules follow the queues (of `only` these work centers, or all). */
  private async afterQueues(only: Set<string> | undefined): Promise<void> {
    const orders = this.follower.list();
    for (const configured of this.writes.workcenters()) {
      const name = this.follower.odooName(configured) ?? configured;
      if (only && !only.has(name)) continue;
      const head = queueOf(orders, name)[0];
      this.writes.set(configured, head ? lineOrder(head.order) : null);
    }
    if (!this.deps.config.feedsRules || !this.deps.claim) return;
    for (const wc of only ?? new Set(this.follower.plantWorkcenters())) {
      const head = queueOf(orders, wc)[0];
      const running = head && head.workorder.state === 'progress' ? head : undefined;
      const production = running?.order.name ?? null;
      if (this.claimed.has(wc) && this.claimed.get(wc) === production) continue;
      this.claimed.set(wc, production);
      // "No order" only takes back what the release itself said.
      if (production === null && this.deps.currentClaim?.(wc)?.by !== 'release') continue;
      const at = running ? running.workorder.writeDate || running.order.writeDate : new Date(this.follower.asOf ?? this.now()).toISOString();
      try {
        const took = await this.deps.claim(wc, { production, at, by: 'release' });
        if (took) this.deps.log.info({ workcenter: wc, production }, `release: ${wc} is on ${production ?? 'no order'} (work order in progress in Odoo)`);
      } catch (err) {
        this.claimed.delete(wc);
        this.deps.log.warn({ workcenter: wc, err: errorMessage(err) }, `release: could not hand the current order of ${wc} to the rules: ${errorMessage(err)}`);
      }
    }
  }

  private async publishStatus(): Promise<void> {
    if (!this.mqttSide) return;
    this.lastStatusAt = this.now();
    await this.mqttSide.put(this.topics.status, {
      schema: RELEASE_STATUS_SCHEMA,
      plant: this.deps.plant,
      asOf: this.follower.asOf === null ? null : new Date(this.follower.asOf).toISOString(),
      odoo: this.unreachableSince === null ? 'reachable' : 'unreachable',
      unreachableSince: this.unreachableSince === null ? null : new Date(this.unreachableSince).toISOString(),
      orders: this.follower.list().length,
    });
  }

  private queueFor(workcenter: string): Record<string, unknown> {
    return queueMessage(workcenter, queueOf(this.follower.list(), workcenter), this.deps.plant, this.follower.asOf ?? this.now());
  }

  /** The release's message for a topic now ('' for none; undefined when it is not one of its topics). */
  private messageFor(topic: string): Record<string, unknown> | '' | undefined {
    if (topic === this.topics.status) return undefined;
    for (const wc of this.follower.plantWorkcenters()) if (this.topics.queue(wc) === topic) return this.queueFor(wc);
    for (const o of this.follower.list())
      if (this.topics.order(o.name) === topic) return orderMessage(o, this.deps.plant, this.follower.asOfOf(o.id) ?? this.now());
    return undefined;
  }

  private onAck(topic: string, payload: Buffer): void {
    const raw = payload.toString('utf8');
    let body: { order?: unknown; version?: unknown; by?: unknown };
    try {
      body = JSON.parse(raw) as typeof body;
      if (!body || typeof body !== 'object' || (typeof body.order !== 'string' && typeof body.order !== 'number'))
        throw new Error('no "order" (its name or id)');
    } catch (err) {
      this.problem('bad-ack', topic, `an acknowledgement on ${topic} is not {"order": <name or id>, ...}: ${errorMessage(err)}`, raw);
      return;
    }
    const order = typeof body.order === 'number' ? this.follower.get(body.order) : this.follower.byName(body.order);
    if (!order) {
      this.problem(
        'unknown-ack',
        String(body.order),
        `the line acknowledged order ${String(body.order)} on ${topic}, which is not among the released orders`,
        raw,
      );
      return;
    }
    const version = versionTextOf(body.version) ?? versionText(order);
    const at = this.now();
    this.deps.store.ack(order.id, at, version, typeof body.by === 'string' ? body.by.slice(0, 128) : null);
    this.acks.set(order.id, { at, version });
    this.ackCount++;
    this.lastAckAt = at;
    this.deps.log.info({ order: order.name, version }, `release: the line acknowledged ${order.name}`);
  }

  private problem(kind: ReleaseProblemKind, subject: string, detail: string, raw?: string): void {
    this.deps.log.warn({ kind, subject }, `release: ${detail}`);
    try {
      this.deps.store.problem(kind, subject, detail, raw);
    } catch (err) {
      this.deps.log.error({ err: errorMessage(err) }, `release: could not keep the problem: ${errorMessage(err)}`);
    }
  }
}

function lineOrder(o: ReleasedOrder): LineOrder {
  return { order: o.name, quantity: o.quantity, product: o.product.code ?? o.product.name };
}

/** An order version as text: `<id>@<writeDate>`. */
function versionText(o: ReleasedOrder): string {
  const v = versionOf(o);
  return `${v.id}@${v.writeDate}`;
}

function versionTextOf(v: unknown): string | undefined {
  if (typeof v === 'string' && v) return v.slice(0, 64);
  if (v && typeof v === 'object' && 'id' in v && 'writeDate' in v)
    return `${String((v as { id: unknown }).id)}@${String((v as { writeDate: unknown }).writeDate)}`;
  return undefined;
}
