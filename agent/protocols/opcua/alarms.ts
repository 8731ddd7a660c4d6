import {
  AttributeIds,
  ClientMonitoredItem,
  ContentFilterElement,
  DataType,
  FilterOperator,
  TimestampsToReturn,
  Variant,
  coerceNodeId,
  constructEventFilter,
  greaterThanOrEqual,
  l,
  makeContentFilter,
  ofType,
  or,
  and,
  s,
  type ClientSession,
  type EventFilter,
  type NodeId,
} from 'node-opcua';
import { errorMessage } from '../../errors';
import type { Logger } from '../../log';
import { ALARM_FIELDS, REFRESH_END, REFRESH_REQUIRED, REFRESH_START } from './alarm-decode';
import { SERVER_OBJECT, type OpcuaAlarmsConfig } from './config';
import type { RawVariant } from './decode';
import type { ActiveSubscription, Subscriptions } from './subscriptions';
import { withTimeout } from './timeout';

/** ConditionType (i=2782) and its ConditionRefresh method (i=3875), OPC 10000-9, 5.5.7. */
const CONDITION_TYPE = 'i=2782';
const CONDITION_REFRESH = 'i=3875';

/**
 * What an `alarms` entry reports: one event (its fields in ALARM_FIELDS
 * order), or that the agent is about to ask for a refresh, or that the server
 * refused it.
 */
export type AlarmNotice = { kind: 'event'; fields: RawVariant[] } | { kind: 'refresh-begin' } | { kind: 'refresh-failed' };

/** What the alarm monitors of one client need from it. */
export interface AlarmOwner {
  readonly closing: boolean;
  readonly log: Logger;
  onAlarmNotice(index: number, notice: AlarmNotice): void;
  end(reason: string): void;
}

interface AlarmMonitor {
  index: number;
  name: string;
  notifier: string;
  active: ActiveSubscription;
  /** Why the notifier cannot be monitored, or null. */
  failure: string | null;
  /** True once the server accepted the notifier's monitored item. */
  ready: boolean;
}

/**
 * The event filter: the fields of ALARM_FIELDS, for events of the configured
 * types whose severity is at least `minSeverity` or that say the alarm is
 * inactive (a return to normal often comes with a low severity and must not
 * be lost), plus the refresh markers, which a server must deliver anyway but
 * some filter like any other event.
 */
export function alarmEventFilter(cfg: Pick<OpcuaAlarmsConfig, 'eventTypes' | 'minSeverity'>, eventTypes: readonly string[] = cfg.eventTypes): EventFilter {
  let types = ofType(coerceNodeId(eventTypes[0]!));
  for (const t of eventTypes.slice(1)) types = or(types, ofType(coerceNodeId(t)));
  let alarms = types;
  if (cfg.minSeverity > 0) {
    const inactive = new ContentFilterElement({
      filterOperator: FilterOperator.Equals,
      filterOperands: [s(AttributeIds.Value, 'ActiveState.Id'), l(DataType.Boolean, false)],
    });
    alarms = and(types, or(greaterThanOrEqual(s(AttributeIds.Value, 'Severity'), l(DataType.UInt16, cfg.minSeverity)), inactive));
  }
  const markers = or(or(ofType(coerceNodeId(REFRESH_START)), ofType(coerceNodeId(REFRESH_END))), ofType(coerceNodeId(REFRESH_REQUIRED)));
  return constructEventFilter([...ALARM_FIELDS], makeContentFilter(or(alarms, markers)));
}

/** Only the end of a refresh and a request for one. */
function refreshMarkerFilter(): EventFilter {
  return constructEventFilter([...ALARM_FIELDS], makeContentFilter(or(ofType(coerceNodeId(REFRESH_END)), ofType(coerceNodeId(REFRESH_REQUIRED)))));
}

/** The `alarms` entries of a source on one session: one subscription each, its notifier monitored for events. */
export class AlarmMonitors {
  private monitors: AlarmMonitor[] = [];

  constructor(
    private readonly owner: AlarmOwner,
    private readonly requestTimeoutMs: number,
  ) {}

  async create(session: ClientSession, configs: readonly OpcuaAlarmsConfig[], subscriptions: Subscriptions): Promise<void> {
    if (configs.length === 0) return;
    const needsNamespaces = configs.some((c) => [c.notifier, ...c.eventTypes].some((id) => id.startsWith('nsu=')));
    const namespaceArray = needsNamespaces
      ? await withTimeout(session.readNamespaceArray(), this.requestTimeoutMs * 2, 'reading the namespace table')
      : undefined;
    const resolve = (id: string) => coerceNodeId(id, namespaceArray ? { namespaceArray } : undefined);
    for (const [index, cfg] of configs.entries()) {
      const name = cfg.name ?? `alarms-${index + 1}`;
      const active = await subscriptions.subscribe(session, name, cfg.publishingIntervalMs);
      const monitor: AlarmMonitor = { index, name, notifier: cfg.notifier, active, failure: null, ready: false };
      this.monitors.push(monitor);
      let filter: EventFilter;
      let notifier: NodeId;
      try {
        notifier = resolve(cfg.notifier);
        filter = alarmEventFilter(
          cfg,
          cfg.eventTypes.map((t) => resolve(t).toString()),
        );
      } catch (err) {
        monitor.failure = `alarms ${name}: ${errorMessage(err)}`;
        continue;
      }
      try {
        await this.monitorEvents(active, index, notifier, filter, cfg.queueSize);
      } catch (err) {
        monitor.failure = `alarms ${name}: notifier ${cfg.notifier} cannot be monitored for events (${errorMessage(err)})`;
        continue;
      }
      monitor.ready = true;
      if (notifier.toString() === coerceNodeId(SERVER_OBJECT).toString()) continue;
      // Some servers (node-opcua among them) send the refresh markers only to
      // the Server object, not to an area: listen there for the end of a refresh
      // too, created after the area so its markers come after the area's events.
      try {
        await this.monitorEvents(active, index, coerceNodeId(SERVER_OBJECT), refreshMarkerFilter(), 100);
      } catch (err) {
        this.owner.log.debug({ alarms: name, err: errorMessage(err) }, 'cannot listen for refresh markers on the Server object');
      }
    }
  }

  private async monitorEvents(active: ActiveSubscription, index: number, nodeId: NodeId, filter: EventFilter, queueSize: number): Promise<void> {
    const item = ClientMonitoredItem.create(
      active.subscription,
      { nodeId, attributeId: AttributeIds.EventNotifier },
      { samplingInterval: 0, queueSize, discardOldest: true, filter },
      TimestampsToReturn.Neither,
    );
    item.on('changed', (fields: unknown) => {
      if (!this.owner.closing && Array.isArray(fields)) this.owner.onAlarmNotice(index, { kind: 'event', fields: fields as RawVariant[] });
    });
    await withTimeout(
      new Promise<void>((resolveP, rejectP) => {
        item.once('initialized', () => resolveP());
        item.once('err', (message: string) => rejectP(new Error(message)));
      }),
      this.requestTimeoutMs * 2,
      'monitoring the alarm notifier',
    );
  }

  /**
   * Ask the server to send every alarm it retains again (ConditionRefresh on
   * each alarm subscription), so active alarms are known after a connect or a
   * server restart. A server that refuses is logged by the caller; the
   * subscription still reports new transitions.
   */
  async refresh(session: ClientSession): Promise<string[]> {
    const problems: string[] = [];
    for (const m of this.monitors) {
      if (!m.ready) continue;
      this.owner.onAlarmNotice(m.index, { kind: 'refresh-begin' });
      try {
        const result = await withTimeout(
          session.call({
            objectId: coerceNodeId(CONDITION_TYPE),
            methodId: coerceNodeId(CONDITION_REFRESH),
            inputArguments: [new Variant({ dataType: DataType.UInt32, value: m.active.subscription.subscriptionId })],
          }),
          this.requestTimeoutMs,
          'ConditionRefresh',
        );
        if (result.statusCode.isGood()) continue;
        problems.push(`alarms ${m.name}: ConditionRefresh answered ${result.statusCode.name}; alarms already active are not known until they change`);
      } catch (err) {
        problems.push(`alarms ${m.name}: ConditionRefresh failed (${errorMessage(err)}); alarms already active are not known until they change`);
      }
      this.owner.onAlarmNotice(m.index, { kind: 'refresh-failed' });
    }
    return problems;
  }

  /** Entries whose notifier could not be monitored, with the reason. */
  get failed(): Array<{ name: string; reason: string }> {
    return this.monitors.filter((m) => m.failure !== null).map((m) => ({ name: m.name, reason: m.failure! }));
  }

  get monitoredCount(): number {
    return this.monitors.filter((m) => m.ready).length;
  }

  dispose(): void {
    this.monitors = [];
  }
}
