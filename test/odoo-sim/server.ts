/**
 * An Odoo server simulator on node:http(s): JSON-2 (`/json/2/<model>/<method>`,
 * Odoo 19), JSON-RPC (`/jsonrpc`, services common/object/db), `/web/version`
 * (19), `/web/webclient/version_info`, with Odoo's envelopes, statuses and
 * exception names (odoo/http.py: serialize_exception, JsonRPCDispatcher,
 * Json2Dispatcher; addons/rpc/controllers/json2.py). Configured as Odoo 17,
 * 18 or 19, it answers as that version does: `/json/2/...` is a 303 to the
 * login page on 18 and a 404 page on 17; `/web/version` exists on 19 only.
 *
 * Control endpoints for the demo: GET/POST/DELETE /__sim/faults, GET /__sim/stats,
 * GET /__sim/records/<model>.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import {
  accessDenied,
  fromUnknown,
  httpException,
  indexError,
  missingError,
  noDatabase,
  OdooException,
  serializationFailure,
  serializeException,
  userError,
} from './errors';
import { isFaultSpec, SimFaults, type CallInfo, type FaultKind, type FaultSpec } from './faults';
import { defineModels } from './models';
import { bindArguments, Database, Env, withImpliedGroups, type MethodDef } from './orm';
import { seedBase, seedPlant } from './seed';
import { SimState } from './state';

export interface OdooSimOptions {
  /** Port to listen on (0: any free port). */
  port?: number;
  /** Address to listen on. */
  host?: string;
  /** Odoo major version to behave as. */
  version?: 17 | 18 | 19;
  /** Database name. */
  db?: string;
  /** The agent user's API key (random when unset). */
  apiKey?: string;
  /** The agent user's login. */
  login?: string;
  /** The agent user's email (Odoo 18+ refuses chatter posts from a user without one); false for none. */
  botEmail?: string | false;
  /** The agent user's time zone (load() reads naive datetimes in it unless the context says tz). */
  botTz?: string;
  /** Give the agent user administrator rights (default: a plain MRP/stock/maintenance user). */
  botIsAdmin?: boolean;
  /**
   * The agent user's groups (implied groups follow). Default: the manager
   * groups of manufacturing, inventory and maintenance, so every operation
   * may run; PLAIN_BOT_GROUPS is the user of the real test servers.
   */
  botGroups?: readonly string[];
  /** Create the demo plant (products, lots, work centers, equipment, orders). Default true. */
  seed?: boolean;
  /** Extra modules installed besides base/uom/product/stock/mrp/maintenance (quality_control, quality_control_oca). */
  modules?: string[];
  /** Modules NOT installed (e.g. ['maintenance']). */
  withoutModules?: string[];
  /** Delay every answer by this much. */
  latencyMs?: number;
  /** Serve https with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Behave like a server with several databases: a request without X-Odoo-Database (JSON-2) gets the no-database 404. */
  requireDbHeader?: boolean;
  /** Clock for dates written by Odoo (date_start, date_done ...) and for the Date header of its answers. */
  clock?: () => Date;
}

export interface RequestRecord {
  seq: number;
  at: number;
  /** Number of the TCP connection that carried it (1, 2, ...). */
  connection: number;
  httpMethod: string;
  path: string;
  protocol: 'json2' | 'jsonrpc' | 'web' | 'control' | 'other';
  service?: string;
  model?: string;
  method?: string;
  /** HTTP status sent; 0 when no answer was sent (hang, drop). */
  status: number;
  /** Odoo exception name in the answer, if any. */
  error?: string;
  /** Fault that hit the request. */
  fault?: FaultKind;
  /** The context the call carried (Odoo calls only). */
  context?: Record<string, unknown>;
}

export interface OdooSim {
  url: string;
  port: number;
  db: string;
  apiKey: string;
  login: string;
  uid: number;
  /** An API key of the administrator (uid 2), for tests that need admin rights. */
  adminApiKey: string;
  version: number;
  state: SimState;
  faults: SimFaults;
  /** Every request received, in order (control requests included). */
  requests: RequestRecord[];
  /** How many Odoo calls (object.execute_kw / JSON-2) matched. */
  calls(filter?: { model?: string; method?: string }): number;
  /** TCP connections that carried at least one request so far. */
  readonly connections: number;
  /** Stop listening and drop every connection. */
  close(): Promise<void>;
}

const RPC_VERSION = (v: number) => ({
  server_version: `${v}.0`,
  server_version_info: [v, 0, 0, 'final', 0, ''],
  server_serie: `${v}.0`,
  protocol_version: 1,
});

const HTML_404 =
  '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n' +
  '<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n';
const HTML_404_NODB =
  '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n' +
  '<p>No database is selected and the requested URL was not found in the server-wide controllers.</p>\n' +
  '<p>Please verify the hostname, <a href=/web/login>login</a> and try again.</p>\n\n<!-- Alternatively, use the X-Odoo-Database header. -->\n';

/** The groups of the real servers' agent user: Manufacturing / User and Inventory / User, no manager rights. */
export const PLAIN_BOT_GROUPS: readonly string[] = ['mrp.group_mrp_user', 'stock.group_stock_user'];

/** Default groups of the agent user: every right the operations could want. */
const FULL_BOT_GROUPS: readonly string[] = ['mrp.group_mrp_manager', 'stock.group_stock_manager', 'maintenance.group_equipment_manager'];

const STATUS_TEXT: Record<number, string> = { 429: 'Too Many Requests', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Time-out' };

/** Start a simulator; resolves once it listens. */
export async function startOdooSim(opts: OdooSimOptions = {}): Promise<OdooSim> {
  const version = opts.version ?? 19;
  const dbName = opts.db ?? 'edge';
  const apiKey = opts.apiKey ?? randomBytes(20).toString('hex');
  const adminApiKey = randomBytes(20).toString('hex');
  const login = opts.login ?? 'edge-bot';
  const host = opts.host ?? '127.0.0.1';
  const installed = new Set(['base', 'uom', 'product', 'stock', 'mrp', 'maintenance', ...(opts.modules ?? [])]);
  for (const m of opts.withoutModules ?? []) installed.delete(m);

  const db = new Database(dbName, version, installed, opts.clock);
  defineModels(db);
  const boot = new Env(db, 1, { tz: 'UTC' }, true);
  const users = db.transaction(() =>
    seedBase(boot, { login, botEmail: opts.botEmail === undefined ? `${login}@example.com` : opts.botEmail, botTz: opts.botTz ?? 'Europe/Brussels' }),
  );
  if (opts.seed !== false) db.transaction(() => seedPlant(new Env(db, users.adminUid, { tz: 'UTC' }, true)));
  db.userGroups.set(users.adminUid, withImpliedGroups(FULL_BOT_GROUPS));
  db.userGroups.set(users.botUid, withImpliedGroups(opts.botIsAdmin ? FULL_BOT_GROUPS : (opts.botGroups ?? FULL_BOT_GROUPS)));
  const state = new SimState(db, users.adminUid, users.botUid);
  const keys = new Map<string, number>([
    [apiKey, users.botUid],
    [adminApiKey, users.adminUid],
  ]);
  const isAdmin = (uid: number) => uid === users.adminUid || (uid === users.botUid && !!opts.botIsAdmin);

  const requests: RequestRecord[] = [];
  const sockets = new Set<Socket>();
  const socketIds = new WeakMap<object, number>();
  let connectionCount = 0;
  let seq = 0;
  let port = opts.port ?? 0;
  let listening = false;
  let reopenTimer: NodeJS.Timeout | undefined;
  let closed = false;

  const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }) : http.createServer();
  server.keepAliveTimeout = 5000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        port = (server.address() as AddressInfo).port;
        listening = true;
        resolve();
      });
    });

  const stopListening = () => {
    if (listening) {
      listening = false;
      server.close();
    }
    for (const s of sockets) s.destroy();
  };

  const faults = new SimFaults(
    (forMs) => {
      stopListening();
      if (reopenTimer) clearTimeout(reopenTimer);
      if (forMs !== undefined) {
        reopenTimer = setTimeout(() => {
          reopenTimer = undefined;
          if (!closed && !listening) listen().catch(() => undefined);
        }, forMs);
      }
    },
    (kind) => {
      if ((kind === undefined || kind === 'refuse') && !listening && !closed) {
        if (reopenTimer) clearTimeout(reopenTimer);
        reopenTimer = undefined;
        listen().catch(() => undefined);
      }
    },
  );

  // ---- request handling ----------------------------------------------------------

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    let conn = socketIds.get(req.socket);
    if (conn === undefined) {
      conn = ++connectionCount;
      socketIds.set(req.socket, conn);
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const record: RequestRecord = {
        seq: ++seq,
        at: Date.now(),
        connection: conn!,
        httpMethod: req.method ?? 'GET',
        path: (req.url ?? '/').split('?')[0]!,
        protocol: 'other',
        status: 0,
      };
      requests.push(record);
      if (requests.length > 10_000) requests.splice(0, requests.length - 10_000);
      handle(req, res, Buffer.concat(chunks), record).catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: String(err) }, record);
      });
    });
  });

  function send(res: http.ServerResponse, status: number, body: string, contentType: string, record: RequestRecord, headers: Record<string, string> = {}) {
    record.status = status;
    res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), Date: db.clock().toUTCString(), ...headers });
    res.end(body);
  }
  function sendJson(res: http.ServerResponse, status: number, body: unknown, record: RequestRecord, headers: Record<string, string> = {}) {
    send(res, status, JSON.stringify(body), 'application/json; charset=utf-8', record, headers);
  }
  function sendHtml(res: http.ServerResponse, status: number, body: string, record: RequestRecord, headers: Record<string, string> = {}) {
    send(res, status, body, 'text/html; charset=utf-8', record, headers);
  }

  /** Faults that act before Odoo looks at the call. True when the request was dealt with. */
  async function preFaults(res: http.ServerResponse, record: RequestRecord, call: CallInfo): Promise<boolean> {
    const delay = (opts.latencyMs ?? 0) + (faults.take('latency', call)?.ms ?? 0);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    const status = faults.take('status', call);
    if (status) {
      record.fault = 'status';
      const code = status.status ?? 503;
      const headers: Record<string, string> = {};
      if (status.retryAfter !== undefined) headers['Retry-After'] = String(status.retryAfter);
      const text = STATUS_TEXT[code] ?? 'Error';
      sendHtml(
        res,
        code,
        `<html><head><title>${code} ${text}</title></head><body><center><h1>${code} ${text}</h1></center><hr><center>nginx</center></body></html>\n`,
        record,
        headers,
      );
      return true;
    }
    if (faults.take('hang', call)) {
      record.fault = 'hang';
      return true; // never answered; close() destroys the socket
    }
    return false;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, record: RequestRecord): Promise<void> {
    const path = record.path;
    if (path.startsWith('/__sim/')) {
      record.protocol = 'control';
      return control(req, res, body, record);
    }
    if (path === '/jsonrpc' || path === '/web/webclient/version_info') {
      record.protocol = 'jsonrpc';
      return jsonRpc(req, res, body, record);
    }
    if (path === '/json/2' || path.startsWith('/json/2/')) {
      record.protocol = 'json2';
      return json2(req, res, body, record);
    }
    record.protocol = 'web';
    if (await preFaults(res, record, {})) return;
    if (path === '/web/version' || path === '/json/version') {
      if (version < 19) return sendHtml(res, 404, HTML_404, record);
      return sendJson(res, 200, { version_info: [version, 0, 0, 'final', 0, ''], version: `${version}.0` }, record);
    }
    if (path === '/web/login')
      return sendHtml(res, 200, '<!DOCTYPE html><html><head><title>Odoo</title></head><body><form class="oe_login_form"></form></body></html>', record);
    if (version === 18 && path.startsWith('/json/')) return redirectToLogin(res, req, record);
    return sendHtml(res, 404, HTML_404, record);
  }

  function redirectToLogin(res: http.ServerResponse, req: http.IncomingMessage, record: RequestRecord) {
    const location = `/web/login?redirect=${encodeURIComponent(`${(req.url ?? '/').split('?')[0]}?${(req.url ?? '').split('?')[1] ?? ''}`)}`;
    sendHtml(
      res,
      303,
      `<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target URL: <a href="${location}">${location}</a>. If not, click the link.\n`,
      record,
      { Location: location },
    );
  }

  // ---- JSON-2 --------------------------------------------------------------------

  async function json2(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, record: RequestRecord): Promise<void> {
    const parts = record.path.split('/').slice(3).map(decodeURIComponent);
    const call: CallInfo = { model: parts[0], method: parts[1] };
    record.model = call.model;
    record.method = call.method;
    if (await preFaults(res, record, call)) return;
    if (version === 18) return redirectToLogin(res, req, record);
    if (version < 18) return sendHtml(res, 404, HTML_404, record);

    const fail = (e: OdooException, headers: Record<string, string> = {}) => {
      record.error = e.odooName;
      sendJson(res, e.httpStatus, serializeException(e), record, headers);
    };
    const header = req.headers['x-odoo-database'];
    const dbHeader = Array.isArray(header) ? header[0] : header;
    if ((dbHeader !== undefined && dbHeader !== dbName) || (dbHeader === undefined && opts.requireDbHeader)) {
      return sendHtml(res, 404, HTML_404_NODB, record);
    }
    if (parts.length !== 2 || req.method !== 'POST') {
      return fail(httpException(404, 'Did you mean POST /json/2/<model>/<method>?'));
    }
    const mimetype = String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim()
      .toLowerCase();
    if (mimetype !== 'application/json') {
      const text = `Request inferred type is compatible with ['http'] but '/json/2/<__model__>/<__method__>' is type='json2'.\n\nPlease verify the Content-Type request header and try again.`;
      return sendHtml(
        res,
        415,
        `<!doctype html>\n<html lang=en>\n<title>415 Unsupported Media Type</title>\n<h1>Unsupported Media Type</h1>\n<p>${text}</p>\n`,
        record,
        { Accept: 'application/json' },
      );
    }
    const auth = String(req.headers.authorization ?? '');
    const token = /^bearer\s+(.+)$/i.exec(auth)?.[1];
    if (!token) return fail(httpException(401, 'User not authenticated, use an API Key with a Bearer Authorization header.'), { 'WWW-Authenticate': 'Bearer' });
    const uid = keys.get(token);
    if (uid === undefined || faults.take('revokeKey', call)) {
      if (uid !== undefined) record.fault = 'revokeKey';
      return fail(httpException(401, 'Invalid apikey'), { 'WWW-Authenticate': 'Bearer' });
    }
    let params: Record<string, unknown> = {};
    if (body.length > 0) {
      try {
        const parsed = JSON.parse(body.toString('utf8')) as unknown;
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) params = parsed as Record<string, unknown>;
      } catch (err) {
        return fail(httpException(400, `could not parse the body as json: ${(err as Error).message}`));
      }
    }
    const [model, method] = parts as [string, string];
    if (!db.model(model)) return fail(httpException(404, `the model '${model}' does not exist`));
    const { ids: rawIds, context: rawContext, ...kwargs } = params;
    const ids = Array.isArray(rawIds) ? (rawIds as number[]) : [];
    const context = rawContext && typeof rawContext === 'object' ? (rawContext as Record<string, unknown>) : {};
    record.context = context;
    const env = new Env(db, uid, context, isAdmin(uid));
    let m: MethodDef;
    try {
      m = env.method(model, method);
    } catch (e) {
      const ex = fromUnknown(e);
      if (ex.odooName === 'builtins.AttributeError') return fail(httpException(404, ex.message));
      return fail(ex);
    }
    if (m.api === 'model' && ids.length > 0) return fail(httpException(422, `cannot call ${model}.${method} with ids`));
    let args: Record<string, unknown>;
    try {
      args = bindArguments(m, [], kwargs);
    } catch (e) {
      return fail(httpException(422, (e as Error).message));
    }
    if (faults.take('serialization', call)) {
      record.fault = 'serialization';
      return fail(serializationFailure());
    }
    let result: unknown;
    try {
      result = runMethod(env, model, method, m, ids, args, call);
    } catch (e) {
      return fail(fromUnknown(e));
    }
    if (faults.take('dropAfterCommit', call)) {
      record.fault = 'dropAfterCommit';
      req.socket.destroy();
      return;
    }
    sendJson(res, 200, result === undefined ? null : result, record);
  }

  function runMethod(env: Env, model: string, method: string, m: MethodDef, ids: number[], args: Record<string, unknown>, call: CallInfo): unknown {
    if (method === 'load' && faults.take('loadConflict', call)) {
      return {
        ids: false,
        messages: [{ type: 'error', message: 'could not serialize access due to concurrent update', record: 0, rows: { from: 0, to: 0 } }],
        nextrow: 0,
      };
    }
    const e = env.withContext({ __model: model });
    return db.transaction(() => m.run(e, m.api === 'model' ? [] : ids, args));
  }

  // ---- JSON-RPC --------------------------------------------------------------------

  async function jsonRpc(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, record: RequestRecord): Promise<void> {
    let payload: { id?: unknown; params?: { service?: unknown; method?: unknown; args?: unknown } };
    try {
      payload = JSON.parse(body.toString('utf8')) as typeof payload;
      if (!payload || typeof payload !== 'object') throw new Error('not an object');
    } catch {
      return send(res, 400, 'Invalid JSON data', 'text/plain; charset=utf-8', record);
    }
    const rpcId = payload.id ?? null;
    const params = payload.params ?? {};
    const service = String(params.service ?? '');
    const method = String(params.method ?? '');
    const args = Array.isArray(params.args) ? (params.args as unknown[]) : [];
    record.service = service;
    const call: CallInfo = {};
    if (record.path === '/jsonrpc' && service === 'object') {
      call.model = typeof args[3] === 'string' ? args[3] : undefined;
      call.method = typeof args[4] === 'string' ? args[4] : undefined;
      record.model = call.model;
      record.method = call.method;
    } else {
      record.method = record.path === '/jsonrpc' ? `${service}.${method}` : 'version_info';
    }
    if (await preFaults(res, record, call)) return;

    const reply = (result: unknown) => {
      const out: Record<string, unknown> = { jsonrpc: '2.0', id: rpcId };
      if (result !== undefined && result !== null) out.result = result;
      sendJson(res, 200, out, record);
    };
    const replyError = (e: OdooException) => {
      record.error = e.odooName;
      const notFound = e.odooName === 'werkzeug.exceptions.NotFound';
      sendJson(
        res,
        200,
        {
          jsonrpc: '2.0',
          id: rpcId,
          error: { code: notFound ? 404 : version >= 19 ? 0 : 200, message: notFound ? '404: Not Found' : 'Odoo Server Error', data: serializeException(e) },
        },
        record,
      );
    };

    if (record.path === '/web/webclient/version_info') return reply(RPC_VERSION(version));
    try {
      if (service === 'common') return reply(common(method, args));
      if (service === 'db') {
        if (method === 'list') return reply([dbName]);
        if (method === 'server_version') return reply(`${version}.0`);
        throw new OdooException('builtins.KeyError', `'${method}'`, 500);
      }
      if (service !== 'object') throw new OdooException('builtins.Exception', `No such service: ${service}`, 500);
      if (method !== 'execute_kw' && method !== 'execute') throw new OdooException('builtins.NameError', `Method not available ${method}`, 500);
      const [dbArg, uidArg, password, model, methodName, ...rest] = args as [unknown, unknown, unknown, unknown, unknown, ...unknown[]];
      if (!password) throw accessDenied();
      if (dbArg !== dbName) throw noDatabase(String(dbArg));
      const uid = Number(uidArg);
      if (!db.get('res.users', uid)) throw missingError(`Record does not exist or has been deleted.\n(Record: res.users(${uid},), User: ${uid})`);
      if (keys.get(String(password)) !== uid || (uid === users.botUid && faults.take('revokeKey', call))) {
        if (keys.get(String(password)) === uid) record.fault = 'revokeKey';
        throw accessDenied();
      }
      let positional: unknown[];
      let kwargs: Record<string, unknown>;
      if (method === 'execute_kw') {
        positional = Array.isArray(rest[0]) ? [...(rest[0] as unknown[])] : [];
        kwargs = rest[1] && typeof rest[1] === 'object' ? { ...(rest[1] as Record<string, unknown>) } : {};
      } else {
        positional = rest;
        kwargs = {};
      }
      const context = kwargs.context && typeof kwargs.context === 'object' ? (kwargs.context as Record<string, unknown>) : {};
      record.context = context;
      delete kwargs.context;
      const modelName = String(model);
      const env = new Env(db, uid, context, isAdmin(uid));
      if (!db.model(modelName)) throw userError(`Object ${modelName} doesn't exist`);
      const m = env.method(modelName, String(methodName));
      let ids: number[] = [];
      if (m.api === 'records') {
        const first = positional.shift();
        ids = Array.isArray(first) ? (first as number[]) : typeof first === 'number' ? [first] : [];
      }
      const bound = bindArguments(m, positional, kwargs);
      if (faults.take('serialization', call)) {
        record.fault = 'serialization';
        throw serializationFailure();
      }
      // execute_kw: create() returns one id for a dict, ids for a list, and reads
      // args[0] to tell; values passed by name fail there (and the transaction is rolled back).
      if (methodName === 'create' && positional.length === 0) throw indexError('list index out of range');
      let result = runMethod(env, modelName, String(methodName), m, ids, bound, call);
      if (methodName === 'create' && !Array.isArray(positional[0])) result = (result as number[])[0];
      if (faults.take('dropAfterCommit', call)) {
        record.fault = 'dropAfterCommit';
        req.socket.destroy();
        return;
      }
      return reply(result);
    } catch (e) {
      if (e instanceof OdooException) return replyError(e);
      return replyError(fromUnknown(e));
    }
  }

  function common(method: string, args: unknown[]): unknown {
    if (method === 'version') return RPC_VERSION(version);
    if (method === 'about') return 'See http://openerp.com';
    if (method === 'authenticate' || method === 'login') {
      const [dbArg, loginArg, password] = args;
      if (dbArg !== dbName) throw noDatabase(String(dbArg));
      const user = db.all('res.users').find((u) => u.login === loginArg && u.active !== false);
      if (!user || keys.get(String(password)) !== user.id) return false;
      if (user.id === users.botUid && faults.take('revokeKey', {})) return false;
      return user.id;
    }
    throw new OdooException('builtins.Exception', `Method not found: ${method}`, 500);
  }

  // ---- control -----------------------------------------------------------------------

  async function control(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, record: RequestRecord): Promise<void> {
    const path = record.path;
    if (path === '/__sim/faults') {
      if (req.method === 'GET') return sendJson(res, 200, faults.list(), record);
      if (req.method === 'DELETE') {
        const kind = new URL(req.url ?? '/', 'http://x').searchParams.get('kind') ?? undefined;
        faults.clear(kind as FaultKind | undefined);
        return sendJson(res, 200, faults.list(), record);
      }
      if (req.method === 'POST') {
        let specs: unknown;
        try {
          specs = JSON.parse(body.toString('utf8'));
        } catch {
          return sendJson(res, 400, { error: 'body must be a fault as JSON' }, record);
        }
        const list = Array.isArray(specs) ? specs : [specs];
        if (!list.every(isFaultSpec)) return sendJson(res, 400, { error: 'unknown fault kind' }, record);
        const refuse = list.find((s) => s.kind === 'refuse');
        for (const s of list) if (s.kind !== 'refuse') faults.set(s);
        sendJson(res, 200, faults.list(), record);
        if (refuse) res.on('finish', () => setImmediate(() => faults.set(refuse as FaultSpec)));
        return;
      }
    }
    if (path === '/__sim/stats' && req.method === 'GET') {
      return sendJson(
        res,
        200,
        { version, db: dbName, connections: connectionCount, calls: countCalls(), faults: faults.list(), recent: requests.slice(-50) },
        record,
      );
    }
    const m = /^\/__sim\/records\/([\w.]+)$/.exec(path);
    if (m && req.method === 'GET') {
      const model = m[1]!;
      if (!db.model(model)) return sendJson(res, 404, { error: `no model ${model}` }, record);
      return sendJson(
        res,
        200,
        state.read(
          model,
          state.records(model).map((r) => r.id),
        ),
        record,
      );
    }
    return sendJson(res, 404, { error: 'unknown control endpoint' }, record);
  }

  function countCalls(filter: { model?: string; method?: string } = {}): number {
    return requests.filter(
      (r) =>
        (r.protocol === 'json2' || (r.protocol === 'jsonrpc' && r.service === 'object')) &&
        (!filter.model || r.model === filter.model) &&
        (!filter.method || r.method === filter.method),
    ).length;
  }

  await listen();
  const scheme = opts.tls ? 'https' : 'http';
  return {
    get url() {
      return `${scheme}://${host}:${port}`;
    },
    get port() {
      return port;
    },
    db: dbName,
    apiKey,
    adminApiKey,
    login,
    uid: users.botUid,
    version,
    state,
    faults,
    requests,
    calls: countCalls,
    get connections() {
      return connectionCount;
    },
    close: async () => {
      closed = true;
      if (reopenTimer) clearTimeout(reopenTimer);
      await new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        if (!listening) return resolve();
        listening = false;
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
