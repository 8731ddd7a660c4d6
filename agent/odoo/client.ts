import { readFileSync } from 'node:fs';
import { EnvHttpProxyAgent, request, type Dispatcher } from 'undici';
import type { Logger } from '../log';
import { odooError, toOdooError, transportCodeOf, type OdooFailure } from './classify';
import type { OdooConfig } from './config';
import { ServerClock, type ClockOffset } from './server-clock';
import { OdooError, type CallParams, type OdooClient, type OdooProtocol, type OdooServerInfo } from './types';

/** Context sent with every call unless the caller overrides a key: times are UTC on the wire. */
export const DEFAULT_CONTEXT: Readonly<Record<string, unknown>> = Object.freeze({ tz: 'UTC' });

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** First Odoo version that serves JSON-2 (`/json/2/<model>/<method>`). */
const JSON2_SINCE = 19;

/**
 * An Odoo client over undici: one connection pool with keep-alive, the
 * configured timeouts and certificate checks, proxies from HTTPS_PROXY /
 * HTTP_PROXY / NO_PROXY. Throws OdooError (stop, ODOO_CONFIG) at once when the
 * configured CA file cannot be read.
 */
export function createOdooClient(config: OdooConfig, log: Logger): OdooClient {
  return new HttpOdooClient(config, log);
}

class HttpOdooClient implements OdooClient {
  info: OdooServerInfo | undefined;
  private uid: number | undefined;
  /** `allowed_company_ids` of every call, once the configured company is resolved. */
  private companyContext: Record<string, unknown> = {};
  private readonly base: string;
  private readonly dispatcher: Dispatcher;
  private connecting: Promise<OdooServerInfo> | undefined;
  private rpcId = 0;
  private closed = false;
  private readonly clock = new ServerClock();

  constructor(
    private readonly cfg: OdooConfig,
    private readonly log: Logger,
  ) {
    this.base = cfg.url.replace(/\/+$/, '');
    let ca: Buffer | undefined;
    if (cfg.tls.caFile) {
      try {
        ca = readFileSync(cfg.tls.caFile);
      } catch (err) {
        throw new OdooError(`cannot read odoo.tls.caFile ${cfg.tls.caFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
          action: 'stop',
          code: 'ODOO_CONFIG',
          cause: err,
        });
      }
    }
    const tls = { ca, rejectUnauthorized: cfg.tls.rejectUnauthorized, timeout: cfg.timeouts.connectMs };
    this.dispatcher = new EnvHttpProxyAgent({
      connect: tls,
      requestTls: tls,
      proxyTls: { timeout: cfg.timeouts.connectMs },
      headersTimeout: cfg.timeouts.headersMs,
      bodyTimeout: cfg.timeouts.bodyMs,
      keepAliveTimeout: cfg.keepAliveMs,
      keepAliveMaxTimeout: cfg.keepAliveMs,
      connections: cfg.maxConnections,
    });
  }

  connect(): Promise<OdooServerInfo> {
    if (!this.connecting) {
      this.connecting = this.doConnect().catch((err: unknown) => {
        this.connecting = undefined;
        throw toOdooError(err);
      });
    }
    return this.connecting;
  }

  private async doConnect(): Promise<OdooServerInfo> {
    let version: { major: number; serverVersion: string };
    if (this.cfg.version !== 'auto') {
      version = { major: this.cfg.version, serverVersion: `${this.cfg.version}.0 (pinned)` };
    } else {
      version = await this.detectVersion();
    }
    let protocol: OdooProtocol = this.cfg.protocol !== 'auto' ? this.cfg.protocol : version.major >= JSON2_SINCE ? 'json2' : 'jsonrpc';

    if (protocol === 'json2') {
      try {
        this.uid = await this.authenticateJson2();
      } catch (err) {
        // A server that turns /json/2 away with a redirect has no JSON-2 (Odoo 18 or older):
        // with protocol auto, fall back to JSON-RPC.
        if (!(err instanceof OdooError && err.code === 'ODOO_PROTOCOL' && this.cfg.protocol === 'auto')) throw err;
        this.log.warn({ major: version.major }, 'Odoo has no JSON-2 API; using JSON-RPC');
        protocol = 'jsonrpc';
        if (this.cfg.version !== 'auto') version = await this.detectVersion();
        this.uid = await this.authenticateJsonRpc();
      }
    } else {
      this.uid = await this.authenticateJsonRpc();
    }
    const info: OdooServerInfo = { major: version.major, serverVersion: version.serverVersion, protocol };
    if (this.cfg.company !== undefined) {
      info.companyId = await this.resolveCompany(info, this.cfg.company);
      this.companyContext = { allowed_company_ids: [info.companyId] };
    }
    if (this.cfg.warehouse !== undefined) info.warehouseId = await this.resolveWarehouse(info, this.cfg.warehouse);
    this.info = info;
    this.log.info(
      { odooVersion: version.serverVersion, major: version.major, protocol, uid: this.uid, company: info.companyId, warehouse: info.warehouseId },
      'connected to Odoo',
    );
    return this.info;
  }

  /** One search_read before `info` is set (connect). */
  private lookUp(info: OdooServerInfo, model: string, domain: unknown[], fields: string[]): Promise<Array<Record<string, unknown>>> {
    const kwargs = { domain, fields, limit: 2 };
    const context = { ...DEFAULT_CONTEXT, ...this.companyContext };
    return (
      info.protocol === 'json2' ? this.json2(model, 'search_read', { ...kwargs, context }) : this.executeKw(model, 'search_read', undefined, kwargs, context)
    ) as Promise<Array<Record<string, unknown>>>;
  }

  /** The configured company's id: one of the companies the agent's user may work in (Odoo shows a user only those). */
  private async resolveCompany(info: OdooServerInfo, ref: string | number): Promise<number> {
    const rows = await this.lookUp(info, 'res.company', [typeof ref === 'number' ? ['id', '=', ref] : ['name', '=', ref]], ['id', 'name']);
    const [row] = rows;
    if (!row || rows.length > 1) {
      throw new OdooError(
        `odoo.company ${JSON.stringify(ref)}: ${row ? 'more than one company has that name; give its id' : "no such company among those the agent's Odoo user may work in"}`,
        { action: 'stop', code: 'ODOO_CONFIG' },
      );
    }
    return row.id as number;
  }

  /** The configured warehouse's id, by name or short name, in the configured company. */
  private async resolveWarehouse(info: OdooServerInfo, ref: string): Promise<number> {
    const rows = await this.lookUp(info, 'stock.warehouse', ['|', ['name', '=', ref], ['code', '=', ref]], ['id']);
    const [row] = rows;
    if (!row || rows.length > 1) {
      throw new OdooError(`odoo.warehouse ${JSON.stringify(ref)}: ${row ? 'more than one warehouse matches' : 'no warehouse of that name or short name'}`, {
        action: 'stop',
        code: 'ODOO_CONFIG',
      });
    }
    return row.id as number;
  }

  /** `/web/version` (Odoo 19+), else JSON-RPC `common.version` (every version up to 19). */
  private async detectVersion(): Promise<{ major: number; serverVersion: string }> {
    const res = await this.send('GET', '/web/version', undefined, {});
    if (res.status === 200) {
      const body = parseJson(res.text)?.value as { version_info?: unknown[]; version?: string } | undefined;
      const major = parseMajor(body?.version_info?.[0] ?? body?.version);
      if (major !== undefined) return { major, serverVersion: String(body?.version ?? major) };
    } else if (res.status !== 404 && res.status !== 405 && !(res.status >= 300 && res.status < 400)) {
      throw this.httpFailure(res);
    }
    const info = (await this.jsonRpc('common', 'version', [])) as { server_version?: string; server_version_info?: unknown[] } | undefined;
    const major = parseMajor(info?.server_version_info?.[0] ?? info?.server_version);
    if (major === undefined) {
      throw new OdooError(`cannot tell the Odoo version from ${JSON.stringify(info)}; set odoo.version in the config`, {
        action: 'stop',
        code: 'ODOO_PROTOCOL',
      });
    }
    return { major, serverVersion: String(info?.server_version ?? major) };
  }

  private async authenticateJson2(): Promise<number> {
    const ctx = (await this.json2('res.users', 'context_get', {})) as { uid?: unknown } | undefined;
    return typeof ctx?.uid === 'number' ? ctx.uid : 0;
  }

  private async authenticateJsonRpc(): Promise<number> {
    const login = this.cfg.username;
    if (!login) {
      throw new OdooError('odoo.username is required for JSON-RPC (Odoo 17/18)', { action: 'stop', code: 'ODOO_CONFIG' });
    }
    const uid = await this.jsonRpc('common', 'authenticate', [this.cfg.database, login, this.cfg.apiKey, {}]);
    if (typeof uid !== 'number' || uid <= 0) {
      throw new OdooError(`Odoo refused the login ${JSON.stringify(login)} with the configured API key`, {
        action: 'stop',
        code: 'ODOO_AUTH',
        odooName: 'odoo.exceptions.AccessDenied',
      });
    }
    return uid;
  }

  async call<T = unknown>(model: string, method: string, params: CallParams = {}): Promise<T> {
    const info = this.info ?? (await this.connect());
    // The plant's company in every call (multi-company record rules, and the company of what is created).
    const context = { ...DEFAULT_CONTEXT, ...this.companyContext, ...(params.context ?? {}) };
    const kwargs = params.kwargs ?? {};
    const started = Date.now();
    try {
      let result: unknown;
      if (info.protocol === 'json2') {
        const body: Record<string, unknown> = { ...kwargs, context };
        if (params.ids !== undefined) body.ids = params.ids;
        result = await this.json2(model, method, body);
      } else {
        result = await this.executeKw(model, method, params.ids, kwargs, context);
      }
      this.log.debug({ model, method, ms: Date.now() - started }, 'odoo call');
      return result as T;
    } catch (err) {
      const e = toOdooError(err);
      this.log.debug({ model, method, ms: Date.now() - started, code: e.code, action: e.action }, 'odoo call failed');
      throw e;
    }
  }

  async probe(): Promise<void> {
    if (!this.info) {
      await this.connect();
      return;
    }
    await this.call('res.users', 'context_get');
  }

  serverClock(): ClockOffset | undefined {
    return this.clock.estimate();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.dispatcher.close();
  }

  // ---- wire formats -------------------------------------------------------

  private async json2(model: string, method: string, body: Record<string, unknown>): Promise<unknown> {
    const path = `/json/2/${encodeURIComponent(model)}/${encodeURIComponent(method)}`;
    const res = await this.send('POST', path, body, { authorization: `bearer ${this.cfg.apiKey}` });
    if (res.status !== 200) throw this.httpFailure(res);
    const parsed = parseJson(res.text);
    if (parsed === undefined) throw this.badAnswer(res);
    return parsed.value === null ? undefined : parsed.value;
  }

  private executeKw(
    model: string,
    method: string,
    ids: number[] | undefined,
    kwargs: Record<string, unknown>,
    context: Record<string, unknown>,
  ): Promise<unknown> {
    let args: unknown[] = ids !== undefined ? [ids] : [];
    let kw: Record<string, unknown> = { ...kwargs, context };
    // Odoo's execute_kw reads create()'s first positional argument to decide
    // between one id and a list; passed by name it fails with IndexError.
    if (method === 'create' && ids === undefined && 'vals_list' in kw) {
      const { vals_list: valsList, ...rest } = kw;
      args = [valsList];
      kw = rest;
    }
    // write()'s argument is `vals` in BaseModel but `values` in many overrides
    // (mrp.workorder, mail.thread on 17/18): only its position is the same.
    if (method === 'write' && ids !== undefined && 'vals' in kw) {
      const { vals, ...rest } = kw;
      args = [ids, vals];
      kw = rest;
    }
    return this.jsonRpc('object', 'execute_kw', [this.cfg.database, this.uid ?? 0, this.cfg.apiKey, model, method, args, kw]);
  }

  private async jsonRpc(service: string, method: string, args: unknown[]): Promise<unknown> {
    const id = ++this.rpcId;
    const res = await this.send('POST', '/jsonrpc', { jsonrpc: '2.0', method: 'call', params: { service, method, args }, id }, {});
    if (res.status !== 200) throw this.httpFailure(res);
    const parsed = parseJson(res.text);
    const body = parsed?.value as { result?: unknown; error?: { message?: string; data?: { name?: string; message?: string } } } | undefined;
    if (!body || typeof body !== 'object') throw this.badAnswer(res);
    if (body.error) {
      const data = body.error.data ?? {};
      throw odooError({ status: 200, name: data.name, message: data.message || body.error.message || 'Odoo Server Error' });
    }
    return body.result;
  }

  private async send(method: 'GET' | 'POST', path: string, body: unknown, headers: Record<string, string>): Promise<RawResponse> {
    const all: Record<string, string> = {
      accept: 'application/json',
      'x-odoo-database': this.cfg.database,
      ...headers,
    };
    if (body !== undefined) all['content-type'] = 'application/json';
    try {
      const sent = Date.now();
      const res = await request(this.base + path, {
        dispatcher: this.dispatcher,
        method,
        headers: all,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const date = res.headers.date;
      this.clock.add(Array.isArray(date) ? date[0] : date, sent, Date.now());
      const text = await res.body.text();
      return { status: res.statusCode, headers: res.headers, text };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // A proxy that turns the tunnel down: judge it by the proxy's status (407 needs credentials).
      const proxyStatus = /Proxy response \((\d{3})\)/.exec(message)?.[1];
      if (proxyStatus) throw odooError({ status: Number(proxyStatus), message: `proxy: ${message}` }, err);
      const code = transportCodeOf(err) ?? 'UND_ERR';
      throw odooError({ transportCode: code, message }, err);
    }
  }

  private httpFailure(res: RawResponse): OdooError {
    const retryAfter = header(res, 'retry-after');
    const parsed = parseJson(res.text)?.value as { name?: unknown; message?: unknown } | undefined;
    const failure: OdooFailure = { status: res.status, retryAfter, message: '' };
    if (parsed && typeof parsed === 'object' && typeof parsed.name === 'string') {
      failure.name = parsed.name;
      failure.message = typeof parsed.message === 'string' ? parsed.message : '';
    } else if (res.status >= 300 && res.status < 400) {
      failure.message = `redirected to ${header(res, 'location') ?? '?'}: this server has no such API (JSON-2 needs Odoo 19 or later)`;
    } else {
      failure.message = summarizeBody(res.text) || `HTTP ${res.status}`;
    }
    return odooError(failure);
  }

  private badAnswer(res: RawResponse): OdooError {
    return odooError({ message: `not a JSON answer from Odoo: ${summarizeBody(res.text) || '(empty body)'}` });
  }
}

function header(res: RawResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

/** A short, single-line excerpt of an HTML or text body for an error message. */
function summarizeBody(text: string): string {
  const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1];
  const plain = (title ?? text.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
  return plain.length > 200 ? `${plain.slice(0, 200)}...` : plain;
}

/** 19, '19.0', 'saas~18.3', '18.0-20250101' -> the major version number. */
export function parseMajor(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v !== 'string') return undefined;
  const m = /(\d+)/.exec(v);
  return m ? Number(m[1]) : undefined;
}
