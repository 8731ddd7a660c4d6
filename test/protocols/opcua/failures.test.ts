import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { classifyConnectFailure } from '../../../agent/protocols/opcua/failures';

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
