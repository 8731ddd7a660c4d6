import {
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  type ClientSession,
  type DataValue,
  type UserIdentityInfo,
} from 'node-opcua';
import { AgentError, errorMessage } from '../../errors';
import type { Logger } from '../../log';
import { AlarmMonitors, type AlarmNotice, type AlarmOwner } from './alarms';
import type { OpcuaSourceConfig } from './config';
import { classifyConnectFailure, type OpcuaFailure } from './failures';
import { ServerLimits, canMove, movedItems, resolveItems, type PlannedItem } from './items';
import type { OwnCertificate } from './own-certificate';
import { Subscriptions, type SubscriptionOwner } from './subscriptions';
import { withTimeout } from './timeout';

const WATCHDOG_TICK_MS = 2000;

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

/** What a client lifetime reports to the connection that made it. */
export interface LinkOwner {
  readonly cfg: OpcuaSourceConfig;
  readonly log: Logger;
  readonly name: string;
  readonly pkiDir: string;
  userIdentity(): UserIdentityInfo;
  onUnreachable(count: number, delay: number): void;
  onConnectionLost(): void;
  onConnectionReestablished(): void;
  /** The server gave a new session (it restarted). */
  onNewSession(): void;
  noteError(failure: OpcuaFailure, log: boolean): void;
  onData(item: PlannedItem, dataValue: DataValue): void;
  /** An event of the `alarms` entry `index`, or news of its refresh. */
  onAlarmNotice(index: number, notice: AlarmNotice): void;
}

/** What one client lifetime monitors. */
export interface LinkCounts {
  subscriptions: number;
  items: number;
  failed: PlannedItem[];
  /** `alarms` entries whose notifier is monitored. */
  alarms: number;
  failedAlarms: Array<{ name: string; reason: string }>;
}

/**
 * One client lifetime: connect, session, subscriptions. It never reconnects
 * on its own beyond what node-opcua does; when it decides it cannot recover
 * it resolves `ended` and the connection builds a new one.
 */
export class Link implements SubscriptionOwner, AlarmOwner {
  client: OPCUAClient | null = null;
  session: ClientSession | null = null;
  items: PlannedItem[] = [];
  readonly ended: Promise<string>;
  readonly cfg: OpcuaSourceConfig;
  readonly log: Logger;
  private readonly subscriptions: Subscriptions;
  private readonly alarms: AlarmMonitors;
  private readonly limits: ServerLimits;
  private cm: OPCUACertificateManager | null = null;
  private sessionIdText = '';
  private watchdog: NodeJS.Timeout | null = null;
  private isClosing = false;
  private disposing: Promise<void> | null = null;
  private endReason: ((reason: string) => void) | null = null;
  private recheckRunning = false;

  constructor(
    private readonly owner: LinkOwner,
    private readonly own: OwnCertificate,
  ) {
    this.cfg = owner.cfg;
    this.log = owner.log;
    this.limits = new ServerLimits(owner.cfg.requestTimeoutMs * 2);
    this.subscriptions = new Subscriptions(this);
    this.alarms = new AlarmMonitors(this, owner.cfg.requestTimeoutMs);
    this.ended = new Promise((r) => {
      this.endReason = r;
    });
  }

  get closing(): boolean {
    return this.isClosing;
  }

  /** Give up on this client; the connection rebuilds. */
  end(reason: string): void {
    if (this.isClosing) return;
    const r = this.endReason;
    this.endReason = null;
    r?.(reason);
  }

  onData(item: PlannedItem, dataValue: DataValue): void {
    this.owner.onData(item, dataValue);
  }

  onAlarmNotice(index: number, notice: AlarmNotice): void {
    this.owner.onAlarmNotice(index, notice);
  }

  /** ConditionRefresh on every alarm subscription; a refusal is logged, the subscriptions go on. */
  private async refreshAlarms(): Promise<void> {
    const session = this.session;
    if (!session || this.cfg.alarms.length === 0) return;
    for (const problem of await this.alarms.refresh(session)) {
      if (!this.isClosing) this.log.warn(problem);
    }
  }

  async open(): Promise<void> {
    const { cfg, own, owner } = this;
    this.cm = new OPCUACertificateManager({
      rootFolder: owner.pkiDir,
      automaticallyAcceptUnknownCertificate: cfg.autoAcceptUnknownCertificate,
      name: 'PKI',
    });
    await this.cm.initialize();
    if (this.isClosing) throw new AgentError('OPCUA_STOPPED', 'stopped');

    const client = OPCUAClient.create({
      applicationName: cfg.applicationName,
      applicationUri: own.applicationUri,
      clientName: `edge-agent/${owner.name}`,
      clientCertificateManager: this.cm,
      certificateFile: own.certificateFile,
      privateKeyFile: own.privateKeyFile,
      securityMode: SECURITY_MODE[cfg.securityMode],
      securityPolicy: SECURITY_POLICY[cfg.securityPolicy],
      endpointMustExist: false,
      keepSessionAlive: true,
      requestedSessionTimeout: cfg.requestedSessionTimeoutMs,
      defaultTransactionTimeout: cfg.requestTimeoutMs,
      connectionStrategy: {
        maxRetry: -1, // never give up; the connection stops it
        initialDelay: cfg.reconnect.initialDelayMs,
        maxDelay: cfg.reconnect.maxDelayMs,
        randomisationFactor: 0.5,
      },
    });
    this.client = client;

    client.on('backoff', (count: number, delay: number) => {
      if (this.isClosing) return;
      owner.onUnreachable(count, delay);
    });
    client.on('connection_lost', () => {
      if (this.isClosing) return;
      owner.onConnectionLost();
    });
    client.on('reconnection_attempt_has_failed', (err: Error) => {
      if (this.isClosing) return;
      owner.noteError(classifyConnectFailure(errorMessage(err), cfg.endpointUrl), false);
    });
    client.on('connection_reestablished', () => {
      if (this.isClosing) return;
      owner.onConnectionReestablished();
      this.afterRepair();
    });
    client.on('close', (err?: Error | null) => {
      if (this.isClosing) return;
      // "close" without a repair following means node-opcua gave up on this client
      if (!client.isReconnecting) this.end(`the connection closed${err ? `: ${errorMessage(err)}` : ''}`);
    });

    await client.connect(cfg.endpointUrl);
    if (this.isClosing) throw new AgentError('OPCUA_STOPPED', 'stopped');

    const session = await withTimeout(client.createSession(owner.userIdentity()), cfg.requestTimeoutMs * 2, 'creating the session');
    this.session = session;
    this.sessionIdText = session.sessionId.toString();
    session.on('session_closed', (statusCode: { name?: string }) => {
      if (this.isClosing) return;
      this.end(`the server closed the session (${statusCode?.name ?? 'no reason given'})`);
    });
    session.on('keepalive_failure', () => {
      if (!this.isClosing) this.log.debug('session keep-alive failed; node-opcua repairs the connection');
    });
    if (this.isClosing) throw new AgentError('OPCUA_STOPPED', 'stopped');

    this.items = await resolveItems(session, cfg, this.limits);
    const perCall = (await this.limits.of(session)).maxMonitoredItemsPerCall || 1000;
    await this.subscriptions.create(session, this.items, perCall);
    await this.alarms.create(session, cfg.alarms, this.subscriptions);
    await this.refreshAlarms();
    this.watchdog = setInterval(() => this.checkAlive(), WATCHDOG_TICK_MS);
    this.watchdog.unref();
  }

  /** Called every few seconds: a subscription without notifications or keep-alives is lost. */
  private checkAlive(): void {
    if (this.isClosing) return;
    const silent = this.subscriptions.silent(Date.now());
    if (!silent) return;
    this.end(
      this.client?.isReconnecting
        ? `the connection has been down for ${silent.secs} s; starting over with a new client`
        : `no data and no keep-alive from subscription ${silent.name} for ${silent.secs} s`,
    );
  }

  /**
   * After node-opcua repaired the connection. When the server gave a new
   * session (it restarted), browse paths and namespace URIs may point
   * elsewhere now: resolve them again and rebuild if anything moved.
   */
  private afterRepair(): void {
    const session = this.session;
    this.subscriptions.repaired();
    // the server may have restarted or dropped events meanwhile: ask again for every alarm it retains
    this.refreshAlarms().catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'ConditionRefresh after the repair failed'));
    if (!session || this.recheckRunning) return;
    const id = session.sessionId.toString();
    if (id === this.sessionIdText) return;
    this.sessionIdText = id;
    this.owner.onNewSession();
    if (!canMove(this.items)) return;
    this.recheckRunning = true;
    this.limits.forget();
    resolveItems(session, this.cfg, this.limits)
      .then((fresh) => {
        if (this.isClosing) return;
        const moved = movedItems(this.items, fresh);
        if (moved.length > 0) this.end(`after the server restart ${moved.length} item(s) resolve to other nodes (first: ${moved[0]!.config.tag})`);
      })
      .catch((err: unknown) => {
        if (!this.isClosing) this.end(`cannot check browse paths after the server restart: ${errorMessage(err)}`);
      })
      .finally(() => {
        this.recheckRunning = false;
      });
  }

  get counts(): LinkCounts {
    return {
      subscriptions: this.subscriptions.count,
      items: this.subscriptions.monitored,
      failed: this.items.filter((p) => p.failure !== null),
      alarms: this.alarms.monitoredCount,
      failedAlarms: this.alarms.failed,
    };
  }

  get isConnected(): boolean {
    return this.client !== null && this.session !== null && !this.client.isReconnecting && !this.isClosing;
  }

  /** Close everything; safe to call at any time and more than once. */
  dispose(): Promise<void> {
    this.disposing ??= this.doDispose();
    return this.disposing;
  }

  private async doDispose(): Promise<void> {
    this.isClosing = true;
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
        this.log.debug({ err: errorMessage(err) }, 'disconnect did not finish cleanly');
      }
    }
    this.subscriptions.dispose();
    this.alarms.dispose();
    this.session?.removeAllListeners();
    this.session = null;
    client?.removeAllListeners();
    this.client = null;
    const cm = this.cm;
    this.cm = null;
    if (cm && cm.state !== 4 /* disposed */ && cm.state !== 3 /* disposing */) await cm.dispose().catch(() => undefined);
  }
}
