import { randomBytes, X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { AgentActions, AgentView } from '../runtime/view';
import { flowsJson } from '../buffer/flows';
import { CLOSED_PERIOD } from '../buffer/outbox';
import { AgentError, errorMessage } from '../errors';
import { componentLogger, type Logger } from '../log';
import { createMetrics } from './metrics';
import { DEFAULT_LIMITS, hostUrl, listenOn, pageServer, type RequestLimits } from './listeners';
import { findUser, listUsers, roleAllows, verifyUser, type Role } from './users';
import { currentValue, editCandidates, fieldPath } from './edit-value';
import { clip } from './format';
import { headline } from './headline';
import { plantTimeZone } from '../config/clocks';
import { renderLoginPage, renderMessagePage, renderStatusMain, renderStatusPage, type PageModel } from './page';
import {
  cookie,
  LOGIN_COOKIE,
  LoginLimiter,
  parseCookies,
  randomToken,
  safeNext,
  sameOrigin,
  SESSION_COOKIE,
  Sessions,
  tokensEqual,
  type Session,
} from './security';
import { ThroughputHistory } from './throughput';

/**
 * The agent's local web server for supervisors: the status page, login,
 * retry/skip/edit of parked events, /metrics, /healthz, /readyz and
 * /api/status. Plain node:http: a handful of routes do not need a framework.
 */

export interface HttpHandle {
  /** Address of the first listener, for people and the CLI (`http://127.0.0.1:8470`, `https://...` with TLS). */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface HttpOptions {
  port?: number;
  host?: string;
  /** Shorter limits for tests; the defaults are the documented ones. */
  limits?: Partial<RequestLimits>;
}

const MAX_BODY = 16 * 1024;
const SAMPLE_MS = 5000;
const PARKED_SHOWN = 50;

/**
 * Serve the page on the configured addresses (or `opts.host`). Fails with
 * HTTP_LISTEN when it cannot listen, unless `http.optional`: then it tries
 * again every 30 s while the agent runs on.
 */
export async function startHttp(running: { view: AgentView; actions: AgentActions }, opts: HttpOptions = {}): Promise<HttpHandle> {
  const agent = running.view;
  const config = agent.config.http;
  const log = componentLogger('http');
  const tls = config.tls;
  const site = new StatusSite(agent, running.actions, log, tls !== undefined);
  const hosts = opts.host ? [opts.host] : config.bind.length ? config.bind : ['127.0.0.1'];
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  let listeners;
  try {
    listeners = await listenOn(hosts, opts.port ?? config.port, () => pageServer((req, res) => site.handle(req, res), limits, tls), log, config.optional);
  } catch (err) {
    site.stop();
    throw err;
  }
  const { port } = listeners;
  if (tls) warnIfExpired(tls.certificate, log);
  log.info({ bind: hosts, port, view: config.view, tls: tls !== undefined }, `status page on ${hosts.map((h) => hostUrl(h, port, !!tls)).join(', ')}`);
  return {
    url: hostUrl(hosts[0]!, port, !!tls),
    port,
    async close() {
      site.stop();
      await listeners.close();
    },
  };
}

function warnIfExpired(certificate: string, log: Logger): void {
  const validTo = Date.parse(new X509Certificate(certificate).validTo);
  if (validTo < Date.now()) log.warn({ validTo: new Date(validTo).toISOString() }, 'the status page certificate has expired: browsers will refuse the page');
}

function isLoopback(address: string | undefined): boolean {
  return !!address && (address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.'));
}

/** One request: what the handlers need, parsed once. */
interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  method: string;
  nonce: string;
  ip: string;
  cookies: Map<string, string>;
  session: Session | undefined;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

class StatusSite {
  private readonly sessions = new Sessions();
  private readonly limiter = new LoginLimiter(5, 60_000);
  private readonly throughput = new ThroughputHistory(60);
  private readonly sampler: NodeJS.Timeout;
  private readonly metrics: Registry;
  private stopping = false;

  constructor(
    private readonly agent: AgentView,
    private readonly actions: AgentActions,
    private readonly log: Logger,
    /** Served over TLS: cookies are marked Secure. */
    private readonly secure: boolean,
  ) {
    this.metrics = createMetrics(agent);
    this.sample();
    this.sampler = setInterval(() => this.sample(), SAMPLE_MS);
    this.sampler.unref();
  }

  stop(): void {
    this.stopping = true;
    clearInterval(this.sampler);
  }

  private get usersFile(): string {
    return this.agent.config.http.usersFile;
  }

  /** Running totals for the throughput chart: events committed by the pipeline, and events delivered. */
  private sample(): void {
    try {
      const sent = this.agent.sync()?.sent ?? this.agent.outbox.counts().done;
      this.throughput.sample(Date.now(), { received: this.agent.intake().events, sent });
    } catch (err) {
      this.log.debug({ err }, 'throughput sample failed');
    }
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.route(req, res).catch((err: unknown) => {
      if (req.socket.destroyed && err instanceof HttpError) return;
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) this.log.error({ err, path: req.url }, `status page request failed: ${errorMessage(err)}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const text = err instanceof HttpError ? err.message : 'The agent could not answer this request; the details are in its log.';
      const nonce = randomBytes(16).toString('base64');
      this.headers(res, nonce);
      this.send(res, status, 'text/html; charset=utf-8', renderMessagePage(status === 500 ? 'Error' : titleFor(status), text, nonce));
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://agent.invalid');
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const nonce = randomBytes(16).toString('base64');
    this.headers(res, nonce);
    const cookies = parseCookies(req.headers.cookie);
    const ctx: Ctx = { req, res, url, method, nonce, ip: req.socket.remoteAddress ?? '?', cookies, session: this.currentSession(cookies.get(SESSION_COOKIE)) };

    const routes: Record<string, Partial<Record<string, (c: Ctx) => Promise<void> | void>>> = {
      '/healthz': { GET: (c) => this.send(c.res, 200, 'text/plain; charset=utf-8', 'ok\n') },
      '/readyz': { GET: (c) => this.readyz(c) },
      '/metrics': { GET: (c) => this.metricsText(c) },
      '/api/status': { GET: (c) => this.apiStatus(c) },
      '/api/orders': { GET: (c) => this.apiOrders(c) },
      '/': { GET: (c) => this.statusPage(c) },
      '/login': { GET: (c) => this.loginPage(c), POST: (c) => this.login(c) },
      '/logout': { POST: (c) => this.logout(c) },
      '/events/retry': { POST: (c) => this.action(c, 'supervisor', (f, s) => this.retry(f, s)) },
      '/events/skip': { POST: (c) => this.action(c, 'supervisor', (f, s) => this.skip(f, s)) },
      '/events/edit': { POST: (c) => this.action(c, 'supervisor', (f, s) => this.edit(f, s)) },
      '/events/post-open': { POST: (c) => this.action(c, 'supervisor', (f, s) => this.postAtOpenDate(f, s), '/#closed-period') },
      '/events/retry-all': { POST: (c) => this.action(c, 'admin', (f, s) => this.retryAll(f, s)) },
      '/flows/release': { POST: (c) => this.action(c, 'supervisor', (f, s) => this.releaseFlow(f, s), '/#flows') },
    };
    const route = routes[url.pathname];
    if (!route) throw new HttpError(404, `Nothing at ${clip(url.pathname, 100)}.`);
    const handler = route[method];
    if (!handler) {
      res.setHeader('Allow', Object.keys(route).join(', '));
      throw new HttpError(405, `${method} is not allowed here.`);
    }
    await handler(ctx);
  }

  // ---- responses ------------------------------------------------------------------

  private headers(res: ServerResponse, nonce: string): void {
    res.setHeader(
      'Content-Security-Policy',
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    );
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Cache-Control', 'no-store');
  }

  private send(res: ServerResponse, status: number, type: string, body: string): void {
    res.statusCode = status;
    res.setHeader('Content-Type', type);
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(body);
  }

  private redirect(res: ServerResponse, location: string): void {
    res.statusCode = 303;
    res.setHeader('Location', location);
    res.setHeader('Content-Length', 0);
    res.end();
  }

  private json(res: ServerResponse, status: number, value: unknown): void {
    this.send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value, null, 2)}\n`);
  }

  // ---- sessions -------------------------------------------------------------------

  /** The session, if its user still exists; a role changed in the users file applies at once. */
  private currentSession(id: string | undefined): Session | undefined {
    const s = this.sessions.get(id);
    if (!s) return undefined;
    let user;
    try {
      user = findUser(this.usersFile, s.user);
    } catch (err) {
      this.log.error({ err }, `users file unreadable: ${errorMessage(err)}`);
      return undefined;
    }
    if (!user) {
      this.sessions.destroyUser(s.user);
      return undefined;
    }
    s.role = user.role;
    return s;
  }

  private mayView(c: Ctx): boolean {
    return this.agent.config.http.view === 'open' || c.session !== undefined;
  }

  // ---- read-only routes -------------------------------------------------------------

  private readyz(c: Ctx): void {
    const checks: Record<string, string> = {};
    try {
      this.agent.outbox.counts();
      const storage = this.agent.storage();
      checks.outbox = storage.state === 'failing' ? `error: events cannot be stored: ${storage.reasons.join('; ')}` : 'ok';
    } catch (err) {
      checks.outbox = `error: ${errorMessage(err)}`;
    }
    // The config was validated in full when the agent started; this checks that it is the one the agent runs with.
    checks.config = this.agent.config?.plant?.id && this.agent.config.http ? 'ok' : 'error: no valid config';
    checks.server = this.stopping ? 'error: shutting down' : 'ok';
    const ready = Object.values(checks).every((v) => v === 'ok');
    this.json(c.res, ready ? 200 : 503, { ready, checks });
  }

  private async metricsText(c: Ctx): Promise<void> {
    const text = await this.metrics.metrics();
    this.send(c.res, 200, this.metrics.contentType, text);
  }

  private apiStatus(c: Ctx): void {
    // `edge-agent status` asks from the gateway itself, without a login.
    if (!this.mayView(c) && !isLoopback(c.ip)) {
      this.json(c.res, 401, { error: 'login required (http.view is login)' });
      return;
    }
    this.json(c.res, 200, statusJson(this.agent));
  }

  private apiOrders(c: Ctx): void {
    // `edge-agent orders` asks from the gateway itself, without a login.
    if (!this.mayView(c) && !isLoopback(c.ip)) {
      this.json(c.res, 401, { error: 'login required (http.view is login)' });
      return;
    }
    const view = this.agent.orders?.();
    if (!view) {
      this.json(c.res, 404, { error: 'this agent makes no order view' });
      return;
    }
    this.json(c.res, 200, view);
  }

  private statusPage(c: Ctx): void {
    if (!this.mayView(c)) {
      this.redirect(c.res, '/login?next=/');
      return;
    }
    this.sample();
    const a = this.agent;
    const now = Date.now();
    const counts = a.outbox.counts();
    const oldestUnfinishedAt = a.outbox.oldestUnfinishedAt();
    const sync = a.sync();
    const flows = a.flows();
    const odooConfigured = sync !== undefined;
    // The page refreshes only its main part (?part=main); a message to show once waits for a whole page.
    const partial = c.url.searchParams.get('part') === 'main';
    const flash = partial ? undefined : c.session?.flash;
    if (c.session && !partial) c.session.flash = undefined;
    const user = c.session ? { name: c.session.user, role: c.session.role } : undefined;
    const timeZone = plantTimeZone(a.config);
    const model: PageModel = {
      now,
      plant: a.config.plant,
      startedAt: a.startedAt,
      user,
      csrf: c.session?.csrf,
      offerActions: !user || roleAllows(user.role, 'supervisor'),
      isAdmin: user?.role === 'admin',
      flash,
      headline: headline({
        now,
        startedAt: a.startedAt,
        odooConfigured,
        sync,
        counts,
        oldestUnfinishedAt,
        maxEvents: a.config.outbox.maxEvents,
        refused: a.intake().refused,
        held: flows.reduce((n, f) => n + f.held, 0),
        storage: a.storage(),
        timeZone,
      }),
      odoo: { configured: odooConfigured, url: a.config.odoo?.url, database: a.config.odoo?.database, status: sync },
      outbox: { ...counts, oldestUnfinishedAt },
      throughput: { last5: this.throughput.series(5, now), last60: this.throughput.series(60, now) },
      sources: a.sources(),
      ...(a.release?.() ? { release: a.release()! } : {}),
      flows,
      parked: a.outbox.list({ state: 'parked', limit: PARKED_SHOWN }),
      closedPeriod: { events: a.outbox.list({ state: 'parked', errorCode: CLOSED_PERIOD, limit: PARKED_SHOWN }), closedUntil: a.closedUntil?.() ?? null },
      flagged: counts.flagged ? a.outbox.list({ state: 'flagged', limit: PARKED_SHOWN }) : [],
      masterDataAt: a.masterDataAt?.() ?? null,
      invalid: a.outbox.listInvalid(5),
      conflicts: a.outbox.listConflicts(5),
      audit: a.outbox.listAudit(50),
      orders: a.orders?.(),
      reconcile: a.lastReconcile?.(),
      clocks: a.clocks?.(),
      timeZone,
      nonce: c.nonce,
    };
    this.send(c.res, 200, 'text/html; charset=utf-8', partial ? renderStatusMain(model) : renderStatusPage(model));
  }

  // ---- login and logout ---------------------------------------------------------------

  private title(): string {
    const p = this.agent.config.plant;
    return p.name ? `${p.name} · edge agent` : `Edge agent · ${p.id}`;
  }

  private noUsers(): boolean {
    try {
      return listUsers(this.usersFile).length === 0;
    } catch {
      return false;
    }
  }

  private loginForm(c: Ctx, status: number, next: string, error?: string): void {
    const token = randomToken();
    c.res.setHeader('Set-Cookie', cookie(LOGIN_COOKIE, token, { maxAgeSeconds: 1800, secure: this.secure }));
    this.send(c.res, status, 'text/html; charset=utf-8', renderLoginPage({ title: this.title(), token, next, error, noUsers: this.noUsers(), nonce: c.nonce }));
  }

  private loginPage(c: Ctx): void {
    const next = safeNext(c.url.searchParams.get('next'));
    if (c.session) {
      this.redirect(c.res, next);
      return;
    }
    this.loginForm(c, 200, next);
  }

  private async login(c: Ctx): Promise<void> {
    if (!sameOrigin(c.req.headers)) throw new HttpError(403, 'Refused: this form was not sent from the status page (cross-site request).');
    const form = await readForm(c.req);
    const next = safeNext(form.get('next'));
    if (!tokensEqual(form.get('token') ?? undefined, c.cookies.get(LOGIN_COOKIE))) {
      this.loginForm(c, 403, next, 'The login form had expired. Please try again.');
      return;
    }
    const name = clip((form.get('user') ?? '').trim().replace(/[\u0000-\u001f\u007f]/g, ''), 64);
    const password = form.get('password') ?? '';
    // Counted before the password check: attempts sent at once must not pass the limit together.
    const attempt = this.limiter.begin([`ip:${c.ip}`, `user:${name}`]);
    if (attempt.waitMs > 0) {
      const seconds = Math.ceil(attempt.waitMs / 1000);
      this.log.warn({ user: name, ip: c.ip }, 'login refused: too many failed attempts');
      c.res.setHeader('Retry-After', String(seconds));
      this.loginForm(c, 429, next, `Too many failed attempts. Wait ${seconds} s and try again.`);
      return;
    }
    const user = name && password ? await verifyUser(this.usersFile, name, password) : undefined;
    if (!user) {
      this.actions.audit(`web:${name || '(empty)'}`, 'login-failed', { ip: c.ip });
      this.log.warn({ user: name, ip: c.ip }, 'failed login on the status page');
      this.loginForm(c, 401, next, 'Wrong name or password.');
      return;
    }
    attempt.succeeded();
    // A new session id at every login (an id known before the login is worth nothing after it).
    const old = c.cookies.get(SESSION_COOKIE);
    if (old) this.sessions.destroy(old);
    const session = this.sessions.create(user.name, user.role);
    this.actions.audit(`web:${user.name}`, 'login', { ip: c.ip, role: user.role });
    this.log.info({ user: user.name, role: user.role, ip: c.ip }, 'login on the status page');
    c.res.setHeader('Set-Cookie', [
      cookie(SESSION_COOKIE, session.id, { secure: this.secure }),
      cookie(LOGIN_COOKIE, '', { maxAgeSeconds: 0, secure: this.secure }),
    ]);
    this.redirect(c.res, next);
  }

  private async logout(c: Ctx): Promise<void> {
    const { session } = await this.checkPost(c);
    if (!session) {
      this.redirect(c.res, '/');
      return;
    }
    this.sessions.destroy(session.id);
    this.actions.audit(`web:${session.user}`, 'logout', { ip: c.ip });
    c.res.setHeader('Set-Cookie', cookie(SESSION_COOKIE, '', { maxAgeSeconds: 0, secure: this.secure }));
    this.redirect(c.res, '/');
  }

  // ---- actions on events ---------------------------------------------------------------

  /** Same origin, read the form, and, with a session, its CSRF token. */
  private async checkPost(c: Ctx): Promise<{ form: URLSearchParams; session: Session | undefined }> {
    if (!sameOrigin(c.req.headers)) {
      this.log.warn(
        { ip: c.ip, path: c.url.pathname, origin: c.req.headers.origin ?? null, referer: c.req.headers.referer ?? null },
        'cross-site POST refused',
      );
      throw new HttpError(403, 'Refused: this request was not sent from the status page (cross-site request).');
    }
    const form = await readForm(c.req);
    if (!c.session) return { form, session: undefined };
    if (!tokensEqual(form.get('csrf') ?? undefined, c.session.csrf)) {
      this.log.warn({ ip: c.ip, user: c.session.user, path: c.url.pathname }, 'POST without a valid form token refused');
      throw new HttpError(403, 'Refused: the form token is missing or wrong. Reload the status page and try again.');
    }
    return { form, session: c.session };
  }

  private async action(
    c: Ctx,
    needed: Role,
    run: (form: URLSearchParams, session: Session) => { kind: 'ok' | 'error'; text: string },
    back = '/#exceptions',
  ): Promise<void> {
    const { form, session } = await this.checkPost(c);
    if (!session) {
      this.redirect(c.res, '/login?next=/');
      return;
    }
    if (!roleAllows(session.role, needed)) {
      this.actions.audit(`web:${session.user}`, 'denied', { path: c.url.pathname, role: session.role, id: form.get('id') ?? undefined });
      throw new HttpError(403, `Your role (${session.role}) may not do this; it needs ${needed}.`);
    }
    let flash;
    try {
      flash = run(form, session);
    } catch (err) {
      if (!(err instanceof AgentError)) throw err;
      flash = { kind: 'error' as const, text: err.message };
    }
    session.flash = flash;
    this.redirect(c.res, back);
  }

  /** A supervisor sends a flow's held events now (end of shift, say) instead of at its next scheduled release. */
  private releaseFlow(form: URLSearchParams, s: Session) {
    const name = (form.get('flow') ?? '').trim();
    if (!this.agent.flows().some((f) => f.name === name)) throw new HttpError(400, 'The form names no configured flow.');
    const r = this.actions.releaseFlow(name, `web:${s.user}`);
    return {
      kind: 'ok' as const,
      text: r.members
        ? `Flow ${name}: ${r.members} held ${r.members === 1 ? 'event went' : 'events went'} into the queue as ${r.events} ${r.events === 1 ? 'event' : 'events'}.`
        : `Flow ${name} held nothing.`,
    };
  }

  private eventId(form: URLSearchParams): string {
    const id = (form.get('id') ?? '').trim();
    if (!id || id.length > 200) throw new HttpError(400, 'The form names no event.');
    return id;
  }

  private retry(form: URLSearchParams, s: Session) {
    const id = this.eventId(form);
    const n = this.actions.retry({ ids: [id] }, `web:${s.user}`);
    if (n === 0) return { kind: 'error' as const, text: `Event ${id} is not parked, flagged or retrying any more; nothing to retry.` };
    return { kind: 'ok' as const, text: `Event ${id} is back in the queue and will be sent again.` };
  }

  private retryAll(_form: URLSearchParams, s: Session) {
    const n = this.actions.retry({ state: 'parked' }, `web:${s.user}`);
    return { kind: 'ok' as const, text: `${n} parked ${n === 1 ? 'event is' : 'events are'} back in the queue.` };
  }

  private skip(form: URLSearchParams, s: Session) {
    const id = this.eventId(form);
    const reason = (form.get('reason') ?? '').trim();
    if (reason.length < 3) return { kind: 'error' as const, text: 'Skipping needs a reason (at least 3 characters); it goes into the audit log.' };
    const actor = `web:${s.user}`;
    const n =
      this.actions.skip({ ids: [id], state: 'parked' }, actor, clip(reason, 500)) ||
      this.actions.skip({ ids: [id], state: 'flagged' }, actor, clip(reason, 500));
    if (n === 0) return { kind: 'error' as const, text: `Event ${id} is not parked or flagged any more; nothing skipped.` };
    return { kind: 'ok' as const, text: `Event ${id} is skipped: it will not be sent. Later events of its key go on.` };
  }

  /** An event dated in a locked period: written to Odoo at the first open date, its own time kept. */
  private postAtOpenDate(form: URLSearchParams, s: Session) {
    const id = this.eventId(form);
    if (!this.actions.postAtOpenDate) return { kind: 'error' as const, text: 'This agent cannot post at the first open date.' };
    const [r] = this.actions.postAtOpenDate({ ids: [id] }, `web:${s.user}`);
    if (!r) return { kind: 'error' as const, text: `Event ${id} is not held for a closed period any more; nothing changed.` };
    return { kind: 'ok' as const, text: `Event ${id} will be written to Odoo at ${r.event.writeAt ?? ''}; it keeps its own time ${r.event.occurredAt}.` };
  }

  private edit(form: URLSearchParams, s: Session) {
    const id = this.eventId(form);
    const field = (form.get('field') ?? '').trim();
    const path = fieldPath(field);
    if (!path) return { kind: 'error' as const, text: `"${clip(field, 60)}" is not a field name (for example lot or payload.quantity).` };
    const record = this.agent.outbox.get(id);
    if (!record) return { kind: 'error' as const, text: `There is no event ${id}.` };
    const candidates = editCandidates(currentValue(record.event.payload, path), form.get('value') ?? '');
    if (!candidates.ok) return { kind: 'error' as const, text: `${path.join('.')}: ${candidates.reason}.` };
    let lastErr: unknown;
    for (const value of candidates.values) {
      try {
        this.actions.edit(id, path.join('.'), value, `web:${s.user}`);
        return { kind: 'ok' as const, text: `Event ${id}: ${path.join('.')} is now ${JSON.stringify(value)}; it will be sent again.` };
      } catch (err) {
        if (!(err instanceof AgentError) || err.code !== 'INVALID_EDIT') throw err;
        lastErr = err;
      }
    }
    throw lastErr;
  }
}

function titleFor(status: number): string {
  return status === 403
    ? 'Not allowed'
    : status === 404
      ? 'Not found'
      : status === 405
        ? 'Not allowed'
        : status === 413
          ? 'Too large'
          : status === 415
            ? 'Not a form'
            : 'Bad request';
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    req.resume();
    throw new HttpError(415, 'Expected a form (application/x-www-form-urlencoded).');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY) throw new HttpError(413, 'The form is too large.');
      chunks.push(chunk);
    }
  } catch (err) {
    // The client went away, or was cut at the request deadline: nothing for the log.
    if (err instanceof HttpError) throw err;
    throw new HttpError(400, 'The form did not arrive whole.');
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** The body of /api/status (also read by `edge-agent status`). */
export function statusJson(agent: AgentView): Record<string, unknown> {
  const counts = agent.outbox.counts();
  const oldest = agent.outbox.oldestUnfinishedAt();
  return {
    running: true,
    plant: agent.config.plant,
    startedAt: new Date(agent.startedAt).toISOString(),
    outbox: { ...counts, oldestUnfinishedAt: oldest === null ? null : new Date(oldest).toISOString() },
    odoo: agent.sync() ?? null,
    sources: agent.sources(),
    flows: flowsJson(agent.flows()),
    pipeline: intakeJson(agent.intake()),
    ...(agent.release?.() ? { release: agent.release() } : {}),
    clocks: agent.clocks?.() ?? null,
  };
}

/** Intake figures as JSON (per source as an object). */
function intakeJson({ bySource, ...totals }: ReturnType<AgentView['intake']>): Record<string, unknown> {
  return { ...totals, bySource: Object.fromEntries(bySource) };
}
