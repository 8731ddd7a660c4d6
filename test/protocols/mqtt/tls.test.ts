import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect, type MqttClient } from 'mqtt';
import { MqttSourceAdapter } from '../../../agent/protocols/mqtt/adapter';
import { mqttOutSchema, mqttSourceSchema } from '../../../agent/protocols/mqtt/config';
import { MqttStatusPublisher } from '../../../agent/protocols/mqtt/publisher';
import { issueCertificate, makeCa, opensslMissing, type CertificateFiles } from '../../helpers/certificate';
import { mosquittoMissing, startMosquitto, type OwnMosquitto } from '../../helpers/mosquitto';
import { endClient, numbers, publish, recordingContext, silentLog, sourceConfig, waitFor } from './support';

/**
 * MQTT over TLS against a real Mosquitto with a TLS listener that asks every
 * client for a certificate. The certificates are made here: a plant CA that
 * signed the broker's and the agent's, and another CA that signed neither.
 */

const missing: string | undefined = mosquittoMissing() ?? opensslMissing();
if (missing) process.stdout.write(`# skipped: ${missing}\n`);

describe('MQTT over TLS (Mosquitto with a TLS listener and client certificates)', { skip: missing }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-tls-'));
  let plantCa: CertificateFiles;
  let otherCa: CertificateFiles;
  let agentCert: CertificateFiles;
  let strangerCert: CertificateFiles;
  let broker: OwnMosquitto;
  const running: Array<{ stop(): Promise<void> }> = [];

  before(async () => {
    plantCa = makeCa(dir, 'plant-ca');
    otherCa = makeCa(dir, 'other-ca');
    const brokerCert = issueCertificate(dir, 'broker', plantCa, 'server');
    agentCert = issueCertificate(dir, 'agent', plantCa, 'client');
    strangerCert = issueCertificate(dir, 'stranger', otherCa, 'client');
    broker = await startMosquitto(dir, {
      tls: { caFile: plantCa.certificateFile, certFile: brokerCert.certificateFile, keyFile: brokerCert.keyFile, requireCertificate: true },
    });
  });

  after(async () => {
    for (const r of running.reverse()) await r.stop();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A plant client (the MES) publishing over TLS with a certificate of the plant CA. */
  async function mes(): Promise<MqttClient> {
    const client = connect(broker.url, {
      clientId: `mes-${process.pid}`,
      ca: readFileSync(plantCa.certificateFile),
      cert: readFileSync(agentCert.certificateFile),
      key: readFileSync(agentCert.keyFile),
      reconnectPeriod: 0,
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    running.push({ stop: () => endClient(client) });
    return client;
  }

  function source(name: string, tls: Record<string, unknown>) {
    const ctx = recordingContext();
    const adapter = new MqttSourceAdapter(
      sourceConfig({
        name,
        url: broker.url,
        clientId: `tls-${name}-${process.pid}`,
        clean: true,
        reconnectPeriodMs: 200,
        subscriptions: [{ topic: `tls/${name}/#`, qos: 1 }],
        tls,
      }),
      ctx,
      { plant: 'tls' },
    );
    running.push({
      stop: async () => {
        await adapter.stop();
        ctx.dispose();
      },
    });
    return { adapter, ctx };
  }

  test('the MQTT source connects over TLS with the plant CA and a client certificate, and commits what it receives', async () => {
    process.env.MQTT_TLS_TEST_KEY = readFileSync(agentCert.keyFile, 'utf8');
    const viaFile = source('files', { caFile: plantCa.certificateFile, certFile: agentCert.certificateFile, keyFile: agentCert.keyFile });
    // The key as a secret reference instead of a file.
    const viaSecret = source('secret', { caFile: plantCa.certificateFile, certFile: agentCert.certificateFile, key: '${env:MQTT_TLS_TEST_KEY}' });
    delete process.env.MQTT_TLS_TEST_KEY;
    await viaFile.adapter.start();
    await viaSecret.adapter.start();
    await waitFor('both sources connected over TLS', () => viaFile.adapter.health().connected && viaSecret.adapter.health().connected);
    const pub = await mes();
    // Subscribed once the broker has the session's subscription: publish until the first arrives.
    await waitFor('the first message', () => {
      void publish(pub, 'tls/files/n', JSON.stringify({ n: 0 }));
      void publish(pub, 'tls/secret/n', JSON.stringify({ n: 0 }));
      return viaFile.ctx.signals.length > 0 && viaSecret.ctx.signals.length > 0;
    });
    for (let n = 1; n <= 20; n++) {
      await publish(pub, 'tls/files/n', JSON.stringify({ n }));
      await publish(pub, 'tls/secret/n', JSON.stringify({ n }));
    }
    for (const { adapter, ctx } of [viaFile, viaSecret]) {
      await waitFor(`${adapter.name}: all 20 committed`, () => numbers(ctx.signals).includes(20));
      const got = numbers(ctx.signals).filter((n) => n > 0);
      assert.deepEqual(
        got,
        Array.from({ length: 20 }, (_, i) => i + 1),
        `${adapter.name}: each message once, in order`,
      );
      await waitFor(`${adapter.name}: acknowledged`, () => (adapter.health().details!.acked as number) >= 21);
      assert.equal(adapter.health().lastError, null);
    }
  });

  test('the status publisher (mqttOut) announces the agent over TLS', async () => {
    const publisher = new MqttStatusPublisher({
      config: mqttOutSchema.parse({
        url: broker.url,
        clientId: `tls-out-${process.pid}`,
        tls: { caFile: plantCa.certificateFile, certFile: agentCert.certificateFile, keyFile: agentCert.keyFile },
        status: { topic: 'tls/out/{plant}/status', retain: false },
      }),
      plant: 'tls',
      version: 'test',
      stateDir: dir,
      log: silentLog,
    });
    running.push(publisher);
    await publisher.start();
    await waitFor('mqttOut connected over TLS and announced online', () => publisher.health().connected && (publisher.health().details!.births as number) >= 1);
    await publisher.publish('tls/out/orders', { order: 'WH/MO/00042' });
    assert.equal(publisher.health().details!.published, 1);
  });

  test('a broker certificate from another CA is refused with a clear error; the source keeps trying and does not crash', async () => {
    const { adapter, ctx } = source('stranger-broker', { caFile: otherCa.certificateFile, certFile: agentCert.certificateFile, keyFile: agentCert.keyFile });
    await adapter.start();
    await waitFor('a few refused attempts', () => (adapter.health().details!.reconnects as number) >= 3, 10_000);
    const h = adapter.health();
    assert.equal(h.connected, false);
    assert.equal(h.lastError?.code, 'MQTT_TLS_REFUSED');
    assert.match(h.lastError!.message, /connection: the broker's certificate is not signed by a CA the agent trusts \(tls\.caFile .*other-ca\.crt\)/);
    assert.equal(ctx.signals.length, 0);
    // It is still trying, not wedged: stop ends it cleanly.
    await adapter.stop();
  });

  test('a client certificate from another CA is refused by the broker, with a clear error', async () => {
    const { adapter } = source('stranger-client', { caFile: plantCa.certificateFile, certFile: strangerCert.certificateFile, keyFile: strangerCert.keyFile });
    await adapter.start();
    await waitFor('the broker refused the client certificate', () => adapter.health().lastError?.code === 'MQTT_TLS_REFUSED', 10_000);
    assert.equal(adapter.health().connected, false);
    assert.match(adapter.health().lastError!.message, /the broker refused the agent's client certificate \(tls\.certFile .*stranger\.crt\)/);
    await waitFor('still retrying', () => (adapter.health().details!.reconnects as number) >= 3, 10_000);
    assert.equal(adapter.health().connected, false);
    await adapter.stop();
  });

  test('config: tls on an mqtt:// URL is refused (it would connect without TLS); key and keyFile not both', () => {
    const minimal = { type: 'mqtt', name: 'mes', url: 'mqtt://broker:1883', subscriptions: [{ topic: 'a/#' }] };
    const r = mqttSourceSchema.safeParse({ ...minimal, tls: { caFile: '/ca.pem' } });
    assert.ok(!r.success);
    assert.match(JSON.stringify(r.error.issues), /tls is set but the URL is mqtt:\/\/ \(no TLS\); use mqtts:/);
    const out = mqttOutSchema.safeParse({ url: 'mqtt://broker:1883', tls: {} });
    assert.ok(!out.success);
    process.env.MQTT_TLS_TEST_KEY = 'k';
    try {
      const both = mqttSourceSchema.safeParse({
        ...minimal,
        url: 'mqtts://broker:8883',
        tls: { certFile: '/a.crt', keyFile: '/a.key', key: '${env:MQTT_TLS_TEST_KEY}' },
      });
      assert.ok(!both.success);
      assert.match(JSON.stringify(both.error.issues), /keyFile or key, not both/);
      const inline = mqttSourceSchema.safeParse({ ...minimal, url: 'mqtts://broker:8883', tls: { certFile: '/a.crt', key: '-----BEGIN PRIVATE KEY-----' } });
      assert.ok(!inline.success);
      assert.match(JSON.stringify(inline.error.issues), /secret reference/);
    } finally {
      delete process.env.MQTT_TLS_TEST_KEY;
    }
  });
});
