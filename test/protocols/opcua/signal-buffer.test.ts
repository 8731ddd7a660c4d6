import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SignalBuffer } from '../../../agent/protocols/opcua/signal-buffer';
import { classifyConnectFailure } from '../../../agent/protocols/opcua/failures';
import type { Signal } from '../../../agent/model/signal';

const sig = (tag: string, value: number): Signal => ({
  source: 'plc',
  tag,
  value,
  quality: 'good',
  sourceTime: '2026-01-01T00:00:00.000Z',
  receivedAt: '2026-01-01T00:00:00.000Z',
});
const view = (list: Signal[]) => list.map((s) => `${s.tag}=${String(s.value)}`);

describe('opcua signal buffer', () => {
  it('keeps every change in order while there is room', () => {
    const b = new SignalBuffer(10);
    [sig('a', 1), sig('b', 1), sig('a', 2)].forEach((s) => b.push(s));
    assert.equal(b.size, 3);
    assert.deepEqual(view(b.take(2)), ['a=1', 'b=1']);
    assert.deepEqual(view(b.take(10)), ['a=2']);
    assert.equal(b.size, 0);
    assert.equal(b.coalesced, 0);
  });

  it('folds to the latest value per tag when full, never losing a tag', () => {
    const b = new SignalBuffer(4);
    for (const s of [sig('a', 1), sig('b', 1), sig('a', 2), sig('c', 1), sig('a', 3)]) b.push(s);
    assert.deepEqual(view(b.take(10)), ['b=1', 'c=1', 'a=3']);
    assert.equal(b.coalesced, 2);
  });

  it('puts an undelivered batch back in front of newer changes', () => {
    const b = new SignalBuffer(10);
    [sig('a', 1), sig('b', 1)].forEach((s) => b.push(s));
    const batch = b.take(10);
    b.push(sig('a', 2));
    b.giveBack(batch);
    assert.deepEqual(view(b.take(10)), ['a=1', 'b=1', 'a=2']);
  });

  it('folds after a give-back that overflows, keeping the newest of each tag', () => {
    const b = new SignalBuffer(3);
    [sig('a', 1), sig('b', 1), sig('c', 1)].forEach((s) => b.push(s));
    const batch = b.take(3);
    b.push(sig('a', 2));
    b.push(sig('b', 2));
    b.giveBack(batch); // 5 > 3: fold
    assert.deepEqual(view(b.take(10)), ['c=1', 'a=2', 'b=2']);
    assert.equal(b.coalesced, 2);
  });

  it('stays bounded under a long refusal with few tags', () => {
    const b = new SignalBuffer(100);
    for (let i = 0; i < 100_000; i++) b.push(sig(`t${i % 7}`, i));
    assert.ok(b.size <= 100);
    const last = new Map(b.take(1000).map((s) => [s.tag, s.value]));
    for (let t = 0; t < 7; t++) assert.equal(last.get(`t${t}`), 99_999 - ((99_999 - t) % 7), `latest value of t${t}`);
  });

  it('refuses a limit below 1', () => {
    assert.throws(() => new SignalBuffer(0), RangeError);
  });
});

describe('opcua connect failures', () => {
  const url = 'opc.tcp://plc:4840';
  const cases: Array<[string, string, string, boolean]> = [
    ['untrusted server certificate', 'server Certificate verification failed with err BadCertificateUntrusted (0x801a0000)', 'OPCUA_SERVER_CERTIFICATE', true],
    ['expired server certificate', 'server Certificate verification failed with err BadCertificateTimeInvalid (0x80140000)', 'OPCUA_SERVER_CERTIFICATE', true],
    ['wrong password', 'Error: BadUserAccessDenied (0x801f0000)', 'OPCUA_AUTH', true],
    ['user token rejected', 'ActivateSession failed: BadIdentityTokenRejected', 'OPCUA_AUTH', true],
    ['server refuses our certificate', 'OpenSecureChannel failed BadSecurityChecksFailed', 'OPCUA_CLIENT_CERTIFICATE', true],
    [
      'no matching endpoint',
      'cannot find endpoint for securityMode=SignAndEncrypt policy = http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256',
      'OPCUA_ENDPOINT',
      true,
    ],
    [
      'refused',
      'The connection cannot be established with server opc.tcp://plc:4840 .\nErr = (connect ECONNREFUSED 10.0.0.5:4840)',
      'OPCUA_UNREACHABLE',
      false,
    ],
    ['dns', 'getaddrinfo ENOTFOUND plc', 'OPCUA_UNREACHABLE', false],
    ['anything else', 'something odd', 'OPCUA_CONNECT_FAILED', false],
  ];
  for (const [what, text, code, person] of cases) {
    it(what, () => {
      const f = classifyConnectFailure(text, url);
      assert.equal(f.code, code);
      assert.equal(f.needsPerson, person);
      assert.match(f.message, /opc\.tcp:\/\/plc:4840/);
    });
  }
  it('tells how to trust a server certificate', () => {
    assert.match(classifyConnectFailure('server Certificate verification failed with err BadCertificateUntrusted', url).message, /edge-agent certs trust/);
  });
});
