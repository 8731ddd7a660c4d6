import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startAgent, waitForSignal } from '../runtime/agent';
import { parseConfigText } from '../config/load';
import { componentLogger } from '../log';

/**
 * `edge-agent demo` (and `npm start` without a config): a simulated plant, a
 * simulated Odoo and the agent with its status page, all on this machine.
 *
 * The plant: an OPC UA server for Assembly Line 1 (a piece counter, a machine
 * state code, a temperature), a Modbus device with the press's oil temperature,
 * an MES that publishes the current order and events on MQTT, and a scripted
 * barcode scanner on a pseudo-terminal (when socat is installed). Every few
 * minutes the WAN to Odoo goes down for a while; one MES event names a loss
 * reason Odoo does not know, so there is an event to correct (parked by Odoo,
 * or flagged at the edge when the agent already pulled Odoo's loss reasons).
 */
export interface DemoOptions {
  port?: number;
  /** Minutes between simulated WAN outages (0: none). */
  outageEveryMin?: number;
  outageSeconds?: number;
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const log = componentLogger('demo');
  const stateDir = join(tmpdir(), `edge-agent-demo-${process.pid}`);
  rmSync(stateDir, { recursive: true, force: true });
  mkdirSync(stateDir, { recursive: true });
  const stops: Array<() => Promise<void> | void> = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await Promise.resolve(s()).catch(() => undefined);
  };

  try {
    // The simulated plant and Odoo live with the tests; the demo reuses them.
    const { startOdooSim } = await import('../../test/odoo-sim');
    const { startTestServer } = await import('../../test/protocols/opcua/fixture');
    const { ModbusPeer } = await import('../../test/protocols/modbus/modbus-peer');
    const { startBroker } = await import('../../test/helpers/broker');

    const sim = await startOdooSim({ version: 19 });
    stops.push(() => sim.close());
    const opcua = await startTestServer({ pkiDir: join(stateDir, 'plant-opcua-pki'), tickMs: 5000 });
    stops.push(() => opcua.stop());
    const modbus = new ModbusPeer();
    await modbus.start();
    stops.push(() => modbus.stop());
    const broker = await startBroker();
    stops.push(() => broker.close());
    const topic = `demo/${process.pid}`;

    // Oil temperature: a slow saw from 60 to 90 degrees (x10 in the register), crossing the 80 degree limit.
    let oil = 600;
    modbus.set(1, 'holding', 0, oil);
    const oilTimer = setInterval(() => {
      oil = oil >= 900 ? 600 : oil + 5;
      modbus.set(1, 'holding', 0, oil);
    }, 1000);
    stops.push(() => clearInterval(oilTimer));

    const scanner = startScanner(stateDir, log);
    if (scanner) stops.push(() => scanner.stop());

    process.env.EDGE_DEMO_ODOO_KEY = sim.apiKey;
    const yaml = demoConfig({
      stateDir,
      simUrl: sim.url,
      db: sim.db,
      opcuaUrl: opcua.endpointUrl,
      nodeIds: opcua.nodeIds,
      modbusPort: modbus.port,
      brokerUrl: broker.url,
      topic,
      clientId: demoClientId(),
      scannerPath: scanner?.agentPath,
      port: opts.port ?? 8470,
    });
    const config = parseConfigText(yaml, join(stateDir, 'demo-config.yaml'));
    const agent = await startAgent(config);
    stops.push(() => agent.stop());
    const { startHttp } = await import('../http/server');
    const http = await startHttp(agent, { port: opts.port ?? 8470 });
    stops.push(() => http.close());

    const mes = mqtt.connect(broker.url, { clientId: `edge-demo-mes-${process.pid}` });
    stops.push(() => new Promise<void>((r) => mes.end(false, {}, () => r())));
    const publish = (t: string, v: unknown) =>
      mes.publish(`${topic}/${t}`, typeof v === 'string' ? v : JSON.stringify(v), { qos: 1, retain: t.endsWith('order') });
    mes.on('connect', () => {
      publish('line1/order', 'WH/MO/00001');
      // An event Odoo will refuse: the loss reason does not exist there. Correct it on the status page (edit payload.reason).
      const now = new Date().toISOString();
      publish('events', {
        id: `mes-demo-${process.pid}-1`,
        type: 'downtime.started',
        sequenceKey: 'Test Bench',
        occurredAt: now,
        payload: { downtimeId: `test-bench-${process.pid}`, workcenter: 'Test Bench', reason: 'Tool Change' },
      });
      // A message that is not JSON: kept as invalid input, never dropped.
      publish('events', '{"type": "quality.recorded", oops');
    });
    let orderFlip = 0;
    const orderTimer = setInterval(() => {
      orderFlip++;
      publish('line1/order', orderFlip % 2 ? 'WH/MO/00003' : 'WH/MO/00001');
    }, 4 * 60_000);
    stops.push(() => clearInterval(orderTimer));

    const every = (opts.outageEveryMin ?? 3) * 60_000;
    const outageMs = (opts.outageSeconds ?? 45) * 1000;
    if (every > 0) {
      const t = setInterval(() => {
        log.warn({ seconds: outageMs / 1000 }, 'demo: the WAN to Odoo goes down now (simulated); watch the backlog grow and drain');
        sim.faults.set({ kind: 'refuse', forMs: outageMs });
      }, every);
      stops.push(() => clearInterval(t));
    }

    const line = '-'.repeat(72);
    process.stdout.write(
      `\n${line}\n odoo-edge-agent demo\n\n status page:   ${http.url}\n simulated Odoo: ${sim.url} (database ${sim.db})\n state:         ${stateDir}\n\n` +
        ` A simulated WAN outage every ${every / 60_000} min for ${outageMs / 1000} s. One event waits for a person (parked,\n` +
        ` or flagged at the edge): open the page, edit its payload.reason to "Equipment Failure", and it goes through.\n` +
        ` Stop with Ctrl-C.\n${line}\n\n`,
    );
    // The demo has no file to read again: a SIGHUP must not end it.
    const onHangup = () => log.info('the demo has no configuration file to reload');
    process.on('SIGHUP', onHangup);
    await waitForSignal();
    process.off('SIGHUP', onHangup);
    await stopAll();
    rmSync(stateDir, { recursive: true, force: true });
    return 0;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export function demoConfig(p: {
  clientId: string;
  stateDir: string;
  simUrl: string;
  db: string;
  opcuaUrl: string;
  nodeIds: { counter: string; stateCode: string; temperature: string };
  modbusPort: number;
  brokerUrl: string;
  topic: string;
  scannerPath?: string;
  port: number;
}): string {
  const scannerSource = p.scannerPath
    ? `
  - name: line1-scanner
    type: serial-scanner
    path: ${p.scannerPath}
    framing: { suffix: CR }`
    : '';
  const scannerRule = p.scannerPath
    ? `
  - kind: scan
    name: line1-station
    source: line1-scanner
    classify:
      - { as: order, prefix: "WH/MO/" }
      - { as: badge, prefix: "EMP", stripPrefix: true }
      - { as: product, prefix: "P:", stripPrefix: true }
      - { as: lot, prefix: "LOT:", stripPrefix: true }
    checkMasterData: false`
    : '';
  return `
plant:
  id: demo
  name: Demo plant
stateDir: ${p.stateDir}
log:
  level: info
odoo:
  url: ${p.simUrl}
  database: ${p.db}
  apiKey: \${env:EDGE_DEMO_ODOO_KEY}
sync:
  backoff: { initialMs: 1000, maxMs: 20000 }
  circuit: { failureThreshold: 3, probeIntervalMs: 2000, maxProbeIntervalMs: 10000 }
http:
  port: ${p.port}
sources:
  - name: line1-plc
    type: opcua
    endpointUrl: ${p.opcuaUrl}
    securityMode: None
    securityPolicy: None
    autoAcceptUnknownCertificate: true
    subscriptions:
      - name: line1
        publishingIntervalMs: 1000
        items:
          - { tag: line1.good_count, nodeId: "${p.nodeIds.counter}" }
          - { tag: line1.state, nodeId: "${p.nodeIds.stateCode}" }
          - { tag: line1.temperature, nodeId: "${p.nodeIds.temperature}", deadband: { type: absolute, value: 0.5 } }
  - name: press-modbus
    type: modbus
    transport: { kind: tcp, host: 127.0.0.1, port: ${p.modbusPort} }
    devices:
      - unitId: 1
        name: press
        groups:
          - intervalMs: 1000
            registers:
              - { tag: press.oil_temp, area: holding, address: 0, type: int16, scale: 0.1 }
  - name: mes
    type: mqtt
    url: ${p.brokerUrl}
    # Each demo run has its own client id and no lasting session: two demos on one host never take each other's place at the broker.
    clientId: ${p.clientId}
    clean: true
    subscriptions:
      - { topic: "${p.topic}/events", qos: 1 }
      - { topic: "${p.topic}/line1/order", qos: 1, payload: text }${scannerSource}
rules:
  - kind: order
    name: line1-order
    source: mes
    tag: ${p.topic}/line1/order
    workcenter: Assembly Line 1
  - kind: counter
    name: line1-count
    source: line1-plc
    tag: line1.good_count
    workcenter: Assembly Line 1
  - kind: state
    name: line1-state
    source: line1-plc
    tag: line1.state
    workcenter: Assembly Line 1
    runningCodes: [1]
    idleCodes: [2]
    codes:
      "3": { reason: Material Availability }
  - kind: threshold
    name: press-oil
    source: press-modbus
    tag: press.oil_temp
    equipment: Assembly Press P-10
    above: 80
    hysteresis: 5
  - kind: event
    name: mes-events
    source: mes
    tag: ${p.topic}/events${scannerRule}
`;
}

/** The demo MQTT source's client id: its own per run. */
export function demoClientId(): string {
  return `edge-demo-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** A scripted barcode scanner on a pseudo-terminal pair (socat), or undefined when socat is missing. */
function startScanner(dir: string, log: ReturnType<typeof componentLogger>): { agentPath: string; stop(): void } | undefined {
  if (spawnSync('socat', ['-V'], { stdio: 'ignore' }).status !== 0) {
    log.warn('socat is not installed: the demo runs without its scripted barcode scanner');
    return undefined;
  }
  const scannerEnd = join(dir, 'scanner-device');
  const agentEnd = join(dir, 'scanner-port');
  const socat: ChildProcess = spawn('socat', [`pty,raw,echo=0,link=${scannerEnd}`, `pty,raw,echo=0,link=${agentEnd}`], { stdio: 'ignore' });
  const script = ['EMP0042', 'WH/MO/00001', 'P:RM-STEEL', 'LOT:ST-2025-0001', 'P:RM-SEAL'];
  let i = 0;
  const timer = setInterval(() => {
    if (!existsSync(scannerEnd)) return;
    try {
      const fd = openSync(scannerEnd, 'w');
      writeSync(fd, `${script[i % script.length]}\r`);
      closeSync(fd);
      i++;
    } catch (err) {
      log.debug({ err }, 'demo scanner could not write');
    }
  }, 15_000);
  return {
    agentPath: agentEnd,
    stop: () => {
      clearInterval(timer);
      socat.kill();
    },
  };
}
