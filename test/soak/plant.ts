import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { mosquittoMissing, startMosquitto, type OwnMosquitto } from '../helpers/mosquitto';
import { ModbusPeer } from '../protocols/modbus/modbus-peer';
import { startTestServer, type TestServer } from '../protocols/opcua/fixture';
import { hasSocat, PtyPair } from '../protocols/scanner/helpers';

/**
 * The plant floor of the soak, all real peers on this machine: Mosquitto (a
 * process of its own), a Modbus TCP server, an OPC UA server, and a serial
 * scanner on a socat pseudo-terminal pair. The driver makes each say
 * something new every few hundred milliseconds:
 *
 * - MQTT: a QoS 1 message per tick, round robin over `keys` sequence keys;
 *   a message is *acknowledged* when the broker has it (PUBACK), and the
 *   agent's persistent session then owes it to Odoo.
 * - Modbus, OPC UA: a value that counts up (a holding register, a Double);
 *   the agent reads what it reads, so only what it committed is owed.
 * - Scanner: one code per tick; serial has no acknowledgement, so only what
 *   the agent committed is owed.
 */

export interface MqttMessage {
  /** The event id and the downtime id: `mq-k<key>-<n>`. */
  id: string;
  key: number;
  n: number;
}

export interface Plant {
  mqttUrl: string;
  modbusPort: number;
  opcuaEndpoint: string;
  opcuaNodeId: string;
  /** The agent's end of the scanner pty, or undefined when socat is missing. */
  scannerPath: string | undefined;
  skipped: string[];
  /** Published and acknowledged by the broker, in publish order. */
  acked: MqttMessage[];
  sent: { mqtt: number; modbus: number; opcua: number; scanner: number };
  /** The last value of each polled source and the last scan: the agent must end with them. */
  last: { modbus: number; opcua: number; scanner: string | undefined };
  /** Start saying things every `tickMs`. */
  run(tickMs: number): void;
  /** Stop saying things; resolves when every MQTT publish is acknowledged or failed. */
  quiet(): Promise<void>;
  close(): Promise<void>;
}

export async function startPlant(dir: string, run: string, keys: number, event: (m: MqttMessage) => string): Promise<Plant> {
  const skipped: string[] = [];
  const closers: Array<() => Promise<void>> = [];
  const missing = mosquittoMissing();
  if (missing) throw new Error(`the soak needs Mosquitto: ${missing}`);
  const broker: OwnMosquitto = await startMosquitto(dir);
  closers.push(() => broker.stop());
  const modbus = new ModbusPeer();
  modbus.set(1, 'holding', 0, 0);
  const modbusPort = await modbus.start();
  closers.push(() => modbus.stop());
  const opcua: TestServer = await startTestServer({ pkiDir: join(dir, 'opcua-server-pki'), tickMs: 0 });
  opcua.setTemperature(0);
  closers.push(() => opcua.stop());
  let pty: PtyPair | undefined;
  if (hasSocat()) {
    pty = new PtyPair(join(dir, 'scanner-device'), join(dir, 'scanner-agent'));
    await pty.start();
    closers.push(() => pty!.kill());
  } else {
    skipped.push('serial scanner: socat is not installed (apt-get install socat), so there is no pty pair');
  }

  const mes: MqttClient = connect(broker.url, { clientId: `soak-${run}-mes`, clean: true, reconnectPeriod: 500 });
  await new Promise<void>((resolve, reject) => {
    mes.once('connect', () => resolve());
    mes.once('error', reject);
  });
  closers.push(() => new Promise<void>((resolve) => mes.end(false, {}, () => resolve())));

  const acked: MqttMessage[] = [];
  const pending = new Set<Promise<void>>();
  const sent = { mqtt: 0, modbus: 0, opcua: 0, scanner: 0 };
  const last: Plant['last'] = { modbus: 0, opcua: 0, scanner: undefined };
  let timer: NodeJS.Timeout | undefined;
  let tick = 0;
  const perKey = new Array<number>(keys).fill(0);

  const say = () => {
    tick++;
    const key = tick % keys;
    const m: MqttMessage = { id: `mq-k${key}-${String(++perKey[key]!).padStart(6, '0')}`, key, n: perKey[key]! };
    sent.mqtt++;
    const p = new Promise<void>((resolve) => {
      mes.publish(`soak/${run}/k${key}`, event(m), { qos: 1 }, (err) => {
        if (!err) acked.push(m);
        resolve();
      });
    });
    pending.add(p);
    void p.then(() => pending.delete(p));
    // The polled values and the scanner move every other tick.
    if (tick % 2 === 0) {
      last.modbus = (last.modbus + 1) % 65536;
      modbus.set(1, 'holding', 0, last.modbus);
      sent.modbus++;
      last.opcua += 1;
      opcua.setTemperature(last.opcua);
      sent.opcua++;
      if (pty) {
        const code = `SC-${String(++sent.scanner).padStart(6, '0')}`;
        try {
          pty.write(`${code}\r`);
          last.scanner = code;
        } catch {
          sent.scanner--;
        }
      }
    }
  };

  return {
    mqttUrl: broker.url,
    modbusPort,
    opcuaEndpoint: opcua.endpointUrl,
    opcuaNodeId: opcua.nodeIds.temperature,
    scannerPath: pty?.agentLink,
    skipped,
    acked,
    sent,
    last,
    run(tickMs) {
      timer = setInterval(say, tickMs);
    },
    async quiet() {
      if (timer) clearInterval(timer);
      timer = undefined;
      while (pending.size > 0) await Promise.all([...pending]);
    },
    async close() {
      if (timer) clearInterval(timer);
      for (const c of closers.reverse()) await c().catch(() => undefined);
    },
  };
}

/** Make the persistent session of `clientId` with a QoS 1 subscription to `filter`, and leave it. */
export async function makeSession(url: string, clientId: string, filter: string): Promise<void> {
  const client = connect(url, { clientId, clean: false, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => client.subscribe(filter, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
    client.once('error', reject);
  });
  await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
}
