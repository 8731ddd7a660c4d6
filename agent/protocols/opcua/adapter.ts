/**
 * OPC UA source: one client session per source, one OPC UA subscription per
 * configured subscription, every configured variable a monitored item. Each
 * data change becomes a Signal.
 *
 * Staying connected is the whole job (connection.ts, link.ts): node-opcua
 * repairs a dropped connection itself; the adapter also watches for what that
 * repair can miss (session closed by the server, a subscription terminated or
 * silent, browse paths that moved after a server restart) and then builds a
 * whole new client, with backoff. Nothing of the old client is kept.
 *
 * Writes (order release) go through the same session (writes.ts).
 */
import type { DataValue } from 'node-opcua';
import { AgentError, errorMessage } from '../../errors';
import type { Logger } from '../../log';
import { HandOver } from '../hand-over';
import type { AdapterContext, AdapterHealth, SourceAdapter, WriteRequest, WriteResult } from '../types';
import { decodeAlarmEvent } from './alarm-decode';
import type { AlarmNotice } from './alarms';
import { AlarmTracker } from './alarm-tracker';
import { countRejected, pkiDirFor } from './certs';
import type { OpcuaSourceConfig } from './config';
import { OpcuaConnection } from './connection';
import { dataValueToSignal, type RawDataValue, type RawVariant } from './decode';
import type { PlannedItem } from './items';
import { routeLibraryLogs } from './library-logs';
import { clearLeftoverPkiLock, ensureOwnCertificate, type OwnCertificate } from './own-certificate';
import { writeValues } from './writes';

/** Signals handed to the rules in one emit at most. */
const EMIT_BATCH = 1000;
const EMIT_RETRY = { initialMs: 250, maxMs: 15_000 };
/** How long stop() waits for a last hand-over of held changes. */
const FINAL_FLUSH_MS = 2000;

export class OpcuaSource implements SourceAdapter {
  readonly type = 'opcua';
  readonly name: string;
  readonly log: Logger;
  readonly pkiDir: string;
  own: OwnCertificate | null = null;

  private readonly connection: OpcuaConnection;
  private readonly held: HandOver;
  private running = false;
  private stopping: Promise<void> | null = null;
  private lastDataAt: string | null = null;
  private rejectedCount = 0;
  private rejectedCheckedAt = 0;
  private written = 0;
  private writesRefused = 0;
  private readonly itemCount: number;
  /** Receive time of the changes being handled now: one publish (thousands of changes) shares one. */
  private receivedNow: string | null = null;
  /** One per `alarms` entry: which alarms are active, across reconnects. */
  private readonly alarmTrackers: AlarmTracker[];
  private alarmEvents = 0;
  private alarmEventsInvalid = 0;
  private lastAlarmProblem = '';

  constructor(
    readonly cfg: OpcuaSourceConfig,
    private readonly ctx: AdapterContext,
  ) {
    this.name = cfg.name;
    this.log = ctx.log;
    this.pkiDir = pkiDirFor(ctx.stateDir, cfg.pkiDir);
    this.itemCount = cfg.subscriptions.reduce((n, s) => n + s.items.length, 0);
    this.alarmTrackers = cfg.alarms.map((a, i) => new AlarmTracker(cfg.name, a.name ?? `alarms-${i + 1}`));
    this.connection = new OpcuaConnection(
      cfg,
      this.log,
      this.name,
      this.pkiDir,
      (item, dataValue) => this.onData(item, dataValue),
      (index, notice) => this.onAlarmNotice(index, notice),
    );
    this.held = new HandOver(ctx, this.log, {
      policy: 'latest-per-tag',
      limit: Math.max(10_000, this.itemCount * 2),
      retry: EMIT_RETRY,
      batchSize: EMIT_BATCH,
      what: 'data changes',
    });
    routeLibraryLogs();
  }

  async start(): Promise<void> {
    if (this.running) return;
    if (this.stopping) await this.stopping;
    this.running = true;
    this.connection.state = 'starting';
    if (this.cfg.autoAcceptUnknownCertificate) {
      this.log.warn(
        { pkiDir: this.pkiDir },
        'autoAcceptUnknownCertificate is on: any server certificate will be trusted without a person checking it. Turn it off outside a test bench.',
      );
    }
    if (this.cfg.securityMode === 'None' && typeof this.cfg.auth === 'object' && 'username' in this.cfg.auth) {
      this.log.warn('securityMode None with a user name: the password may cross the network unencrypted; use SignAndEncrypt');
    }
    if (clearLeftoverPkiLock(this.pkiDir)) {
      this.log.warn(
        { pkiDir: this.pkiDir },
        'removed the PKI lock left by an agent that was killed while holding it (it would have held this start for two minutes)',
      );
    }
    try {
      this.own = await ensureOwnCertificate(this.pkiDir, this.cfg.applicationName);
    } catch (err) {
      this.running = false;
      this.connection.state = 'stopped';
      throw new AgentError('OPCUA_PKI', `cannot create or read the agent's OPC UA certificate in ${this.pkiDir}: ${errorMessage(err)}`, { cause: err });
    }
    if (this.own.created) {
      this.log.info(
        { thumbprint: this.own.thumbprint, file: this.own.certificateFile },
        "created the agent's OPC UA application certificate; add it to the server's trusted certificates",
      );
    }
    if (!this.running || this.stopping) return; // stopped while the certificate was made
    this.held.start();
    this.connection.start(this.own);
  }

  /** Hot path: one data change from the server. */
  private onData(item: PlannedItem, dataValue: DataValue): void {
    let receivedAt = this.receivedNow;
    if (receivedAt === null) {
      receivedAt = new Date().toISOString();
      this.receivedNow = receivedAt;
      setImmediate(() => {
        this.receivedNow = null;
      });
    }
    this.held.hold(dataValueToSignal(this.name, item.config.tag, dataValue as unknown as RawDataValue, receivedAt, item.meta));
    this.lastDataAt = receivedAt;
  }

  /** One event of an `alarms` entry: a transition becomes a signal, a refresh is tracked, what cannot be read is kept as invalid input. */
  private onAlarmNotice(index: number, notice: AlarmNotice): void {
    const tracker = this.alarmTrackers[index];
    if (!tracker) return;
    if (notice.kind !== 'event') {
      if (notice.kind === 'refresh-begin') tracker.beginRefresh();
      else tracker.cancelRefresh();
      return;
    }
    const fields = notice.fields;
    const receivedAt = new Date().toISOString();
    const decoded = decodeAlarmEvent(fields);
    switch (decoded.kind) {
      case 'alarm': {
        this.alarmEvents += 1;
        const signal = tracker.onAlarm(decoded.alarm, receivedAt);
        if (signal) {
          this.held.hold(signal);
          this.lastDataAt = receivedAt;
        }
        return;
      }
      case 'refresh-start':
        // the agent marks the start itself when it asks (some servers send the marker only to the Server object)
        return;
      case 'refresh-end':
        for (const signal of tracker.onRefreshEnd(receivedAt)) {
          this.log.info({ tag: signal.tag }, 'alarm not re-sent by the server after the reconnect: reported inactive');
          this.held.hold(signal);
        }
        return;
      case 'refresh-required':
        this.connection.link?.end('the server asked for a ConditionRefresh (RefreshRequired event)');
        return;
      case 'branch':
        return;
      case 'invalid':
        this.alarmEventsInvalid += 1;
        this.keepInvalidAlarm(index, fields, decoded.reason, receivedAt);
    }
  }

  private keepInvalidAlarm(index: number, fields: RawVariant[], reason: string, receivedAt: string): void {
    const origin = `alarms:${this.cfg.alarms[index]?.name ?? `alarms-${index + 1}`}`;
    if (reason !== this.lastAlarmProblem) this.log.warn({ origin }, `${reason}; kept as invalid input`);
    else this.log.debug({ origin }, reason);
    this.lastAlarmProblem = reason;
    const raw = JSON.stringify(
      fields.map((f) => ({ dataType: f?.dataType, value: f?.value instanceof Uint8Array ? Buffer.from(f.value).toString('hex') : f?.value })),
    );
    this.ctx.reject({ source: this.name, origin, reason, raw, receivedAt }).catch((err: unknown) => {
      this.log.error({ origin, err: errorMessage(err) }, 'an alarm event that cannot be read could not be kept as invalid input');
    });
  }

  /** Write through the current session; refused (never thrown) while not connected. */
  async write(values: readonly WriteRequest[]): Promise<WriteResult[]> {
    const session = this.connection.session;
    let results: WriteResult[];
    if (!session) {
      const reason = `not connected to ${this.cfg.endpointUrl} (${this.connection.state})`;
      results = values.map(() => ({ ok: false, reason }));
    } else {
      try {
        results = await writeValues(session, values, this.cfg.requestTimeoutMs);
      } catch (err) {
        const reason = `the write failed: ${errorMessage(err)}`;
        results = values.map(() => ({ ok: false, reason }));
      }
    }
    results.forEach((r, i) => {
      if (r.ok) {
        this.written += 1;
        return;
      }
      this.writesRefused += 1;
      const v = values[i]!;
      this.log.warn({ nodeId: v.kind === 'opcua' ? v.nodeId : undefined, reason: r.reason }, 'OPC UA write refused');
    });
    return results;
  }

  stop(): Promise<void> {
    if (!this.running) return this.stopping ?? Promise.resolve();
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    await this.connection.stop();
    // a last hand-over of what is held (the next start re-reads current values anyway)
    const left = await this.held.stop(FINAL_FLUSH_MS);
    if (left.length > 0) {
      this.log.warn({ changes: left.length }, 'held OPC UA changes were not handed over at stop; current values are read again at the next start');
    }
    this.running = false;
    this.stopping = null;
  }

  health(): AdapterHealth {
    const now = Date.now();
    if (now - this.rejectedCheckedAt > 5000 || this.connection.certificatesChanged) {
      this.rejectedCheckedAt = now;
      this.connection.certificatesChanged = false;
      try {
        this.rejectedCount = countRejected(this.pkiDir);
      } catch {
        /* keep the last count */
      }
    }
    const c = this.connection;
    const counts = c.counts;
    return {
      connected: c.connected,
      lastDataAt: this.lastDataAt,
      lastError: latest(c.lastError, this.held.lastError),
      details: {
        state: c.state,
        endpointUrl: this.cfg.endpointUrl,
        securityMode: this.cfg.securityMode,
        securityPolicy: this.cfg.securityPolicy,
        subscriptions: counts.subscriptions,
        items: counts.items,
        itemsConfigured: this.itemCount,
        itemsFailed: counts.failed.length,
        failedItems: counts.failed.slice(0, 20).map((p) => ({ tag: p.config.tag, reason: p.failure })),
        ...(this.cfg.alarms.length > 0
          ? {
              alarms: counts.alarms,
              failedAlarms: counts.failedAlarms,
              alarmsActive: this.alarmTrackers.reduce((n, t) => n + t.activeCount, 0),
              alarmRefreshes: this.alarmTrackers.reduce((n, t) => n + t.refreshes, 0),
              alarmEvents: this.alarmEvents,
              alarmEventsInvalid: this.alarmEventsInvalid,
            }
          : {}),
        reconnects: c.reconnects,
        sessionsCreated: c.sessionsCreated,
        rejectedServerCertificates: this.rejectedCount,
        paused: this.held.refusing,
        queued: this.held.size,
        coalesced: this.held.counts.coalesced,
        emitted: this.held.counts.signals,
        writes: this.written,
        writesRefused: this.writesRefused,
        pkiDir: this.pkiDir,
        ownCertificate: this.own?.thumbprint ?? null,
      },
    };
  }
}

/** The more recent of the connection's and the hand-over's last problem. */
function latest(a: AdapterHealth['lastError'], b: AdapterHealth['lastError']): AdapterHealth['lastError'] {
  if (!a || !b) return a ?? b;
  return b.at > a.at ? b : a;
}
