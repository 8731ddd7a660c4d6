import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { smallDisk } from '../helpers/small-disk';
import { startTcpProxy, type TcpProxy } from '../protocols/opcua/tcp-proxy';
import { makeWorkcenters, startSoakOdoo, type SoakOdoo } from './odoo';
import { soakPlan, type Round } from './plan';
import { makeSession, startPlant, type MqttMessage, type Plant } from './plant';
import { readOutbox, reconcile } from './reconcile';

/**
 * The soak: the real agent process (`edge-agent run`) with four real sources
 * at once, delivering to Odoo through a WAN that the driver cuts, while the
 * driver SIGKILLs the agent at moments drawn from a seed, storms Odoo with
 * faults and fills the agent's disk. At the end it reconciles everything owed
 * against Odoo (./reconcile.ts) and returns one summary.
 *
 *   node dist/test/soak/main.js            (npm run soak; options in main.ts)
 */

export interface SoakOptions {
  kills: number;
  seed: number;
  /** Shortest and longest life of the agent between two kills, ms (default 1000..9000). */
  lifeMs?: [number, number];
  /** How often the plant says something new, ms (default 50: 20 MQTT messages a second). */
  tickMs?: number;
  /** MQTT sequence keys (default 4). */
  mqttKeys?: number;
  /** Chance per round of a WAN cut, a fault storm, a full disk (default 0.3, 0.2, 0.08). */
  chances?: { cut: number; storm: number; fill: number };
  /** How long the last, uninterrupted run may take to deliver everything (default 240 s). */
  drainTimeoutMs?: number;
  /** Simulator version when no ODOO_URL (default 19). */
  simVersion?: 17 | 18 | 19;
  progress?: (line: string) => void;
  /** Stop early (Ctrl-C): no more rounds, no reconciliation, everything started is stopped. */
  abort?: AbortSignal;
}

export interface SoakSummary {
  seed: number;
  odoo: string;
  kills: number;
  /** The agent ended by itself: while the disk was full (refused to start or stopped, as it should) and otherwise. */
  selfExits: { diskFull: number; other: number };
  cuts: number;
  storms: number;
  diskFills: number;
  skipped: string[];
  messagesSent: { mqtt: number; modbus: number; opcua: number; scanner: number };
  messagesAcknowledged: number;
  eventsCommitted: number;
  eventsCommittedBySource: Record<string, number>;
  eventsInOdoo: number;
  lost: number;
  doubled: number;
  reordered: number;
  /** The final clean stop's exit code (0 expected). */
  finalExit: number | null;
  durationS: number;
  problems: string[];
}

const cli = join(__dirname, '..', '..', '..', 'bin', 'edge-agent.js');
const LOSS = 'Material Availability';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function agentConfig(o: { run: string; stateDir: string; odooPort: number; database: string; login: string; plant: Plant; workcenters: string[] }): string {
  const { plant, run, workcenters: wc } = o;
  const downtime = (name: string, source: string, tag: string, id: string, workcenter: string) =>
    `  - { kind: template, name: ${name}, source: ${source}, tag: "${tag}", type: downtime.started, id: "${id}", sequenceKey: soak-${source}, ` +
    `payload: { downtimeId: "${id}", workcenter: "${workcenter}", reason: ${LOSS} } }`;
  return [
    `plant: { id: soak_${run} }`,
    `stateDir: ${JSON.stringify(o.stateDir)}`,
    'outbox: { path: outbox.db }',
    'http: { enabled: false }',
    `odoo: { url: "http://127.0.0.1:${o.odooPort}", database: ${JSON.stringify(o.database)}, username: ${JSON.stringify(o.login)}, apiKey: "\${env:SOAK_ODOO_KEY}", timeouts: { connectMs: 2000, headersMs: 10000, bodyMs: 10000 } }`,
    'sync: { concurrency: 4, maxRequestsPerSecond: 50, batchSize: 20, backoff: { initialMs: 100, maxMs: 2000 } }',
    'sources:',
    `  - { name: mes, type: mqtt, url: "${plant.mqttUrl}", clientId: soak-${run}-agent, reconnectPeriodMs: 500, subscriptions: [{ topic: "soak/${run}/#", qos: 1 }] }`,
    `  - { name: modbus, type: modbus, transport: { kind: tcp, host: 127.0.0.1, port: ${plant.modbusPort} }, backoff: { initialMs: 100, maxMs: 1000 }, ` +
      'devices: [{ unitId: 1, groups: [{ intervalMs: 100, registers: [{ tag: counter, area: holding, address: 0, type: uint16 }] }] }] }',
    `  - { name: opcua, type: opcua, endpointUrl: "${plant.opcuaEndpoint}", securityMode: None, securityPolicy: None, auth: anonymous, ` +
      `reconnect: { initialDelayMs: 200, maxDelayMs: 1000 }, subscriptions: [{ publishingIntervalMs: 200, items: [{ tag: counter, nodeId: "${plant.opcuaNodeId}" }] }] }`,
    ...(plant.scannerPath ? [`  - { name: scanner, type: serial-scanner, path: "${plant.scannerPath}", reopen: { initialMs: 100, maxMs: 1000 } }`] : []),
    'rules:',
    `  - { kind: event, name: mes-events, source: mes, tag: "soak/${run}/#" }`,
    downtime('modbus-counter', 'modbus', 'counter', 'mb-{{value}}', wc[1]!),
    downtime('opcua-counter', 'opcua', 'counter', 'ua-{{value}}', wc[2]!),
    ...(plant.scannerPath ? [downtime('scans', 'scanner', 'scan', '{{value}}', wc[3]!)] : []),
    '',
  ].join('\n');
}

/** The agent's disk, filled to the last byte and freed again. */
class DiskFiller {
  private readonly file: string;
  full = false;
  /** When the disk was last freed (a start just after may still fail). */
  freedAt = 0;
  constructor(dir: string) {
    this.file = join(dir, 'soak-filler');
  }
  fill(): void {
    const fd = openSync(this.file, 'a');
    try {
      for (const size of [1 << 20, 1 << 12, 1]) {
        const chunk = Buffer.alloc(size);
        try {
          for (;;) writeSync(fd, chunk);
        } catch {
          // ENOSPC: next, smaller chunks.
        }
      }
    } finally {
      closeSync(fd);
    }
    this.full = true;
  }
  free(): void {
    rmSync(this.file, { force: true });
    this.full = false;
    this.freedAt = Date.now();
  }
}

export async function runSoak(opts: SoakOptions): Promise<SoakSummary> {
  const started = Date.now();
  const say = opts.progress ?? (() => undefined);
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
  const work = mkdtempSync(join(tmpdir(), 'soak-'));
  const skipped: string[] = [];
  // The work directory (config, agent log) stays when something went wrong, for a person to read.
  let keep = process.env.SOAK_KEEP === '1';
  const cleanups: Array<() => Promise<void> | void> = [() => (keep ? undefined : rmSync(work, { recursive: true, force: true }))];
  const rounds: Round[] = soakPlan({
    kills: opts.kills,
    seed: opts.seed,
    lifeMs: opts.lifeMs ?? [1000, 9000],
    chances: opts.chances ?? { cut: 0.3, storm: 0.2, fill: 0.08 },
  });
  try {
    // The agent's state directory: a small disk of its own when this machine lets us mount one.
    const disk = smallDisk(`soak-state-${run}`, 128);
    let stateRoot: string;
    if (typeof disk === 'string') {
      skipped.push(`disk full: ${disk}`);
      stateRoot = join(work, 'state-root');
      mkdirSync(stateRoot);
    } else {
      stateRoot = disk.dir;
      cleanups.push(() => disk.unmount());
    }
    const stateDir = join(stateRoot, 'state');
    mkdirSync(stateDir);
    const filler = typeof disk === 'string' ? undefined : new DiskFiller(stateRoot);

    const odoo: SoakOdoo = await startSoakOdoo(opts.simVersion ?? 19);
    cleanups.push(() => odoo.close());
    if (odoo.stormsSkipped) skipped.push(odoo.stormsSkipped);
    const wan: TcpProxy = await startTcpProxy(odoo.port, odoo.host);
    cleanups.push(() => wan.close());
    const names = ['MQTT', 'Modbus', 'OPC UA', 'Scanner'].map((s) => `Soak ${run} ${s}`);
    const workcenterIds = await makeWorkcenters(odoo.admin, names);

    const event = (m: MqttMessage) =>
      JSON.stringify({
        id: m.id,
        type: 'downtime.started',
        sequenceKey: `soak-mqtt-k${m.key}`,
        occurredAt: new Date().toISOString(),
        payload: { downtimeId: m.id, workcenter: names[0], reason: LOSS },
      });
    const plant = await startPlant(work, run, opts.mqttKeys ?? 4, event);
    cleanups.push(() => plant.close());
    skipped.push(...plant.skipped);

    const configFile = join(work, 'agent.yaml');
    writeFileSync(configFile, agentConfig({ run, stateDir, odooPort: wan.port, database: odoo.database, login: odoo.login, plant, workcenters: names }));
    const logFile = join(work, 'agent.log');
    const env = { ...process.env, SOAK_ODOO_KEY: odoo.apiKey, EDGE_AGENT_LOG_LEVEL: process.env.SOAK_AGENT_LOG_LEVEL ?? 'info' };
    const start = (): ChildProcess => {
      const out = openSync(logFile, 'a');
      const child = spawn(process.execPath, [cli, 'run', '--config', configFile], { env, stdio: ['ignore', out, out] });
      closeSync(out);
      return child;
    };
    say(
      `soak: seed ${opts.seed}, ${opts.kills} kills, ${odoo.label}; agent config ${configFile}, log ${logFile}` +
        (skipped.length > 0 ? `; skipped: ${skipped.join('; ')}` : ''),
    );

    const counts = { kills: 0, cuts: 0, storms: 0, diskFills: 0, selfExits: { diskFull: 0, other: 0 } };
    const problems: string[] = [];
    let cutDepth = 0;
    const timers = new Set<NodeJS.Timeout>();
    const later = (ms: number, fn: () => void | Promise<void>) => {
      const t = setTimeout(() => {
        timers.delete(t);
        void Promise.resolve(fn()).catch((err: unknown) => problems.push(`driver: ${(err as Error).message}`));
      }, ms);
      timers.add(t);
    };

    // The agent's persistent session exists before the plant talks, as after its first start at a plant:
    // the broker keeps for it what is published while it is down (and the first kills may come before it ever connected).
    await makeSession(plant.mqttUrl, `soak-${run}-agent`, `soak/${run}/#`);
    plant.run(opts.tickMs ?? 50);
    for (const [i, round] of rounds.entries()) {
      if (opts.abort?.aborted) throw new Error(`stopped after ${i} rounds`);
      const child = start();
      let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      const gone = new Promise<void>((resolve) =>
        child.once('exit', (code, signal) => {
          exited = { code, signal };
          resolve();
        }),
      );
      if (round.cut) {
        const { atMs, forMs } = round.cut;
        later(atMs, () => {
          counts.cuts++;
          cutDepth++;
          wan.block(true);
          wan.cut();
          later(forMs, () => {
            if (--cutDepth === 0) wan.block(false);
          });
        });
      }
      if (round.storm && !odoo.stormsSkipped) {
        const { atMs, faults } = round.storm;
        later(atMs, async () => {
          counts.storms++;
          await odoo.storm(faults);
        });
      }
      if (round.fill && filler) {
        const { atMs, forMs } = round.fill;
        later(atMs, () => {
          if (filler.full) return;
          counts.diskFills++;
          filler.fill();
          later(forMs, () => filler.free());
        });
      }
      await Promise.race([gone, sleep(round.lifeMs)]);
      if (exited) {
        const diskTrouble = filler !== undefined && (filler.full || Date.now() - filler.freedAt < 3000);
        if (diskTrouble) {
          counts.selfExits.diskFull++;
          // Start the next round on a disk with room again: a round started on the still-full disk ends at once, and a
          // loaded machine could spend every kill of the soak that way (one fill, four self-exits, one kill seen).
          while (filler.full || Date.now() - filler.freedAt < 3000) await sleep(100);
        } else {
          counts.selfExits.other++;
          problems.push(`round ${i + 1}: the agent ended by itself (${exited.signal ?? `exit ${exited.code}`}); see ${logFile}`);
        }
      } else {
        child.kill('SIGKILL');
        await gone;
        counts.kills++;
      }
      if ((i + 1) % 10 === 0 || i + 1 === rounds.length) {
        say(
          `round ${i + 1}/${rounds.length}: ${counts.kills} kills, ${counts.cuts} cuts, ${counts.storms} storms, ${counts.diskFills} full disks, ` +
            `${plant.acked.length} MQTT messages acknowledged, ${counts.selfExits.diskFull + counts.selfExits.other} self-exits`,
        );
      }
      await sleep(round.pauseMs);
    }

    // The end: the plant stops talking, the WAN, Odoo and the disk come back, and one last run delivers everything.
    if (opts.abort?.aborted) throw new Error('stopped after the last round');
    await plant.quiet();
    for (const t of timers) clearTimeout(t);
    timers.clear();
    cutDepth = 0;
    wan.block(false);
    await odoo.clearFaults();
    filler?.free();
    const outboxPath = join(stateDir, 'outbox.db');
    const owedIds = new Set(plant.acked.map((m) => m.id));
    // The registers still hold their last values, so the last run reads them; a scan read by a killed agent is gone (serial has no acknowledgement).
    owedIds.add(`mb-${plant.last.modbus}`).add(`ua-${plant.last.opcua}`);
    say(`final run: ${plant.acked.length} MQTT messages acknowledged; waiting until everything owed is committed and delivered`);
    const child = start();
    const finalExit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + (opts.drainTimeoutMs ?? 240_000);
    let settled = false;
    while (!settled && Date.now() < deadline && child.exitCode === null) {
      await sleep(500);
      settled = outboxSettled(outboxPath, owedIds);
    }
    if (!settled) problems.push(`the last run did not commit and deliver everything within ${(opts.drainTimeoutMs ?? 240_000) / 1000} s`);
    child.kill('SIGTERM');
    const exitCode = await finalExit;

    const outbox = readOutbox(outboxPath);
    const r = await reconcile({ admin: odoo.admin, module: `edge_soak_${run}`, workcenterIds, outbox, acked: plant.acked });
    const bySource: Record<string, number> = {};
    for (const row of outbox) {
      const source = row.skey.replace(/^soak-/, '').replace(/-k\d+$/, '');
      bySource[source] = (bySource[source] ?? 0) + 1;
    }
    keep = r.lost + r.doubled + r.reordered + problems.length > 0 || exitCode !== 0;
    return {
      seed: opts.seed,
      odoo: odoo.label,
      kills: counts.kills,
      selfExits: counts.selfExits,
      cuts: counts.cuts,
      storms: counts.storms,
      diskFills: counts.diskFills,
      skipped,
      messagesSent: { ...plant.sent },
      messagesAcknowledged: plant.acked.length,
      eventsCommitted: r.eventsCommitted,
      eventsCommittedBySource: bySource,
      eventsInOdoo: r.eventsInOdoo,
      lost: r.lost,
      doubled: r.doubled,
      reordered: r.reordered,
      finalExit: exitCode,
      durationS: Math.round((Date.now() - started) / 1000),
      problems: [...problems, ...r.problems, ...(exitCode === 0 ? [] : [`the final stop exited ${exitCode}; tail of ${logFile}:\n${tail(logFile)}`])],
    };
  } catch (err) {
    keep = true;
    throw err;
  } finally {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
  }
}

/** True when every owed id is in the outbox and nothing is left to deliver. Read-only: never touches the agent's claims. */
function outboxSettled(path: string, owed: Set<string>): boolean {
  let rows: ReturnType<typeof readOutbox>;
  try {
    rows = readOutbox(path);
  } catch {
    return false;
  }
  if (rows.some((r) => r.state !== 'done' && r.state !== 'skipped')) return false;
  const have = new Set(rows.map((r) => r.downtimeId));
  for (const id of owed) if (!have.has(id)) return false;
  return true;
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}
