import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startAgent, type RunningAgent } from '../../agent/runtime/agent';
import { parseConfigText } from '../../agent/config/load';
import type { CanonicalEvent } from '../../agent/model/event';
import { startHttp } from '../../agent/http/server';
import { addUser } from '../../agent/http/users';

export interface TestSite {
  agent: RunningAgent;
  url: string;
  port: number;
  dir: string;
  usersFile: string;
  /** The parked event (its id) and two pending ones. */
  parkedId: string;
  pendingIds: string[];
  close(): Promise<void>;
}

export const PASSWORDS = { viewer: 'viewer-pass-1', supervisor: 'supervisor-pass-1', admin: 'admin-pass-1' } as const;

function event(id: string, key: string, reason: string): CanonicalEvent {
  const t = new Date(Date.now() - 20 * 60_000).toISOString();
  return {
    id,
    type: 'downtime.started',
    sequenceKey: key,
    occurredAt: t,
    receivedAt: t,
    source: 'line1-plc',
    payload: { downtimeId: `${id}-stop`, workcenter: key, reason },
  };
}

/**
 * A real agent (real config, real SQLite outbox, no Odoo section so events
 * only buffer, adapters not started) with three users, one parked event and
 * two pending ones, and its status page on an ephemeral port.
 */
export async function startSite(
  opts: { view?: 'open' | 'login'; users?: boolean; tls?: { certificateFile: string; keyFile: string } } = {},
): Promise<TestSite> {
  const dir = mkdtempSync(join(tmpdir(), 'http-test-'));
  const yaml = [
    'plant: { id: test_http, name: Test Plant }',
    `stateDir: ${JSON.stringify(dir)}`,
    'outbox: { synchronous: NORMAL }',
    `http: { view: ${opts.view ?? 'open'}, port: 0${opts.tls ? `, tls: { certificate: "\${file:${opts.tls.certificateFile}}", key: "\${file:${opts.tls.keyFile}}" }` : ''} }`,
    'sources:',
    '  - name: line1-plc',
    '    type: mqtt',
    '    url: mqtt://127.0.0.1:1',
    '    subscriptions: [{ topic: "mes/#" }]',
    '  - name: packing-scale',
    '    type: mqtt',
    '    url: mqtt://127.0.0.1:1',
    '    subscriptions: [{ topic: "scale/#" }]',
    '',
  ].join('\n');
  const config = parseConfigText(yaml, join(dir, 'config.yaml'));
  const agent = await startAgent(config, { withoutSources: true, log: pino({ level: 'silent' }) });
  const usersFile = config.http.usersFile;
  if (opts.users !== false) {
    await addUser(usersFile, 'vera', 'viewer', PASSWORDS.viewer);
    await addUser(usersFile, 'sam', 'supervisor', PASSWORDS.supervisor);
    await addUser(usersFile, 'ada', 'admin', PASSWORDS.admin);
  }
  const parkedId = 'evt-parked-1';
  const pendingIds = ['evt-pending-1', 'evt-pending-2'];
  await agent.outbox.enqueue([
    event(parkedId, 'Press 1', 'Tool Change'),
    event(pendingIds[0]!, 'Press 2', 'Material shortage'),
    event(pendingIds[1]!, 'Press 3', 'Setup'),
  ]);
  const claimed = agent.outbox.claim(10).find((r) => r.id === parkedId);
  if (!claimed) throw new Error('test setup: could not claim the event to park');
  agent.outbox.settle([
    { seq: claimed.seq, outcome: 'park', reason: 'The loss reason "Tool Change" does not exist in Odoo', code: 'ValidationError', blocking: true },
  ]);
  // The other claimed heads go back to pending without an attempt.
  agent.outbox.settle(agent.outbox.list({ state: 'inflight' }).map((r) => ({ seq: r.seq, outcome: 'release' as const })));
  const http = await startHttp(agent, { port: 0, host: '127.0.0.1' });
  return {
    agent,
    url: http.url,
    port: http.port,
    dir,
    usersFile,
    parkedId,
    pendingIds,
    async close() {
      await http.close();
      await agent.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A small HTTP client that keeps cookies, like a browser does for one site.
 * `localAddress` picks the client address (127.0.0.x); `ca` is the
 * certificate an https site is checked against.
 */
export class Browser {
  readonly jar = new Map<string, string>();

  constructor(
    readonly base: string,
    readonly localAddress?: string,
    readonly ca?: string,
  ) {}

  request(path: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string | undefined> } = {}): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (this.jar.size) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      body = new URLSearchParams(init.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin = this.base;
    }
    for (const [k, v] of Object.entries(init.headers ?? {})) {
      if (v === undefined) delete headers[k];
      else headers[k] = v;
    }
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    return new Promise((resolve, reject) => {
      const send = this.base.startsWith('https:') ? httpsRequest : httpRequest;
      const req = send(
        this.base + path,
        { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, localAddress: this.localAddress, agent: false, ca: this.ca },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            for (const c of res.headers['set-cookie'] ?? []) {
              const [pair, ...attrs] = c.split(';');
              const i = pair!.indexOf('=');
              const name = pair!.slice(0, i);
              const value = pair!.slice(i + 1);
              if (value === '' || attrs.some((a) => /max-age=0/i.test(a.trim()))) this.jar.delete(name);
              else this.jar.set(name, value);
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async text(path: string): Promise<string> {
    return (await this.request(path)).body;
  }

  /** Load the login form and log in; returns the POST's reply. */
  async login(user: string, password: string): Promise<Reply> {
    const page = await this.text('/login');
    const token = /name="token" value="([^"]+)"/.exec(page)?.[1];
    if (!token) throw new Error('no login token on the login page');
    return this.request('/login', { form: { token, next: '/', user, password } });
  }

  /** The CSRF token on the status page (logged in only). */
  async csrf(): Promise<string> {
    const page = await this.text('/');
    const token = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
    if (!token) throw new Error('no form token on the status page');
    return token;
  }
}
