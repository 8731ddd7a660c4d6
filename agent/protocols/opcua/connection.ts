import { readFileSync, statSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { UserTokenType, type ClientSession, type DataValue, type UserIdentityInfo } from 'node-opcua';
import { errorCode, errorMessage } from '../../errors';
import type { Logger } from '../../log';
import { backoffDelay, sleep } from '../../retry';
import type { AdapterHealth } from '../types';
import { listCertificates } from './certs';
import type { OpcuaSourceConfig } from './config';
import { classifyConnectFailure, type OpcuaFailure } from './failures';
import type { PlannedItem } from './items';
import type { AlarmNotice } from './alarms';
import { Link, type LinkCounts, type LinkOwner } from './link';
import type { OwnCertificate } from './own-certificate';

export type ConnectionState = 'stopped' | 'starting' | 'connecting' | 'connected' | 'reconnecting' | 'waiting' | 'stopping';

/**
 * Staying connected to one server. node-opcua repairs a dropped connection
 * itself; on top of that, when a client lifetime (Link) gives up, this throws
 * it away and builds a new one with backoff, until stop().
 */
export class OpcuaConnection implements LinkOwner {
  state: ConnectionState = 'stopped';
  link: Link | null = null;
  reconnects = 0;
  sessionsCreated = 0;
  lastError: AdapterHealth['lastError'] = null;
  /** Set when a server certificate was refused, so health lists the rejected folder again at once. */
  certificatesChanged = false;

  private own: OwnCertificate | null = null;
  private loop: Promise<void> | null = null;
  private stopping = false;
  /** Aborted by stop(): cuts the wait before a rebuild short. */
  private abort: AbortController | null = null;
  private lastLoggedProblem = '';

  constructor(
    readonly cfg: OpcuaSourceConfig,
    readonly log: Logger,
    readonly name: string,
    readonly pkiDir: string,
    private readonly data: (item: PlannedItem, dataValue: DataValue) => void,
    private readonly alarmNotice: (index: number, notice: AlarmNotice) => void = () => undefined,
  ) {}

  /** Connect in the background, with the agent's own certificate. */
  start(own: OwnCertificate): void {
    if (this.loop) return;
    this.own = own;
    this.stopping = false;
    this.abort = new AbortController();
    this.loop = this.run(own);
  }

  /** Close the client and end the rebuild loop. Safe when not started. */
  async stop(): Promise<void> {
    if (!this.loop) return;
    this.stopping = true;
    this.state = 'stopping';
    this.abort?.abort();
    const link = this.link;
    if (link) await link.dispose();
    try {
      await this.loop;
    } catch {
      /* the loop records its own errors */
    }
    this.loop = null;
    this.link = null;
    this.state = 'stopped';
  }

  get connected(): boolean {
    const link = this.link;
    return !!link && this.state === 'connected' && link.isConnected;
  }

  /** The session to write through, or null while not connected. */
  get session(): ClientSession | null {
    return this.connected ? (this.link?.session ?? null) : null;
  }

  get counts(): LinkCounts {
    return this.link ? this.link.counts : { subscriptions: 0, items: 0, failed: [], alarms: 0, failedAlarms: [] };
  }

  /** Connect, run until the link ends, rebuild with backoff; until stop(). */
  private async run(own: OwnCertificate): Promise<void> {
    let attempt = 0;
    while (!this.stopping) {
      const link = new Link(this, own);
      this.link = link;
      this.state = 'connecting';
      const startedAt = Date.now();
      try {
        await link.open();
        if (this.stopping) break;
        attempt = 0;
        this.state = 'connected';
        this.logSubscribed(link);
        const reason = await link.ended;
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

  private logSubscribed(link: Link): void {
    const c = link.counts;
    this.log.info(
      { endpointUrl: this.cfg.endpointUrl, subscriptions: c.subscriptions, items: c.items, failedItems: c.failed.length, alarms: c.alarms },
      'OPC UA connected and subscribed',
    );
    for (const f of c.failed.slice(0, 20)) this.log.warn({ tag: f.config.tag, reason: f.failure }, 'OPC UA item cannot be monitored');
    if (c.failed.length > 20) this.log.warn({ more: c.failed.length - 20 }, 'more OPC UA items cannot be monitored');
    for (const a of c.failedAlarms) this.log.warn({ alarms: a.name }, a.reason);
    this.lastLoggedProblem = '';
  }

  private onOpenFailed(err: unknown, startedAt: number): void {
    const failure = classifyConnectFailure(`${errorMessage(err)} ${errorCode(err) ?? ''}`, this.cfg.endpointUrl);
    if (failure.code === 'OPCUA_SERVER_CERTIFICATE') {
      this.certificatesChanged = true;
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

  onNewSession(): void {
    this.sessionsCreated += 1;
  }

  onData(item: PlannedItem, dataValue: DataValue): void {
    this.data(item, dataValue);
  }

  onAlarmNotice(index: number, notice: AlarmNotice): void {
    this.alarmNotice(index, notice);
  }

  userIdentity(): UserIdentityInfo {
    const auth = this.cfg.auth;
    if (auth === 'anonymous') return { type: UserTokenType.Anonymous };
    if ('username' in auth) return { type: UserTokenType.UserName, userName: auth.username, password: auth.password };
    const certificateData = new X509Certificate(readFileSync(auth.certificateFile)).raw;
    return { type: UserTokenType.Certificate, certificateData, privateKey: readFileSync(auth.privateKeyFile, 'utf8') };
  }
}
