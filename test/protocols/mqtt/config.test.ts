import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { mqttOutSchema, mqttSourceSchema } from '../../../agent/protocols/mqtt/config';
import { clientOptions, defaultClientId } from '../../../agent/protocols/mqtt/connection';
import { statusClientId } from '../../../agent/protocols/mqtt/publisher';
import { ruleConfigSchema } from '../../../agent/rules/config';

const minimal = { type: 'mqtt', name: 'mes', url: 'mqtt://127.0.0.1:1883', subscriptions: [{ topic: 'mes/#' }] };

function problems(
  input: unknown,
  schema: { safeParse(v: unknown): { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } } } = mqttSourceSchema,
): string {
  const r = schema.safeParse(input);
  return r.success ? '' : r.error!.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('\n');
}

describe('MQTT client options', () => {
  test("mqtt.js's packet trace is off unless DEBUG names mqttjs", () => {
    const conn = mqttSourceSchema.parse(minimal);
    const saved = process.env.DEBUG;
    try {
      delete process.env.DEBUG;
      const quiet = clientOptions(conn, 'c1', false, '/tmp').log;
      assert.equal(typeof quiet, 'function', 'a no-op logger replaces the debug package');
      process.env.DEBUG = 'other:*';
      assert.equal(typeof clientOptions(conn, 'c1', false, '/tmp').log, 'function');
      process.env.DEBUG = 'mqttjs*';
      assert.equal(clientOptions(conn, 'c1', false, '/tmp').log, undefined, 'mqtt.js uses its own trace');
    } finally {
      if (saved === undefined) delete process.env.DEBUG;
      else process.env.DEBUG = saved;
    }
  });
});

describe('MQTT source config', () => {
  test('defaults', () => {
    const c = mqttSourceSchema.parse(minimal);
    assert.equal(c.enabled, true);
    assert.equal(c.clean, false);
    assert.equal(c.protocolVersion, 4);
    assert.equal(c.keepaliveS, 30);
    assert.equal(c.reconnectPeriodMs, 2000);
    assert.equal(c.connectTimeoutMs, 10000);
    assert.equal(c.maxInflight, 1000);
    assert.equal(c.maxPayloadBytes, 1_048_576);
    assert.equal(c.maxDepth, 64);
    assert.equal(c.retryMinMs, 250);
    assert.equal(c.retryMaxMs, 10000);
    assert.equal(c.sessionExpiryS, 604800);
    assert.equal(c.clientId, undefined);
    assert.deepEqual(c.subscriptions, [{ topic: 'mes/#', qos: 1, payload: 'json' }]);
  });

  const refused: Array<[what: string, input: Record<string, unknown>, message: RegExp]> = [
    ['an unknown key (a typo)', { ...minimal, subscription: [] }, /subscription/],
    ['an http URL', { ...minimal, url: 'http://broker:1883' }, /mqtt:\/\/ or mqtts:\/\//],
    ['not a URL', { ...minimal, url: 'broker:1883x' }, /mqtt/],
    ['a password in the URL', { ...minimal, url: 'mqtt://u:secret@broker:1883' }, /no user or password in the URL/],
    ['an inline password', { ...minimal, password: 'secret' }, /secret reference/],
    ['no subscription', { ...minimal, subscriptions: [] }, /subscriptions/],
    ['QoS 3', { ...minimal, subscriptions: [{ topic: 'a', qos: 3 }] }, /subscriptions\.0\.qos/],
    ['# in the middle', { ...minimal, subscriptions: [{ topic: 'a/#/b' }] }, /last level/],
    ['the same filter twice', { ...minimal, subscriptions: [{ topic: 'a/#' }, { topic: 'a/#' }] }, /listed twice/],
    ['an unknown payload format', { ...minimal, subscriptions: [{ topic: 'a', payload: 'xml' }] }, /payload/],
    ['a client id with spaces', { ...minimal, clientId: 'edge agent' }, /clientId/],
    ['certFile without keyFile', { ...minimal, tls: { certFile: '/a.pem' } }, /certFile and keyFile go together/],
    ['maxInflight 0', { ...minimal, maxInflight: 0 }, /maxInflight/],
    ['maxDepth past what is safe to walk', { ...minimal, maxDepth: 5000 }, /maxDepth/],
    ['maxPayloadBytes 0', { ...minimal, maxPayloadBytes: 0 }, /maxPayloadBytes/],
    ['retryMaxMs below retryMinMs', { ...minimal, retryMinMs: 5000, retryMaxMs: 1000 }, /retryMaxMs/],
    ['keepalive below 5 s', { ...minimal, keepaliveS: 1 }, /keepaliveS/],
  ];
  for (const [what, input, message] of refused) {
    test(`refuses ${what}`, () => {
      assert.match(problems(input), message);
    });
  }

  test('the password is a secret reference, resolved at validation', () => {
    process.env.MQTT_TEST_SECRET = 's3cret';
    try {
      const c = mqttSourceSchema.parse({ ...minimal, username: 'agent', password: '${env:MQTT_TEST_SECRET}' });
      assert.equal(c.password, 's3cret');
      assert.match(problems({ ...minimal, password: '${env:MQTT_TEST_NOT_SET_ANYWHERE}' }), /MQTT_TEST_NOT_SET_ANYWHERE is not set/);
    } finally {
      delete process.env.MQTT_TEST_SECRET;
    }
  });

  test('TLS options and a shared subscription are accepted', () => {
    const c = mqttSourceSchema.parse({
      ...minimal,
      url: 'mqtts://broker.plant.local:8883',
      tls: { caFile: 'pki/ca.pem', certFile: 'pki/agent.pem', keyFile: 'pki/agent.key' },
      subscriptions: [{ topic: '$share/agents/mes/#', qos: 2, payload: 'text' }],
    });
    assert.equal(c.tls?.rejectUnauthorized, true);
    assert.equal(c.subscriptions[0]!.qos, 2);
  });

  test('default client ids: stable, from plant and name, safe characters only', () => {
    assert.equal(defaultClientId('plant1', 'mes'), 'edge-agent.plant1.mes');
    assert.equal(defaultClientId('plant 1', 'mes broker'), 'edge-agent.plant-1.mes-broker');
    assert.equal(statusClientId('plant1'), 'edge-agent.plant1');
    assert.notEqual(statusClientId('plant1'), defaultClientId('plant1', 'status'));
  });
});

describe('mqttOut config', () => {
  test('defaults', () => {
    const c = mqttOutSchema.parse({ url: 'mqtt://broker:1883' });
    assert.equal(c.enabled, true);
    assert.deepEqual(c.status, { topic: 'edge-agent/{plant}/status', qos: 1, retain: true });
  });
  test('refuses a status topic with a wildcard and unknown keys', () => {
    assert.match(problems({ url: 'mqtt://b', status: { topic: 'a/+/status' } }, mqttOutSchema), /wildcards/);
    assert.match(problems({ url: 'mqtt://b', birth: {} }, mqttOutSchema), /birth/);
  });
});

describe('the MQTT parts of config.example.yaml', () => {
  const file = join(process.cwd(), 'config.example.yaml');
  test('every part parses with its schema and states the real defaults', () => {
    assert.ok(existsSync(file), `${file} exists`);
    const text = readFileSync(file, 'utf8');
    const all = parseYaml(text) as { sources: Array<{ type: string }>; mqttOut?: unknown; rules: Array<{ kind: string }> };
    // mqttOut is off in the example (test/config checks that): its block is a comment, checked uncommented.
    assert.equal(all.mqttOut, undefined);
    const lines = text.split('\n');
    const from = lines.indexOf('# mqttOut:');
    assert.ok(from >= 0, 'the example shows mqttOut in a comment');
    const block: string[] = [];
    for (let i = from; i < lines.length && lines[i]!.startsWith('#'); i++) block.push(lines[i]!.slice(2));
    const doc = {
      sources: all.sources.filter((s) => s.type === 'mqtt'),
      mqttOut: (parseYaml(block.join('\n')) as { mqttOut: unknown }).mqttOut,
      rules: all.rules.filter((r) => r.kind === 'event' || r.kind === 'template'),
    };
    assert.equal(doc.sources.length, 1);
    for (const s of doc.sources) assert.equal(problems(s), '');
    const src = mqttSourceSchema.parse(doc.sources[0]);
    // The example states the defaults: parsing it gives the same as parsing the bare minimum.
    const bare = mqttSourceSchema.parse({ type: 'mqtt', name: src.name, url: src.url, subscriptions: src.subscriptions.map((s) => ({ topic: s.topic })) });
    assert.deepEqual(src, bare);
    assert.equal(problems(doc.mqttOut, mqttOutSchema), '');
    assert.deepEqual(mqttOutSchema.parse(doc.mqttOut), mqttOutSchema.parse({ url: (doc.mqttOut as { url: string }).url }));
    assert.equal(doc.rules.length, 3);
    for (const r of doc.rules) {
      const parsed = ruleConfigSchema.safeParse(r);
      assert.equal(parsed.success, true, parsed.success ? '' : JSON.stringify(parsed.error.issues));
    }
  });
});
