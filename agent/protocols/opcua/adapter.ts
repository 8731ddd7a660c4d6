/**
 * OPC UA source: one client session per source, one OPC UA subscription per
 * configured subscription, every configured variable a monitored item. Each
 * data change becomes a Signal.
 *
 * Staying connected is the whole job:
 * - a dropped connection is repaired by node-opcua itself (new secure channel,
 *   the old session reactivated or a new one created, subscriptions transferred
 *   or re-created), with retries that never stop;
 * - on top of that the adapter watches for what that repair can miss: the
 *   server closing the session, a subscription terminated or silent for longer
 *   than its keep-alive allows, browse paths or namespaces that moved after a
 *   server restart. Then it throws the whole client away and builds a new one
 *   (fresh certificate store, session, subscriptions, items), with backoff.
 *   Nothing of the old client is kept, so repeated rebuilds do not grow memory.
 */
import { format } from 'node:util';
import { readFileSync, statSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import {
  AttributeIds,
  BrowsePath,
  ClientMonitoredItemGroup,
  DataChangeFilter,
  DataChangeTrigger,
  DeadbandType,
  MessageSecurityMode,
  NodeId,
  OPCUACertificateManager,
  OPCUAClient,
  QualifiedName,
  RelativePath,
  RelativePathElement,
  SecurityPolicy,
  TimestampsToReturn,
  UserTokenType,
  coerceNodeId,
  readOperationLimits,
  resolveNodeId,
  setErrorLogger,
  setWarningLogger,
  type ClientMonitoredItemBase,
  type ClientSession,
  type ClientSubscription,
  type DataValue,
  type MonitoringParametersOptions,
  type ReadValueIdOptions,
  type UserIdentityInfo,
} from 'node-opcua';
import { AgentError, errorCode, errorMessage } from '../../errors';
import { componentLogger, type Logger } from '../../log';
import type { Signal } from '../../model/signal';
import type { AdapterContext, AdapterHealth, SourceAdapter } from '../types';
import { parseBrowsePath, type BrowsePathStep } from './addressing';
import { countRejected, listCertificates, pkiDirFor } from './certs';
import type { OpcuaItemConfig, OpcuaSourceConfig } from './config';
import { dataValueToSignal, type RawDataValue } from './decode';
import { backoffDelay, sleep } from '../../retry';
import { classifyConnectFailure, type OpcuaFailure } from './failures';
import { ensureOwnCertificate, type OwnCertificate } from './own-certificate';
import { HandOver } from '../hand-over';

// ---------------------------------------------------------------------------
// node-opcua writes its own warnings with console.log, which would mix plain
// text into the agent's JSON log on stdout. Route them into pino instead:
// library warnings at debug (they are chatty during every reconnect), library
// errors at warn, at most 30 a minute.
let libraryLogsRouted = false;
function routeLibraryLogs(): void {
  if (libraryLogsRouted) return;
  libraryLogsRouted = true;
  const log = componentLogger('opcua-library');
  let windowStart = 0;
  let inWindow = 0;
  const text = (args: unknown[]) =>
    format(...args.slice(1))
      .replace(/\u001b\[[0-9;]*m/g, '')
      .slice(0, 2000);
  setWarningLogger((...args: unknown[]) => {
    if (log.isLevelEnabled('debug')) log.debug({ at: (args[0] as { filename?: string } | undefined)?.filename }, text(args));
  });
  setErrorLogger((...args: unknown[]) => {
    const now = Date.now();
    if (now - windowStart > 60_000) {
      windowStart = now;
      inWindow = 0;
    }
    if (++inWindow > 30) return;
    log.warn({ at: (args[0] as { filename?: string } | undefined)?.filename }, text(args));
  });
}

const SECURITY_MODE: Record<OpcuaSourceConfig['securityMode'], MessageSecurityMode> = {
  None: MessageSecurityMode.None,
  Sign: MessageSecurityMode.Sign,
  SignAndEncrypt: MessageSecurityMode.SignAndEncrypt,
};
const SECURITY_POLICY: Record<OpcuaSourceConfig['securityPolicy'], SecurityPolicy> = {
  None: SecurityPolicy.None,
  Basic256Sha256: SecurityPolicy.Basic256Sha256,
  Aes128_Sha256_RsaOaep: SecurityPolicy.Aes128_Sha256_RsaOaep,
  Aes256_Sha256_RsaPss: SecurityPolicy.Aes256_Sha256_RsaPss,
};

/** Signals handed to the rules in one emit at most. */
const EMIT_BATCH = 1000;
const EMIT_RETRY = { initialMs: 250, maxMs: 15_000 };
/** How long stop() waits for a last hand-over of held changes. */
const FINAL_FLUSH_MS = 2000;
const WATCHDOG_TICK_MS = 2000;

type State = 'stopped' | 'starting' | 'connecting' | 'connected' | 'reconnecting' | 'waiting' | 'stopping';

/** A configured item with where it lives on the server for the current session. */
interface PlannedItem {
  subscription: number;
  config: OpcuaItemConfig;
  /** Text for logs and signal meta: the configured nodeId, or the resolved one for a browse path. */
  nodeIdText: string;
  nodeId: NodeId | null;
  failure: string | null;
  /** Shared by every signal of this item (frozen). */
  meta: Readonly<Record<string, unknown>>;
}

interface ActiveSubscription {
  name: string;
  subscription: ClientSubscription;
  groups: ClientMonitoredItemGroup[];
  /** Last notification or keep-alive, ms since epoch. */
  lastAlive: number;
  /** No sign of life for this long means the subscription is lost. */
  staleAfterMs: number;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AgentError('OPCUA_TIMEOUT', `${what} did not answer within ${ms} ms`, { retryable: true })), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * One client lifetime: connect, session, subscriptions. It never reconnects
 * on its own beyond what node-opcua does; when it decides it cannot recover
 * it resolves `ended` and the adapter builds a new one.
 */
class Link {
  client: OPCUAClient | null = null;
  session: ClientSession | null = null;
  subscriptions: ActiveSubscription[] = [];
  items: PlannedItem[] = [];
  private cm: OPCUACertificateManager | null = null;
  private sessionIdText = '';
  private watchdog: NodeJS.Timeout | null = null;
  private closing = false;
  private disposing: Promise<void> | null = null;
  private endReason: ((reason: string) => void) | null = null;
  readonly ended: Promise<string>;
  private recheckRunning = false;

  constructor(private readonly owner: OpcuaSource) {
    this.ended = new Promise((r) => {
      this.endReason = r;
    });
  }

  /** Give up on this client; the adapter rebuilds. */
  end(reason: string): void {
    if (this.closing) return;
    const r = this.endReason;
    this.endReason = null;
    r?.(reason);
  }

  async open(): Promise<void> {
    const { cfg, own } = this.owner;
    const log = this.owner.log;
    this.cm = new OPCUACertificateManager({
      rootFolder: this.owner.pkiDir,
      automaticallyAcceptUnknownCertificate: cfg.autoAcceptUnknownCertificate,
      name: 'PKI',
    });
    await this.cm.initialize();
    if (this.closing) throw new AgentError('OPCUA_STOPPED', 'stopped');

    const client = OPCUAClient.create({
      applicationName: cfg.applicationName,
      applicationUri: own!.applicationUri,
      clientName: `edge-agent/${this.owner.name}`,
      clientCertificateManager: this.cm,
      certificateFile: own!.certificateFile,
      privateKeyFile: own!.privateKeyFile,
      securityMode: SECURITY_MODE[cfg.securityMode],
      securityPolicy: SECURITY_POLICY[cfg.securityPolicy],
      endpointMustExist: false,
      keepSessionAlive: true,
      requestedSessionTimeout: cfg.requestedSessionTimeoutMs,
      defaultTransactionTimeout: cfg.requestTimeoutMs,
      connectionStrategy: {
        maxRetry: -1, // never give up; the adapter stops it
        initialDelay: cfg.reconnect.initialDelayMs,
        maxDelay: cfg.reconnect.maxDelayMs,
        randomisationFactor: 0.5,
      },
    });
    this.client = client;

    client.on('backoff', (count: number, delay: number) => {
      if (this.closing) return;
      this.owner.onUnreachable(count, delay);
    });
    client.on('connection_lost', () => {
      if (this.closing) return;
      this.owner.onConnectionLost();
    });
    client.on('reconnection_attempt_has_failed', (err: Error) => {
      if (this.closing) return;
      this.owner.noteError(classifyConnectFailure(errorMessage(err), cfg.endpointUrl), false);
    });
    client.on('connection_reestablished', () => {
      if (this.closing) return;
      this.owner.onConnectionReestablished();
      this.afterRepair();
    });
    client.on('close', (err?: Error | null) => {
      if (this.closing) return;
      // "close" without a repair following means node-opcua gave up on this client
      if (!client.isReconnecting) this.end(`the connection closed${err ? `: ${errorMessage(err)}` : ''}`);
    });

    await client.connect(cfg.endpointUrl);
    if (this.closing) throw new AgentError('OPCUA_STOPPED', 'stopped');

    const step = cfg.requestTimeoutMs * 2;
    const session = await withTimeout(client.createSession(this.owner.userIdentity()), step, 'creating the session');
    this.session = session;
    this.sessionIdText = session.sessionId.toString();
    session.on('session_closed', (statusCode: { name?: string }) => {
      if (this.closing) return;
      this.end(`the server closed the session (${statusCode?.name ?? 'no reason given'})`);
    });
    session.on('keepalive_failure', () => {
      if (!this.closing) log.debug('session keep-alive failed; node-opcua repairs the connection');
    });
    if (this.closing) throw new AgentError('OPCUA_STOPPED', 'stopped');

    this.items = await this.resolveItems(session);
    await this.createSubscriptions(session);
    this.watchdog = setInterval(() => this.checkAlive(), WATCHDOG_TICK_MS);
    this.watchdog.unref();
  }

  /** Where each configured item lives on this server now. */
  private async resolveItems(session: ClientSession): Promise<PlannedItem[]> {
    const { cfg } = this.owner;
    const plan: PlannedItem[] = [];
    const needsNamespaces = cfg.subscriptions.some((s) => s.items.some((i) => i.nodeId?.startsWith('nsu=')));
    const step = cfg.requestTimeoutMs * 2;
    const namespaceArray = needsNamespaces ? await withTimeout(session.readNamespaceArray(), step, 'reading the namespace table') : undefined;
    const pathItems: PlannedItem[] = [];
    const paths: BrowsePath[] = [];
    const root = resolveNodeId('RootFolder');

    cfg.subscriptions.forEach((sub, s) => {
      for (const item of sub.items) {
        const p: PlannedItem = {
          subscription: s,
          config: item,
          nodeIdText: item.nodeId ?? '',
          nodeId: null,
          failure: null,
          meta: Object.freeze({ nodeId: item.nodeId ?? '' }),
        };
        plan.push(p);
        if (item.nodeId !== undefined) {
          try {
            p.nodeId = coerceNodeId(item.nodeId, namespaceArray ? { namespaceArray } : undefined);
          } catch (err) {
            p.failure = `nodeId ${item.nodeId}: ${errorMessage(err)}`;
          }
        } else {
          const parsed = parseBrowsePath(item.browsePath!);
          if (!parsed.ok) {
            p.failure = `browsePath ${parsed.message}`;
            continue;
          }
          try {
            paths.push(new BrowsePath({ startingNode: root, relativePath: relativePath(parsed.steps) }));
            pathItems.push(p);
          } catch (err) {
            p.failure = `browsePath ${item.browsePath}: ${errorMessage(err)}`;
          }
        }
      }
    });

    if (paths.length > 0) {
      const limits = await this.limits(session);
      const perCall = limits.maxNodesPerTranslateBrowsePathsToNodeIds || 1000;
      for (let start = 0; start < paths.length; start += perCall) {
        const results = await withTimeout(session.translateBrowsePath(paths.slice(start, start + perCall)), step, 'resolving browse paths');
        results.forEach((r, k) => {
          const p = pathItems[start + k]!;
          const target = r.statusCode.isGood() ? r.targets?.[0]?.targetId : undefined;
          if (!target) {
            p.failure = `browsePath ${p.config.browsePath} not found on the server (${r.statusCode.name})`;
            return;
          }
          p.nodeId = new NodeId(target.identifierType, target.value, target.namespace);
          p.nodeIdText = p.nodeId.toString();
          p.meta = Object.freeze({ nodeId: p.nodeIdText, browsePath: p.config.browsePath });
        });
      }
    }
    return plan;
  }

  private limitsCache: { maxMonitoredItemsPerCall?: number; maxNodesPerTranslateBrowsePathsToNodeIds?: number } | null = null;
  private async limits(session: ClientSession) {
    if (!this.limitsCache) {
      try {
        this.limitsCache = await withTimeout(readOperationLimits(session), this.owner.cfg.requestTimeoutMs * 2, 'reading operation limits');
      } catch {
        this.limitsCache = {};
      }
    }
    return this.limitsCache;
  }

  private async createSubscriptions(session: ClientSession): Promise<void> {
    const { cfg } = this.owner;
    const log = this.owner.log;
    const perCall = (await this.limits(session)).maxMonitoredItemsPerCall || 1000;

    for (const [s, subCfg] of cfg.subscriptions.entries()) {
      const name = subCfg.name ?? `subscription-${s + 1}`;
      const publishing = subCfg.publishingIntervalMs;
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
      this.subscriptions.push(active);
      const alive = () => {
        active.lastAlive = Date.now();
      };
      subscription.on('keepalive', alive);
      subscription.on('received_notifications', alive);
      subscription.on('terminated', () => {
        if (!this.closing) this.end(`subscription ${name} was terminated by the server`);
      });
      subscription.on('status_changed', (status: { isGood?: () => boolean; name?: string }) => {
        if (!this.closing && status?.isGood && !status.isGood()) this.end(`subscription ${name} ended: ${status.name}`);
      });
      subscription.on('internal_error', (err: Error) => {
        if (!this.closing) this.end(`subscription ${name}: ${errorMessage(err)}`);
      });
      subscription.on('error', (err: Error) => {
        if (!this.closing) log.warn({ err: errorMessage(err), subscription: name }, 'subscription error');
      });

      // items that share sampling, queue and dead band go into one request, at most perCall per request
      const byParams = new Map<string, PlannedItem[]>();
      for (const p of this.items) {
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
          const chunk = list.slice(start, start + perCall);
          await this.monitor(active, chunk, subCfg.samplingIntervalMs ?? publishing, subCfg.queueSize);
        }
      }
    }
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
      this.owner.cfg.requestTimeoutMs * 2,
      'creating monitored items',
    );
    group.monitoredItems.forEach((mi, k) => {
      const p = chunk[k]!;
      if (!mi.statusCode.isGood()) p.failure = `${p.nodeIdText}: ${mi.statusCode.name}`;
    });
  }

  /** Called every few seconds: a subscription without notifications or keep-alives is lost. */
  private checkAlive(): void {
    if (this.closing) return;
    const now = Date.now();
    for (const s of this.subscriptions) {
      if (now - s.lastAlive > s.staleAfterMs) {
        const secs = Math.round((now - s.lastAlive) / 1000);
        this.end(
          this.client?.isReconnecting
            ? `the connection has been down for ${secs} s; starting over with a new client`
            : `no data and no keep-alive from subscription ${s.name} for ${secs} s`,
        );
        return;
      }
    }
  }

  /**
   * After node-opcua repaired the connection. When the server gave a new
   * session (it restarted), browse paths and namespace URIs may point
   * elsewhere now: resolve them again and rebuild if anything moved.
   */
  private afterRepair(): void {
    const session = this.session;
    for (const s of this.subscriptions) s.lastAlive = Date.now();
    if (!session || this.recheckRunning) return;
    const id = session.sessionId.toString();
    if (id === this.sessionIdText) return;
    this.sessionIdText = id;
    this.owner.sessionsCreated += 1;
    const movable = this.items.some((p) => p.config.browsePath !== undefined || p.config.nodeId?.startsWith('nsu='));
    if (!movable) return;
    this.recheckRunning = true;
    this.limitsCache = null;
    this.resolveItems(session)
      .then((fresh) => {
        if (this.closing) return;
        const moved = fresh.filter((f, k) => {
          const old = this.items[k]!;
          return (f.nodeId?.toString() ?? null) !== (old.nodeId?.toString() ?? null);
        });
        if (moved.length > 0) this.end(`after the server restart ${moved.length} item(s) resolve to other nodes (first: ${moved[0]!.config.tag})`);
      })
      .catch((err: unknown) => {
        if (!this.closing) this.end(`cannot check browse paths after the server restart: ${errorMessage(err)}`);
      })
      .finally(() => {
        this.recheckRunning = false;
      });
  }

  get counts(): { subscriptions: number; items: number; failed: PlannedItem[] } {
    const failed = this.items.filter((p) => p.failure !== null);
    const items = this.subscriptions.reduce((n, s) => n + s.groups.reduce((m, g) => m + g.monitoredItems.filter((mi) => mi.statusCode.isGood()).length, 0), 0);
    return { subscriptions: this.subscriptions.length, items, failed };
  }

  get isConnected(): boolean {
    return this.client !== null && this.session !== null && !this.client.isReconnecting && !this.closing;
  }

  /** Close everything; safe to call at any time and more than once. */
  dispose(): Promise<void> {
    this.disposing ??= this.doDispose();
    return this.disposing;
  }

  private async doDispose(): Promise<void> {
    this.closing = true;
    this.endReason?.('closed');
    this.endReason = null;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    const client = this.client;
    if (client) {
      try {
        // closes the session too (the server then deletes its subscriptions)
        await withTimeout(client.disconnect(), 5000, 'disconnecting');
      } catch (err) {
        this.owner.log.debug({ err: errorMessage(err) }, 'disconnect did not finish cleanly');
      }
    }
    for (const s of this.subscriptions) {
      for (const g of s.groups) g.removeAllListeners();
      s.subscription.removeAllListeners();
    }
    this.subscriptions = [];
    this.session?.removeAllListeners();
    this.session = null;
    client?.removeAllListeners();
    this.client = null;
    const cm = this.cm;
    this.cm = null;
    if (cm && cm.state !== 4 /* disposed */ && cm.state !== 3 /* disposing */) await cm.dispose().catch(() => undefined);
  }
}

function relativePath(steps: BrowsePathStep[]): RelativePath {
  return new RelativePath({
    elements: steps.map((step) => {
      const r = step.reference;
      const referenceTypeId =
        r.kind === 'hierarchical' ? resolveNodeId('HierarchicalReferences') : r.kind === 'aggregates' ? resolveNodeId('Aggregates') : resolveNodeId(r.name);
      return new RelativePathElement({
        referenceTypeId,
        isInverse: r.kind === 'named' ? r.inverse : false,
        includeSubtypes: r.kind === 'named' ? r.includeSubtypes : true,
        targetName: new QualifiedName({ namespaceIndex: step.target.namespaceIndex, name: step.target.name }),
      });
    }),
  });
}

export class OpcuaSource implements SourceAdapter {
  readonly type = 'opcua';
  readonly name: string;
  readonly log: Logger;
  readonly pkiDir: string;
  own: OwnCertificate | null = null;

  private state: State = 'stopped';
  private link: Link | null = null;
  private loop: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;
  /** Aborted by stop(): cuts every wait short. */
  private abort: AbortController | null = null;
  private readonly held: HandOver;

  private lastDataAt: string | null = null;
  private lastError: AdapterHealth['lastError'] = null;
  private lastLoggedProblem = '';
  private reconnects = 0;
  sessionsCreated = 0;
  private rejectedCount = 0;
  private rejectedCheckedAt = 0;
  private readonly itemCount: number;

  constructor(
    readonly cfg: OpcuaSourceConfig,
    private readonly ctx: AdapterContext,
  ) {
    this.name = cfg.name;
    this.log = ctx.log;
    this.pkiDir = pkiDirFor(ctx.stateDir, cfg.pkiDir);
    this.itemCount = cfg.subscriptions.reduce((n, s) => n + s.items.length, 0);
    this.held = new HandOver(ctx, this.log, {
      policy: 'latest-per-tag',
      limit: Math.max(10_000, this.itemCount * 2),
      retry: EMIT_RETRY,
      batchSize: EMIT_BATCH,
      what: 'data changes',
      onRefused: () => {
        this.lastError = this.held.lastError;
      },
    });
    routeLibraryLogs();
  }

  async start(): Promise<void> {
    if (this.loop) return;
    if (this.stopping) await this.stopping;
    this.state = 'starting';
    if (this.cfg.autoAcceptUnknownCertificate) {
      this.log.warn(
        { pkiDir: this.pkiDir },
        'autoAcceptUnknownCertificate is on: any server certificate will be trusted without a person checking it. Turn it off outside a test bench.',
      );
    }
    if (this.cfg.securityMode === 'None' && typeof this.cfg.auth === 'object' && 'username' in this.cfg.auth) {
      this.log.warn('securityMode None with a user name: the password may cross the network unencrypted; use SignAndEncrypt');
    }
    try {
      this.own = await ensureOwnCertificate(this.pkiDir, this.cfg.applicationName);
    } catch (err) {
      this.state = 'stopped';
      throw new AgentError('OPCUA_PKI', `cannot create or read the agent's OPC UA certificate in ${this.pkiDir}: ${errorMessage(err)}`, { cause: err });
    }
    if (this.own.created) {
      this.log.info(
        { thumbprint: this.own.thumbprint, file: this.own.certificateFile },
        "created the agent's OPC UA application certificate; add it to the server's trusted certificates",
      );
    }
    this.abort = new AbortController();
    this.held.start();
    this.loop = this.run();
  }

  /** Connect, run until the link ends, rebuild with backoff; until stop(). */
  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopping) {
      const link = new Link(this);
      this.link = link;
      this.state = 'connecting';
      const startedAt = Date.now();
      let reason: string | null;
      try {
        await link.open();
        if (this.stopping) break;
        attempt = 0;
        this.state = 'connected';
        const c = link.counts;
        this.log.info(
          { endpointUrl: this.cfg.endpointUrl, subscriptions: c.subscriptions, items: c.items, failedItems: c.failed.length },
          'OPC UA connected and subscribed',
        );
        for (const f of c.failed.slice(0, 20)) this.log.warn({ tag: f.config.tag, reason: f.failure }, 'OPC UA item cannot be monitored');
        if (c.failed.length > 20) this.log.warn({ more: c.failed.length - 20 }, 'more OPC UA items cannot be monitored');
        this.lastLoggedProblem = '';
        reason = await link.ended;
        this.state = this.stopping ? 'stopping' : 'waiting';
        if (!this.stopping) {
          this.reconnects += 1;
          this.noteError({ code: 'OPCUA_CONNECT_FAILED', message: `rebuilding the OPC UA connection: ${reason}`, needsPerson: false }, true);
        }
      } catch (err) {
        if (!this.stopping) this.onOpenFailed(err, startedAt);
      }
      this.state = this.stopping ? 'stopping' : 'waiting';
      await link.dispose();
      if (this.link === link) this.link = null;
      if (this.stopping) break;
      await sleep(backoffDelay(++attempt, { initialMs: this.cfg.reconnect.initialDelayMs, maxMs: this.cfg.reconnect.maxDelayMs }), this.abort?.signal);
    }
  }

  private onOpenFailed(err: unknown, startedAt: number): void {
    const failure = classifyConnectFailure(`${errorMessage(err)} ${errorCode(err) ?? ''}`, this.cfg.endpointUrl);
    if (failure.code === 'OPCUA_SERVER_CERTIFICATE') {
      this.rejectedCheckedAt = 0;
      try {
        const rejected = listCertificates(this.pkiDir).filter((c) => c.status === 'rejected');
        const recent = rejected.filter((c) => {
          try {
            return statSync(c.file).mtimeMs >= startedAt - 2000;
          } catch {
            return false;
          }
        });
        const shown = (recent.length > 0 ? recent : rejected).slice(0, 3);
        if (shown.length > 0) {
          failure.message += `. Rejected: ${shown.map((c) => `${c.thumbprint} (${c.subject})`).join('; ')}`;
        }
      } catch {
        /* listing is a hint only */
      }
    }
    if (failure.code === 'OPCUA_CLIENT_CERTIFICATE' && this.own) failure.message += `. Agent certificate thumbprint: ${this.own.thumbprint}`;
    this.noteError(failure, true);
  }

  /** Record a problem for health(); log it when it is new (repeats go to debug). */
  noteError(failure: OpcuaFailure, log: boolean): void {
    this.lastError = { message: failure.message, code: failure.code, at: new Date().toISOString() };
    if (!log) return;
    const key = `${failure.code}:${failure.message}`;
    if (key === this.lastLoggedProblem) {
      this.log.debug({ code: failure.code }, failure.message);
      return;
    }
    this.lastLoggedProblem = key;
    if (failure.needsPerson) this.log.error({ code: failure.code, status: failure.status }, failure.message);
    else this.log.warn({ code: failure.code, status: failure.status }, failure.message);
  }

  onUnreachable(count: number, delay: number): void {
    if (this.state === 'connected') return;
    this.noteError(
      { code: 'OPCUA_UNREACHABLE', message: `cannot reach ${this.cfg.endpointUrl} yet (attempt ${count + 1}, next in ${delay} ms)`, needsPerson: false },
      count === 0,
    );
  }

  onConnectionLost(): void {
    this.state = 'reconnecting';
    this.noteError({ code: 'OPCUA_UNREACHABLE', message: `connection to ${this.cfg.endpointUrl} lost; reconnecting`, needsPerson: false }, true);
  }

  onConnectionReestablished(): void {
    this.state = 'connected';
    this.reconnects += 1;
    this.lastLoggedProblem = '';
    this.log.info({ endpointUrl: this.cfg.endpointUrl, reconnects: this.reconnects }, 'OPC UA connection re-established');
  }

  userIdentity(): UserIdentityInfo {
    const auth = this.cfg.auth;
    if (auth === 'anonymous') return { type: UserTokenType.Anonymous };
    if ('username' in auth) return { type: UserTokenType.UserName, userName: auth.username, password: auth.password };
    const certificateData = new X509Certificate(readFileSync(auth.certificateFile)).raw;
    return { type: UserTokenType.Certificate, certificateData, privateKey: readFileSync(auth.privateKeyFile, 'utf8') };
  }

  /** Receive time of the changes being handled now: one publish (thousands of changes) shares one. */
  private receivedNow: string | null = null;

  /** Hot path: one data change from the server. */
  onData(item: PlannedItem, dataValue: DataValue): void {
    let receivedAt = this.receivedNow;
    if (receivedAt === null) {
      receivedAt = new Date().toISOString();
      this.receivedNow = receivedAt;
      setImmediate(() => {
        this.receivedNow = null;
      });
    }
    const signal: Signal = dataValueToSignal(this.name, item.config.tag, dataValue as unknown as RawDataValue, receivedAt, item.meta);
    this.held.hold(signal);
    this.lastDataAt = receivedAt;
  }

  stop(): Promise<void> {
    if (!this.loop) return this.stopping ?? Promise.resolve();
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.state = 'stopping';
    this.abort?.abort();
    const link = this.link;
    if (link) await link.dispose();
    try {
      await this.loop;
    } catch {
      /* the loop records its own errors */
    }
    // a last hand-over of what is held (the next start re-reads current values anyway)
    const left = await this.held.stop(FINAL_FLUSH_MS);
    if (left.length > 0) {
      this.log.warn({ changes: left.length }, 'held OPC UA changes were not handed over at stop; current values are read again at the next start');
    }
    this.loop = null;
    this.link = null;
    this.state = 'stopped';
    this.stopping = null;
  }

  health(): AdapterHealth {
    const now = Date.now();
    if (now - this.rejectedCheckedAt > 5000) {
      this.rejectedCheckedAt = now;
      try {
        this.rejectedCount = countRejected(this.pkiDir);
      } catch {
        /* keep the last count */
      }
    }
    const link = this.link;
    const connected = !!link && this.state === 'connected' && link.isConnected;
    const counts = link ? link.counts : { subscriptions: 0, items: 0, failed: [] as PlannedItem[] };
    return {
      connected,
      lastDataAt: this.lastDataAt,
      lastError: this.lastError,
      details: {
        state: this.state,
        endpointUrl: this.cfg.endpointUrl,
        securityMode: this.cfg.securityMode,
        securityPolicy: this.cfg.securityPolicy,
        subscriptions: counts.subscriptions,
        items: counts.items,
        itemsConfigured: this.itemCount,
        itemsFailed: counts.failed.length,
        failedItems: counts.failed.slice(0, 20).map((p) => ({ tag: p.config.tag, reason: p.failure })),
        reconnects: this.reconnects,
        sessionsCreated: this.sessionsCreated,
        rejectedServerCertificates: this.rejectedCount,
        paused: this.held.refusing,
        queued: this.held.size,
        coalesced: this.held.counts.coalesced,
        emitted: this.held.counts.signals,
        pkiDir: this.pkiDir,
        ownCertificate: this.own?.thumbprint ?? null,
      },
    };
  }
}
