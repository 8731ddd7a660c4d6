import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBrowsePath, parseNodeId } from '../../../agent/protocols/opcua/addressing';
import { opcuaConfigSchema } from '../../../agent/protocols/opcua/config';
import { opcuaKind } from '../../../agent/protocols/opcua';
import { tempDir } from './helpers';

describe('opcua addressing: NodeId text', () => {
  const good: Array<[string, unknown]> = [
    ['i=2258', { index: 0 }],
    ['ns=2;s=Line1.Counter', { index: 2 }],
    ['ns=3;i=1001', { index: 3 }],
    ['ns=1;g=72962B91-FA75-4AE6-8D28-B404DC7DAF63', { index: 1 }],
    ['ns=4;b=AQID', { index: 4 }],
    ['ns=2;s=with;semicolons and spaces', { index: 2 }],
    ['nsu=urn:vendor:plc;s=Counter', { uri: 'urn:vendor:plc' }],
    ['nsu=http://plant.example/UA/;i=7', { uri: 'http://plant.example/UA/' }],
  ];
  for (const [text, ns] of good) {
    it(`accepts ${text}`, () => {
      const r = parseNodeId(text);
      assert.ok(r.ok, JSON.stringify(r));
      assert.deepEqual(r.namespace, ns);
    });
  }
  const bad: Array<[string, RegExp]> = [
    ['Counter', /not a NodeId/],
    ['ns=2;x=Counter', /not a NodeId/],
    ['ns=2;i=abc', /not a NodeId/],
    ['ns=70000;i=1', /larger than 65535/],
    ['i=99999999999', /larger than 4294967295/],
    ['nsu=;s=X', /namespace URI after "nsu=" is empty/],
    [' ns=2;s=X', /surrounding spaces/],
    ['ns=2;g=not-a-guid', /not a NodeId/],
    ['', /NodeId/],
  ];
  for (const [text, why] of bad) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      const r = parseNodeId(text);
      assert.equal(r.ok, false);
      assert.match((r as { message: string }).message, why);
    });
  }
});

describe('opcua addressing: browse paths', () => {
  it('parses hierarchical and aggregates steps with namespace indexes', () => {
    const r = parseBrowsePath('/Objects/2:Line1.2:Counter');
    assert.ok(r.ok);
    assert.deepEqual(r.steps, [
      { reference: { kind: 'hierarchical' }, target: { namespaceIndex: 0, name: 'Objects' } },
      { reference: { kind: 'hierarchical' }, target: { namespaceIndex: 2, name: 'Line1' } },
      { reference: { kind: 'aggregates' }, target: { namespaceIndex: 2, name: 'Counter' } },
    ]);
  });
  it('parses named reference types, inverse and no-subtypes flags, and escapes', () => {
    const r = parseBrowsePath('<HasComponent>3:Press&.1<#!Organizes>Objects&/Folder');
    assert.ok(r.ok);
    assert.deepEqual(r.steps, [
      { reference: { kind: 'named', name: 'HasComponent', inverse: false, includeSubtypes: true }, target: { namespaceIndex: 3, name: 'Press.1' } },
      { reference: { kind: 'named', name: 'Organizes', inverse: true, includeSubtypes: false }, target: { namespaceIndex: 0, name: 'Objects/Folder' } },
    ]);
  });
  const bad: Array<[string, RegExp]> = [
    ['', /is empty/],
    ['Objects/2:Line1', /each step starts with/],
    ['/Objects//2:Line1', /missing or malformed browse name/],
    ['/Objects/2:', /missing or malformed browse name/],
    ['/Objects<HasComponent', /missing ">"/],
    ['<2:MyRef>2:X', /namespace prefix is not supported/],
    ['/Bad&x', /malformed browse name/],
  ];
  for (const [text, why] of bad) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      const r = parseBrowsePath(text);
      assert.equal(r.ok, false);
      assert.match((r as { message: string }).message, why);
    });
  }
});

describe('opcua config schema', () => {
  const tmp = tempDir('opcua-config');
  after(() => tmp.remove());
  const schema = opcuaConfigSchema();
  const minimal = {
    type: 'opcua',
    name: 'line1-plc',
    endpointUrl: 'opc.tcp://plc-line1.plant.local:4840',
    subscriptions: [{ items: [{ tag: 'counter', nodeId: 'ns=2;s=Line1.Counter' }] }],
  };
  const errors = (input: unknown): string[] => {
    const r = schema.safeParse(input);
    assert.equal(r.success, false, 'expected the config to be refused');
    return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('fills every default', () => {
    const c = schema.parse(minimal);
    assert.equal(c.enabled, true);
    assert.equal(c.securityMode, 'SignAndEncrypt');
    assert.equal(c.securityPolicy, 'Basic256Sha256');
    assert.equal(c.auth, 'anonymous');
    assert.equal(c.autoAcceptUnknownCertificate, false);
    assert.equal(c.pkiDir, undefined);
    assert.equal(c.applicationName, 'odoo-edge-agent');
    assert.equal(c.requestedSessionTimeoutMs, 120_000);
    assert.equal(c.requestTimeoutMs, 15_000);
    assert.deepEqual(c.reconnect, { initialDelayMs: 1000, maxDelayMs: 30_000 });
    assert.equal(c.subscriptions[0]!.publishingIntervalMs, 1000);
    assert.equal(c.subscriptions[0]!.queueSize, 10);
    assert.equal(c.subscriptions[0]!.samplingIntervalMs, undefined);
  });

  it('is the schema the registry entry exposes', () => {
    assert.equal(opcuaKind.type, 'opcua');
    assert.ok(opcuaKind.configSchema.safeParse(minimal).success);
    assert.equal(opcuaKind.configSchema.safeParse({ ...minimal, type: 'modbus' }).success, false);
  });

  it('resolves the password from a secret reference', () => {
    process.env.EDGE_AGENT_TEST_OPCUA_PW = 's3cret';
    try {
      const c = schema.parse({ ...minimal, auth: { username: 'agent', password: '${env:EDGE_AGENT_TEST_OPCUA_PW}' } });
      assert.deepEqual(c.auth, { username: 'agent', password: 's3cret' });
    } finally {
      delete process.env.EDGE_AGENT_TEST_OPCUA_PW;
    }
    assert.ok(errors({ ...minimal, auth: { username: 'agent', password: 'inline' } }).some((e) => /inline secrets are not allowed/.test(e)));
  });

  it('checks user certificate files at load time', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyFile = join(tmp.dir, 'user.key');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const notCert = join(tmp.dir, 'user.pem');
    writeFileSync(notCert, 'hello');
    const e = errors({ ...minimal, auth: { certificateFile: notCert, privateKeyFile: keyFile } });
    assert.ok(
      e.some((x) => /does not hold a PEM certificate/.test(x)),
      e.join('\n'),
    );
    assert.ok(!e.some((x) => /private key/.test(x)), 'the key file is fine');
    assert.ok(
      errors({ ...minimal, auth: { certificateFile: '/nonexistent/user.pem', privateKeyFile: keyFile } }).some((x) =>
        /cannot read the certificate file/.test(x),
      ),
    );
    assert.ok(errors({ ...minimal, auth: { certificateFile: 'user.pem', privateKeyFile: keyFile } }).some((x) => /must be absolute/.test(x)));
  });

  const refused: Array<[string, Record<string, unknown>, RegExp]> = [
    ['unknown key (a typo)', { ...minimal, endpointURL: 'x' }, /endpointURL|Unrecognized key/i],
    ['http endpoint', { ...minimal, endpointUrl: 'http://plc:4840' }, /an OPC UA endpoint/],
    ['unknown security mode', { ...minimal, securityMode: 'Encrypt' }, /securityMode/],
    ['Basic128Rsa15 is not offered', { ...minimal, securityPolicy: 'Basic128Rsa15' }, /securityPolicy/],
    ['mode None with a policy', { ...minimal, securityMode: 'None' }, /securityMode None needs securityPolicy None/],
    ['secure mode without policy', { ...minimal, securityPolicy: 'None' }, /needs a securityPolicy other than None/],
    [
      'item with both addresses',
      { ...minimal, subscriptions: [{ items: [{ tag: 't', nodeId: 'i=1', browsePath: '/Objects' }] }] },
      /both nodeId and browsePath: give exactly one/,
    ],
    ['item with no address', { ...minimal, subscriptions: [{ items: [{ tag: 't' }] }] }, /needs exactly one of nodeId .* or browsePath/],
    ['malformed NodeId', { ...minimal, subscriptions: [{ items: [{ tag: 't', nodeId: 'Counter' }] }] }, /items\.0\.nodeId: "Counter" is not a NodeId/],
    [
      'malformed browse path',
      { ...minimal, subscriptions: [{ items: [{ tag: 't', browsePath: 'Objects/Line1' }] }] },
      /items\.0\.browsePath: .*each step starts with/,
    ],
    [
      'duplicate tags across subscriptions',
      { ...minimal, subscriptions: [{ items: [{ tag: 't', nodeId: 'i=1' }] }, { items: [{ tag: 't', nodeId: 'i=2' }] }] },
      /tag "t" is already used by subscriptions\[0\]\.items\[0\]/,
    ],
    [
      'duplicate subscription names',
      {
        ...minimal,
        subscriptions: [
          { name: 'a', items: [{ tag: 'x', nodeId: 'i=1' }] },
          { name: 'a', items: [{ tag: 'y', nodeId: 'i=2' }] },
        ],
      },
      /subscription name "a" is already used/,
    ],
    [
      'percent dead band above 100',
      { ...minimal, subscriptions: [{ items: [{ tag: 't', nodeId: 'i=1', deadband: { type: 'percent', value: 150 } }] }] },
      /at most 100/,
    ],
    [
      'negative dead band',
      { ...minimal, subscriptions: [{ items: [{ tag: 't', nodeId: 'i=1', deadband: { type: 'absolute', value: -1 } }] }] },
      /deadband\.value/,
    ],
    ['no subscriptions', { ...minimal, subscriptions: [] }, /subscriptions/],
    ['no items', { ...minimal, subscriptions: [{ items: [] }] }, /items/],
    [
      'publishing interval too short',
      { ...minimal, subscriptions: [{ publishingIntervalMs: 1, items: [{ tag: 't', nodeId: 'i=1' }] }] },
      /publishingIntervalMs/,
    ],
    ['reconnect initial above max', { ...minimal, reconnect: { initialDelayMs: 60_000, maxDelayMs: 1000 } }, /must not be larger than reconnect\.maxDelayMs/],
    ['application name with a colon', { ...minimal, applicationName: 'a:b' }, /no ":" or "\/"/],
    ['bad source name', { ...minimal, name: 'line 1' }, /name/],
    [
      'auth of an unknown shape',
      { ...minimal, auth: { user: 'x' } },
      /^auth: auth must be "anonymous", \{username, password\} or \{certificateFile, privateKeyFile\}/,
    ],
    ['auth misspelled', { ...minimal, auth: 'anon' }, /^auth: auth must be/],
    ['user name without password', { ...minimal, auth: { username: 'x' } }, /^auth\.password: /],
    ['unknown key in the login', { ...minimal, auth: { username: 'x', password: '${env:HOME}', domain: 'plant' } }, /^auth: .*domain/],
  ];
  for (const [what, input, why] of refused) {
    it(`refuses: ${what}`, () => {
      const e = errors(input);
      assert.ok(
        e.some((x) => why.test(x)),
        `expected ${why} in:\n${e.join('\n')}`,
      );
    });
  }
});
