import {
  AttributeIds,
  ClientMonitoredItemGroup,
  DataChangeFilter,
  DataChangeTrigger,
  DeadbandType,
  TimestampsToReturn,
  type ClientMonitoredItemBase,
  type ClientSession,
  type ClientSubscription,
  type DataValue,
  type MonitoringParametersOptions,
  type ReadValueIdOptions,
} from 'node-opcua';
import { errorMessage } from '../../errors';
import type { Logger } from '../../log';
import type { OpcuaSourceConfig } from './config';
import type { PlannedItem } from './items';
import { withTimeout } from './timeout';

/** What the subscriptions of one client need from it. */
export interface SubscriptionOwner {
  readonly cfg: OpcuaSourceConfig;
  readonly log: Logger;
  /** True once the client is being closed: events after that mean nothing. */
  readonly closing: boolean;
  /** The subscriptions cannot go on: give up on this client. */
  end(reason: string): void;
  onData(item: PlannedItem, dataValue: DataValue): void;
}

export interface ActiveSubscription {
  name: string;
  subscription: ClientSubscription;
  groups: ClientMonitoredItemGroup[];
  /** Last notification or keep-alive, ms since epoch. */
  lastAlive: number;
  /** No sign of life for this long means the subscription is lost. */
  staleAfterMs: number;
}

/** The OPC UA subscriptions of one session and their monitored items; knows when one has gone silent. */
export class Subscriptions {
  private active: ActiveSubscription[] = [];

  constructor(private readonly owner: SubscriptionOwner) {}

  /** One subscription per configured one; every item that has a node becomes a monitored item, at most `perCall` per request. */
  async create(session: ClientSession, items: readonly PlannedItem[], perCall: number): Promise<void> {
    const { cfg } = this.owner;
    for (const [s, subCfg] of cfg.subscriptions.entries()) {
      const active = await this.subscribe(session, subCfg.name ?? `subscription-${s + 1}`, subCfg.publishingIntervalMs);
      const publishing = subCfg.publishingIntervalMs;
      // items that share sampling, queue and dead band go into one request
      const byParams = new Map<string, PlannedItem[]>();
      for (const p of items) {
        if (p.subscription !== s || !p.nodeId) continue;
        const sampling = p.config.samplingIntervalMs ?? subCfg.samplingIntervalMs ?? publishing;
        const queue = p.config.queueSize ?? subCfg.queueSize;
        const key = `${sampling}|${queue}|${p.config.deadband ? `${p.config.deadband.type}:${p.config.deadband.value}` : ''}`;
        const list = byParams.get(key) ?? [];
        list.push(p);
        byParams.set(key, list);
      }
      for (const list of byParams.values()) {
        for (let start = 0; start < list.length; start += perCall) {
          await this.monitor(active, list.slice(start, start + perCall), subCfg.samplingIntervalMs ?? publishing, subCfg.queueSize);
        }
      }
    }
  }

  /** One OPC UA subscription, watched for silence and termination like every other of this client. */
  async subscribe(session: ClientSession, name: string, publishing: number): Promise<ActiveSubscription> {
    const { cfg, log } = this.owner;
    // an empty "still here" publish about every 5 s when nothing changes
    const keepAliveCount = Math.min(100, Math.max(3, Math.ceil(5000 / publishing)));
    const subscription = await withTimeout(
      session.createSubscription2({
        requestedPublishingInterval: publishing,
        requestedMaxKeepAliveCount: keepAliveCount,
        // the server keeps the subscription as long as it keeps the session
        requestedLifetimeCount: Math.max(keepAliveCount * 3, Math.ceil(cfg.requestedSessionTimeoutMs / publishing)),
        maxNotificationsPerPublish: 0,
        publishingEnabled: true,
        priority: 10,
      }),
      cfg.requestTimeoutMs * 2,
      'creating a subscription',
    );
    const revisedInterval = subscription.publishingInterval || publishing;
    const revisedKeepAlive = subscription.maxKeepAliveCount || keepAliveCount;
    const active: ActiveSubscription = {
      name,
      subscription,
      groups: [],
      lastAlive: Date.now(),
      // three keep-alive periods without a sign of life: the subscription is gone
      staleAfterMs: revisedInterval * revisedKeepAlive * 3,
    };
    this.active.push(active);
    const alive = () => {
      active.lastAlive = Date.now();
    };
    subscription.on('keepalive', alive);
    subscription.on('received_notifications', alive);
    subscription.on('terminated', () => {
      if (!this.owner.closing) this.owner.end(`subscription ${name} was terminated by the server`);
    });
    subscription.on('status_changed', (status: { isGood?: () => boolean; name?: string }) => {
      if (!this.owner.closing && status?.isGood && !status.isGood()) this.owner.end(`subscription ${name} ended: ${status.name}`);
    });
    subscription.on('internal_error', (err: Error) => {
      if (!this.owner.closing) this.owner.end(`subscription ${name}: ${errorMessage(err)}`);
    });
    subscription.on('error', (err: Error) => {
      if (!this.owner.closing) log.warn({ err: errorMessage(err), subscription: name }, 'subscription error');
    });
    return active;
  }

  private async monitor(active: ActiveSubscription, chunk: PlannedItem[], subSampling: number, subQueue: number): Promise<void> {
    const first = chunk[0]!.config;
    const deadband = first.deadband;
    const parameters: MonitoringParametersOptions = {
      samplingInterval: first.samplingIntervalMs ?? subSampling,
      queueSize: first.queueSize ?? subQueue,
      discardOldest: true,
      filter: deadband
        ? new DataChangeFilter({
            trigger: DataChangeTrigger.StatusValue,
            deadbandType: deadband.type === 'absolute' ? DeadbandType.Absolute : DeadbandType.Percent,
            deadbandValue: deadband.value,
          })
        : null,
    };
    const toMonitor: ReadValueIdOptions[] = chunk.map((p) => ({ nodeId: p.nodeId!, attributeId: AttributeIds.Value }));
    const group = ClientMonitoredItemGroup.create(active.subscription, toMonitor, parameters, TimestampsToReturn.Both);
    active.groups.push(group);
    const owner = this.owner;
    group.on('changed', (_item: ClientMonitoredItemBase, dataValue: DataValue, index: number) => {
      const p = chunk[index];
      if (p) owner.onData(p, dataValue);
    });
    await withTimeout(
      new Promise<void>((resolveP, rejectP) => {
        group.once('initialized', () => resolveP());
        group.once('terminated', (err?: Error) => rejectP(err ?? new Error('monitored items were terminated')));
      }),
      owner.cfg.requestTimeoutMs * 2,
      'creating monitored items',
    );
    group.monitoredItems.forEach((mi, k) => {
      const p = chunk[k]!;
      if (!mi.statusCode.isGood()) p.failure = `${p.nodeIdText}: ${mi.statusCode.name}`;
    });
  }

  /** A subscription without notifications or keep-alives for too long: how long, and which. */
  silent(now: number): { name: string; secs: number } | null {
    for (const s of this.active) {
      if (now - s.lastAlive > s.staleAfterMs) return { name: s.name, secs: Math.round((now - s.lastAlive) / 1000) };
    }
    return null;
  }

  /** The connection was repaired: every subscription starts a new keep-alive period. */
  repaired(): void {
    for (const s of this.active) s.lastAlive = Date.now();
  }

  get count(): number {
    return this.active.length;
  }

  /** Monitored items the server accepted. */
  get monitored(): number {
    return this.active.reduce((n, s) => n + s.groups.reduce((m, g) => m + g.monitoredItems.filter((mi) => mi.statusCode.isGood()).length, 0), 0);
  }

  /** Forget them (the server deletes them with the session). */
  dispose(): void {
    for (const s of this.active) {
      for (const g of s.groups) g.removeAllListeners();
      s.subscription.removeAllListeners();
    }
    this.active = [];
  }
}
