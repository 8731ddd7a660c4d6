/**
 * Security on: SignAndEncrypt + Basic256Sha256 with a user name and password,
 * against a real node-opcua server. The agent trusts a server certificate only
 * through its PKI trust list. Key pairs are made once per file and reused.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OpcuaSource } from '../../../agent/protocols/opcua/adapter';
import { listCertificates, readCertificateFile, thumbprintOf, trustCertificate } from '../../../agent/protocols/opcua/certs';
import { ensureOwnCertificate } from '../../../agent/protocols/opcua/own-certificate';
import { startTestServer, type TestServer } from './fixture';
import { CollectingContext, delay, eventually, opcuaConfig, tempDir } from './helpers';

const PASSWORD_ENV = 'EDGE_AGENT_TEST_OPCUA_PASSWORD';
const FAST = { reconnect: { initialDelayMs: 200, maxDelayMs: 1000 }, requestTimeoutMs: 5000 };

function serverThumbprint(serverPki: string): string {
  const cert = readCertificateFile(join(serverPki, 'own', 'certs', 'certificate.pem'));
  assert.ok(cert, 'the test server has a certificate');
  return thumbprintOf(cert);
}

describe('opcua adapter with security', () => {
  const tmp = tempDir('opcua-security');
  const serverPki = join(tmp.dir, 'server-pki');
  const stateDir = join(tmp.dir, 'state');
  const agentPki = join(stateDir, 'pki');
  let server: TestServer;
  const running: OpcuaSource[] = [];

  const source = (input: Record<string, unknown>, ctx: CollectingContext) => {
    const s = new OpcuaSource(
      opcuaConfig({
        endpointUrl: server.endpointUrl,
        securityMode: 'SignAndEncrypt',
        securityPolicy: 'Basic256Sha256',
        auth: { username: 'operator', password: `\${env:${PASSWORD_ENV}}` },
        subscriptions: [{ publishingIntervalMs: 100, items: [{ tag: 'counter', nodeId: server.nodeIds.counter }] }],
        ...FAST,
        ...input,
      }),
      ctx,
    );
    running.push(s);
    return s;
  };

  before(async () => {
    process.env[PASSWORD_ENV] = 'operator-secret';
    server = await startTestServer({ pkiDir: serverPki, secure: true, users: { operator: 'operator-secret' }, tickMs: 100 });
  });

  after(async () => {
    for (const s of running) await s.stop();
    await server?.stop();
    delete process.env[PASSWORD_ENV];
    tmp.remove();
  });

  it('refuses an unknown server certificate, files it as rejected, and connects once it is trusted', async () => {
    const ctx = new CollectingContext(stateDir);
    const src = source({}, ctx);
    await src.start();

    const thumbprint = serverThumbprint(serverPki);
    await eventually(() => src.health().lastError?.code === 'OPCUA_SERVER_CERTIFICATE', 20_000, 'the untrusted certificate in health');
    await eventually(
      () => listCertificates(agentPki).some((c) => c.status === 'rejected' && c.thumbprint === thumbprint),
      5000,
      'the server certificate in the rejected list',
    );
    const own = listCertificates(agentPki).filter((c) => c.status === 'own');
    assert.equal(own.length, 1, 'the agent created its own certificate in the PKI folder');
    assert.equal(src.health().connected, false);
    assert.equal(src.health().details?.rejectedServerCertificates, 1);
    assert.match(src.health().lastError!.message, new RegExp(thumbprint), 'the message names the thumbprint to trust');
    assert.equal(ctx.signals.length, 0);

    const trusted = trustCertificate(agentPki, thumbprint);
    assert.equal(trusted.status, 'trusted');
    assert.ok(listCertificates(agentPki).some((c) => c.status === 'trusted' && c.thumbprint === thumbprint));
    assert.ok(!listCertificates(agentPki).some((c) => c.status === 'rejected'));

    // no call to the adapter: it picks the trust list up at its next attempt
    await ctx.until((s) => s.filter((x) => x.tag === 'counter').length >= 2, 20_000, 'signals over the encrypted session');
    await eventually(() => src.health().connected, 5000, 'connected');
    assert.equal(src.health().details?.securityMode, 'SignAndEncrypt');
    await src.stop();
  });

  it('refuses a wrong password and says so in health', async () => {
    process.env[`${PASSWORD_ENV}_WRONG`] = 'not-the-password';
    try {
      const ctx = new CollectingContext(stateDir);
      const src = source({ auth: { username: 'operator', password: `\${env:${PASSWORD_ENV}_WRONG}` } }, ctx);
      await src.start();
      await eventually(() => src.health().lastError?.code === 'OPCUA_AUTH', 20_000, 'the login refusal in health');
      assert.equal(src.health().connected, false);
      assert.equal(ctx.signals.length, 0);
      await src.stop();
    } finally {
      delete process.env[`${PASSWORD_ENV}_WRONG`];
    }
  });

  it('logs in with a user certificate', async () => {
    const user = await ensureOwnCertificate(join(tmp.dir, 'user-cert'), 'line1-operator');
    const ctx = new CollectingContext(stateDir);
    const src = source({ auth: { certificateFile: user.certificateFile, privateKeyFile: user.privateKeyFile } }, ctx);
    await src.start();
    await ctx.until((s) => s.some((x) => x.tag === 'counter'), 20_000, 'signals with a certificate login');
    assert.equal(src.health().connected, true);
    await src.stop();
  });

  it('never connects to a server whose certificate is not trusted (autoAcceptUnknownCertificate false)', async () => {
    // a second server with a certificate of its own on another port
    const otherPki = join(tmp.dir, 'other-server-pki');
    const other = await startTestServer({ pkiDir: otherPki, secure: true, users: { operator: 'operator-secret' }, tickMs: 100 });
    try {
      const ctx = new CollectingContext(stateDir);
      const src = source(
        { endpointUrl: other.endpointUrl, subscriptions: [{ publishingIntervalMs: 100, items: [{ tag: 'counter', nodeId: other.nodeIds.counter }] }] },
        ctx,
      );
      await src.start();
      await eventually(() => src.health().lastError?.code === 'OPCUA_SERVER_CERTIFICATE', 20_000, 'the refusal');
      await delay(3000); // several more attempts
      assert.equal(ctx.signals.length, 0, 'no data from an untrusted server');
      assert.equal(src.health().connected, false);
      assert.ok(listCertificates(agentPki).some((c) => c.status === 'rejected' && c.thumbprint === serverThumbprint(otherPki)));
      await src.stop();
    } finally {
      await other.stop();
    }
  });

  it('with autoAcceptUnknownCertificate true it connects and warns at every start', async () => {
    const otherPki = join(tmp.dir, 'third-server-pki');
    const other = await startTestServer({ pkiDir: otherPki, secure: true, users: { operator: 'operator-secret' }, tickMs: 100 });
    try {
      const ctx = new CollectingContext(stateDir, { captureLogs: true });
      const src = source(
        {
          endpointUrl: other.endpointUrl,
          pkiDir: join(tmp.dir, 'auto-pki'),
          autoAcceptUnknownCertificate: true,
          subscriptions: [{ publishingIntervalMs: 100, items: [{ tag: 'counter', nodeId: other.nodeIds.counter }] }],
        },
        ctx,
      );
      const warnings = () => ctx.logLines.filter((l) => l.level === 40 && /autoAcceptUnknownCertificate/.test(l.msg)).length;
      await src.start();
      await ctx.until((s) => s.some((x) => x.tag === 'counter'), 20_000, 'signals');
      assert.equal(warnings(), 1);
      assert.ok(
        listCertificates(join(tmp.dir, 'auto-pki')).some((c) => c.status === 'trusted' && c.thumbprint === serverThumbprint(otherPki)),
        'filed as trusted',
      );
      await src.stop();
      await src.start();
      assert.equal(warnings(), 2, 'warned again at the second start');
      await src.stop();
    } finally {
      await other.stop();
    }
  });
});
