/**
 * OPC UA adapter cost, against a server with 10,000 variables that all change once a second.
 *
 * Three child processes, so each one's CPU is its own:
 *   server  the test server (its CPU is not counted)
 *   agent   the agent's OpcuaSource subscribed to all 10,000 items, signals handed to a no-op emit
 *   bare    a plain node-opcua client doing the same subscription (the baseline)
 * Agent and bare are measured over the same window. Then the agent's connection is cut
 * 100 times (a TCP relay between it and the server drops every connection) and its RSS
 * after a forced GC is compared with the RSS before; the bare client's RSS drift over the
 * same period is the baseline. Every tenth reconnect is a whole-client rebuild (what the
 * adapter does when node-opcua's own repair is not enough), the others are node-opcua's repair.
 *
 * Run alone: node dist/bench/run.js opcua
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { figure, percentile, type Figure } from './figure';

const ITEMS = 10_000;
const WARMUP_MS = 10_000;
const MEASURE_MS = 25_000;
const RECONNECTS = 100;

type Msg = Record<string, unknown> & { type: string };

/** A child process spoken to over IPC: request(type) resolves with the child's answer of the same type. */
class Child {
  private waiters = new Map<string, Array<(m: Msg) => void>>();
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    proc.on('message', (m: Msg) => {
      const list = this.waiters.get(m.type);
      const w = list?.shift();
      if (w) w(m);
    });
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  }

  next(type: string, timeoutMs: number): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.name}: no "${type}" within ${timeoutMs} ms`)), timeoutMs);
      const list = this.waiters.get(type) ?? [];
      list.push((m) => {
        clearTimeout(t);
        resolve(m);
      });
      this.waiters.set(type, list);
      this.exited.then(
        (code) => {
          clearTimeout(t);
          reject(new Error(`${this.name} exited (${code}) while waiting for "${type}"`));
        },
        () => undefined,
      );
    });
  }

  async request(msg: Msg, timeoutMs: number): Promise<Msg> {
    const answer = this.next(msg.type, timeoutMs);
    this.proc.send(msg);
    return answer;
  }

  kill(): void {
    if (this.proc.exitCode === null && !this.proc.killed) this.proc.kill('SIGKILL');
  }
}

function spawnRole(role: string, args: string[]): Child {
  const proc = fork(__filename, ['--role', role, ...args], {
    execArgv: ['--expose-gc'],
    env: { ...process.env, EDGE_AGENT_LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Child(role, proc);
}

export async function run(): Promise<Figure[]> {
  const { startTcpProxy } = await import('../test/protocols/opcua/tcp-proxy');
  const dir = mkdtempSync(join(tmpdir(), 'edge-agent-bench-opcua-'));
  const children: Child[] = [];
  let proxy: Awaited<ReturnType<typeof startTcpProxy>> | undefined;
  try {
    const server = spawnRole('server', [join(dir, 'server-pki'), String(ITEMS)]);
    children.push(server);
    const ready = await server.next('ready', 120_000);
    const port = ready.port as number;
    const nodeIds = ready.nodeIds as string[];
    proxy = await startTcpProxy(port);

    const agent = spawnRole('agent', [`opc.tcp://127.0.0.1:${proxy.port}`, join(dir, 'agent-state')]);
    const bare = spawnRole('bare', [`opc.tcp://127.0.0.1:${port}`]);
    children.push(agent, bare);
    await Promise.all([agent.request({ type: 'subscribe', nodeIds }, 120_000), bare.request({ type: 'subscribe', nodeIds }, 120_000)]);
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    const [a, b] = await Promise.all([
      agent.request({ type: 'measure', ms: MEASURE_MS }, MEASURE_MS + 30_000),
      bare.request({ type: 'measure', ms: MEASURE_MS }, MEASURE_MS + 30_000),
    ]);

    // 100 forced reconnects of the agent; the bare client keeps running untouched
    const agentBefore = await agent.request({ type: 'rss' }, 30_000);
    const bareBefore = await bare.request({ type: 'rss' }, 30_000);
    const reconnectMs: number[] = [];
    for (let i = 0; i < RECONNECTS; i++) {
      const before = (await agent.request({ type: 'status' }, 10_000)).reconnects as number;
      const t0 = Date.now();
      // every tenth time the adapter throws its whole client away instead (its own rebuild path)
      if (i % 10 === 9) agent.proc.send({ type: 'rebuild' });
      else proxy.cut();
      for (;;) {
        const s = await agent.request({ type: 'status' }, 10_000);
        if ((s.reconnects as number) > before && s.connected === true) break;
        if (Date.now() - t0 > 60_000) throw new Error(`reconnect ${i + 1} did not complete within 60 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
      reconnectMs.push(Date.now() - t0);
    }
    // data flows again after the last one
    const flowing = await agent.request({ type: 'flowing' }, 60_000);
    if (flowing.ok !== true) throw new Error('no data after the reconnects');
    const agentAfter = await agent.request({ type: 'rss' }, 30_000);
    const bareAfter = await bare.request({ type: 'rss' }, 30_000);

    const mb = (x: unknown) => (x as number) / 1024 / 1024;
    const growth = mb(agentAfter.rss) - mb(agentBefore.rss);
    const bareDrift = mb(bareAfter.rss) - mb(bareBefore.rss);
    return [
      figure(
        'opcua_cpu_pct',
        '% of one core',
        a.cpuPct as number,
        b.cpuPct as number,
        '<= 15; ratio to bare <= 1.5',
        `${ITEMS} items changing at 1 Hz; agent ${Math.round(a.perSecond as number)} signals/s, bare ${Math.round(b.perSecond as number)} changes/s over ${MEASURE_MS / 1000} s`,
      ),
      figure('opcua_rss_mb', 'MB', mb(a.rss), mb(b.rss), 'ratio to bare <= 1.5', 'RSS while subscribed to all items'),
      figure('opcua_signals_per_s', 'signals/s', a.perSecond as number, b.perSecond as number, `>= ${ITEMS * 0.95}`, 'every change arrives'),
      figure(
        'opcua_rss_growth_mb',
        'MB',
        growth,
        bareDrift,
        '< 10',
        `agent RSS after forced GC, before vs after ${RECONNECTS} forced reconnects (90 connections cut, 10 whole-client rebuilds); baseline: bare client RSS drift over the same time without reconnects`,
      ),
      figure(
        'opcua_heap_growth_mb',
        'MB',
        mb(agentAfter.heapUsed) - mb(agentBefore.heapUsed),
        mb(bareAfter.heapUsed) - mb(bareBefore.heapUsed),
        '< 5',
        'JS heap after forced GC, same points as opcua_rss_growth_mb (RSS also holds pages V8 has not returned yet)',
      ),
      figure(
        'opcua_reconnect_ms',
        'ms (p50)',
        percentile(reconnectMs, 50),
        percentile(reconnectMs, 95),
        '< 5000',
        'connection cut (or rebuild) until re-established with all items; baseline column holds p95',
      ),
    ];
  } finally {
    for (const c of children) {
      try {
        c.proc.send({ type: 'exit' });
      } catch {
        /* already gone */
      }
    }
    await Promise.race([Promise.all(children.map((c) => c.exited)), new Promise((r) => setTimeout(r, 5000))]);
    for (const c of children) c.kill();
    await proxy?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// child roles

function send(m: Msg): void {
  process.send?.(m);
}

function measure(ms: number, counter: () => number): Promise<Msg> {
  return new Promise((resolve) => {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const n0 = counter();
    setTimeout(() => {
      const c = process.cpuUsage(c0);
      const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
      resolve({
        type: 'measure',
        cpuPct: ((c.user + c.system) / 1000 / elapsedMs) * 100,
        rss: process.memoryUsage().rss,
        perSecond: ((counter() - n0) / elapsedMs) * 1000,
      });
    }, ms);
  });
}

/**
 * Memory after forced GCs. Changes keep arriving (10,000 a second), so one reading
 * can catch a publish in flight: take the lowest of several readings over two seconds.
 */
async function memoryAfterGc(): Promise<Msg> {
  const gc = (globalThis as { gc?: () => void }).gc;
  let rss = Number.POSITIVE_INFINITY;
  let heapUsed = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 8; i++) {
    gc?.();
    const m = process.memoryUsage();
    rss = Math.min(rss, m.rss);
    heapUsed = Math.min(heapUsed, m.heapUsed);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { type: 'rss', rss, heapUsed };
}

async function serverRole(pkiDir: string, items: number): Promise<void> {
  const { startTestServer } = await import('../test/protocols/opcua/fixture');
  const srv = await startTestServer({ pkiDir, bulk: items, bulkTickMs: 1000, tickMs: 0 });
  send({ type: 'ready', port: srv.port, nodeIds: Array.from({ length: items }, (_, i) => srv.nodeIds.bulk(i)) });
  process.on('message', (m: Msg) => {
    if (m.type === 'exit') void srv.stop().finally(() => process.exit(0));
  });
}

async function agentRole(endpointUrl: string, stateDir: string): Promise<void> {
  const pino = (await import('pino')).default;
  const { OpcuaSource } = await import('../agent/protocols/opcua/adapter');
  const { opcuaConfigSchema } = await import('../agent/protocols/opcua/config');
  let received = 0;
  let source: InstanceType<typeof OpcuaSource> | null = null;
  process.on('message', (m: Msg) => {
    void (async () => {
      if (m.type === 'subscribe') {
        const nodeIds = m.nodeIds as string[];
        const cfg = opcuaConfigSchema().parse({
          type: 'opcua',
          name: 'bench',
          endpointUrl,
          securityMode: 'None',
          securityPolicy: 'None',
          reconnect: { initialDelayMs: 100, maxDelayMs: 2000 },
          subscriptions: [{ publishingIntervalMs: 1000, items: nodeIds.map((nodeId, i) => ({ tag: `v${i}`, nodeId })) }],
        });
        source = new OpcuaSource(cfg, {
          log: pino({ level: 'silent' }),
          stateDir,
          emit: async (signals) => {
            received += signals.length;
          },
          reject: async () => undefined,
        });
        await source.start();
        const t0 = Date.now();
        while (!(source.health().details?.items === nodeIds.length && received >= nodeIds.length)) {
          if (Date.now() - t0 > 110_000) throw new Error(`agent: ${String(source.health().details?.items)} items after 110 s`);
          await new Promise((r) => setTimeout(r, 200));
        }
        send({ type: 'subscribe' });
      } else if (m.type === 'measure') {
        send(await measure(m.ms as number, () => received));
      } else if (m.type === 'rss') {
        send(await memoryAfterGc());
      } else if (m.type === 'status') {
        const h = source!.health();
        send({ type: 'status', connected: h.connected, reconnects: h.details?.reconnects });
      } else if (m.type === 'rebuild') {
        // what the watchdog does when it gives up on a client
        (source as unknown as { connection: { link: { end(reason: string): void } | null } }).connection.link?.end('bench: forced rebuild');
      } else if (m.type === 'flowing') {
        const n = received;
        const t0 = Date.now();
        while (received < n + ITEMS && Date.now() - t0 < 50_000) await new Promise((r) => setTimeout(r, 100));
        send({ type: 'flowing', ok: received >= n + ITEMS });
      } else if (m.type === 'exit') {
        await source?.stop();
        process.exit(0);
      }
    })().catch((err: unknown) => {
      process.stderr.write(`bench agent: ${String(err)}\n`);
      process.exit(1);
    });
  });
}

async function bareRole(endpointUrl: string): Promise<void> {
  const { AttributeIds, ClientMonitoredItemGroup, MessageSecurityMode, OPCUAClient, SecurityPolicy, TimestampsToReturn } = await import('node-opcua');
  let received = 0;
  const client = OPCUAClient.create({
    endpointMustExist: false,
    securityMode: MessageSecurityMode.None,
    securityPolicy: SecurityPolicy.None,
    connectionStrategy: { maxRetry: 3, initialDelay: 500, maxDelay: 2000 },
  });
  process.on('message', (m: Msg) => {
    void (async () => {
      if (m.type === 'subscribe') {
        const nodeIds = m.nodeIds as string[];
        await client.connect(endpointUrl);
        const session = await client.createSession();
        const sub = await session.createSubscription2({
          requestedPublishingInterval: 1000,
          requestedMaxKeepAliveCount: 5,
          requestedLifetimeCount: 120,
          maxNotificationsPerPublish: 0,
          publishingEnabled: true,
          priority: 10,
        });
        for (let start = 0; start < nodeIds.length; start += 1000) {
          const group = ClientMonitoredItemGroup.create(
            sub,
            nodeIds.slice(start, start + 1000).map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })),
            { samplingInterval: 1000, queueSize: 10, discardOldest: true },
            TimestampsToReturn.Both,
          );
          group.on('changed', () => {
            received += 1;
          });
          await new Promise<void>((resolve, reject) => {
            group.once('initialized', () => resolve());
            group.once('terminated', (err?: Error) => reject(err ?? new Error('terminated')));
          });
        }
        const t0 = Date.now();
        while (received < nodeIds.length && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 200));
        send({ type: 'subscribe' });
      } else if (m.type === 'measure') {
        send(await measure(m.ms as number, () => received));
      } else if (m.type === 'rss') {
        send(await memoryAfterGc());
      } else if (m.type === 'exit') {
        await client.disconnect().catch(() => undefined);
        process.exit(0);
      }
    })().catch((err: unknown) => {
      process.stderr.write(`bench bare client: ${String(err)}\n`);
      process.exit(1);
    });
  });
}

if (require.main === module && process.argv[2] === '--role') {
  const [role, a1, a2] = process.argv.slice(3);
  const started =
    role === 'server'
      ? serverRole(a1!, Number(a2))
      : role === 'agent'
        ? agentRole(a1!, a2!)
        : role === 'bare'
          ? bareRole(a1!)
          : Promise.reject(new Error(`unknown role ${role}`));
  started.catch((err: unknown) => {
    process.stderr.write(`bench ${role}: ${String(err)}\n`);
    process.exit(1);
  });
  // the parent going away ends the child
  process.on('disconnect', () => process.exit(0));
}
