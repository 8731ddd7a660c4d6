import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import pino from 'pino';
import { parseConfigText } from '../../agent/config/load';
import { startAgent, type RunningAgent } from '../../agent/runtime/agent';
import { uniqueClientId } from '../helpers/broker';
import { until } from '../helpers/until';
import type { OdooSim } from '../odoo-sim';

/** What a plain subscriber sees under some filters: the last message per topic, and whether the broker kept it. */
export class Watcher {
  readonly last = new Map<string, { payload: string; retained: boolean; at: number }>();
  private constructor(readonly client: MqttClient) {}

  static async open(url: string, filters: string[]): Promise<Watcher> {
    const client = connect(url, { clientId: uniqueClientId('release-watch'), clean: true, reconnectPeriod: 0 });
    const w = new Watcher(client);
    client.on('message', (topic, payload, packet) => w.last.set(topic, { payload: payload.toString('utf8'), retained: packet.retain, at: Date.now() }));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync(filters, { qos: 1 });
    return w;
  }

  json(topic: string): Record<string, unknown> | undefined {
    const m = this.last.get(topic);
    return m && m.payload ? (JSON.parse(m.payload) as Record<string, unknown>) : undefined;
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

/** Publish raw (retained or not) from a client of the test's own. */
export async function publishRaw(url: string, topic: string, payload: string, retain: boolean): Promise<void> {
  const client = connect(url, { clientId: uniqueClientId('release-pub'), clean: true, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.publishAsync(topic, payload, { qos: 1, retain });
  await client.endAsync();
}

/** Empty every retained topic a watcher saw (the broker is shared). */
export async function clearRetained(url: string, w: Watcher): Promise<void> {
  for (const [topic, m] of w.last) if (m.retained || m.payload) await publishRaw(url, topic, '', true);
}

export interface ReleaseSite {
  agent: RunningAgent;
  dir: string;
  yaml: string;
  restart(): Promise<RunningAgent>;
  close(): Promise<void>;
}

/** An agent with the release on, reading the simulator and publishing on `broker` under `prefix`. */
export async function startReleaseAgent(
  sim: { url: string; db: string; apiKey: string; login?: string },
  brokerUrl: string,
  prefix: string,
  extra = '',
  release = '  workcenters: [CNC Machining, Assembly Line 1]',
): Promise<ReleaseSite> {
  const dir = mkdtempSync(join(tmpdir(), 'release-test-'));
  const envName = `REL_KEY_${process.pid}`;
  process.env[envName] = sim.apiKey;
  const yaml = [
    'plant: { id: rel_test }',
    `stateDir: ${JSON.stringify(dir)}`,
    'outbox: { synchronous: NORMAL }',
    `odoo: { url: ${JSON.stringify(sim.url)}, database: ${JSON.stringify(sim.db)}, apiKey: "\${env:${envName}}"${'version' in sim ? '' : sim.login ? `, username: ${JSON.stringify(sim.login)}` : ''} }`,
    `mqttOut: { url: ${JSON.stringify(brokerUrl)}, clientId: ${JSON.stringify(uniqueClientId('rel-agent'))}, status: { topic: ${JSON.stringify(`${prefix}/agent`)} } }`,
    'sources:',
    '  - { name: plc, type: mqtt, url: "mqtt://127.0.0.1:1", subscriptions: [{ topic: "plc/#" }] }',
    'rules:',
    '  - { name: cnc-order, kind: order, source: plc, tag: "plc/order", workcenter: CNC Machining }',
    '  - { name: cnc-count, kind: counter, source: plc, tag: "plc/count", workcenter: CNC Machining }',
    'release:',
    release,
    '  pollSeconds: 1',
    `  mqtt: { prefix: ${JSON.stringify(prefix)}, ackTopic: ${JSON.stringify(`${prefix}/ack`)} }`,
    extra,
    '',
  ].join('\n');
  const start = () =>
    startAgent(parseConfigText(yaml, join(dir, 'config.yaml')), { withoutSources: true, log: pino({ level: process.env.TEST_LOG ?? 'silent' }) });
  const site: ReleaseSite = {
    agent: await start(),
    dir,
    yaml,
    async restart() {
      await site.agent.stop();
      site.agent = await start();
      return site.agent;
    },
    async close() {
      await site.agent.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await until(() => site.agent.release?.status().asOf !== null, 'the first read of Odoo', 20_000);
  return site;
}

/** Create and confirm an order in the simulator: its name. */
export function confirmOrder(sim: OdooSim, productXmlid = 'plant.product_gear_pump', qty = 3): { id: number; name: string } {
  const productId = sim.state.ref(productXmlid);
  const id = sim.state.create('mrp.production', { product_id: productId, product_qty: qty, origin: `test-${Date.now()}` });
  sim.state.db.transaction(() => sim.state.call('mrp.production', 'action_confirm', { ids: [id] }));
  return { id, name: String(sim.state.get('mrp.production', id)!.name) };
}
