/**
 * PKI helpers behind `edge-agent certs list|trust|reject`, on real certificates
 * (made once for the file by the same code the agent uses).
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentError } from '../../../agent/errors';
import { countRejected, listCertificates, rejectCertificate, trustCertificate } from '../../../agent/protocols/opcua/certs';
import { certsCommand, pkiDirsOf } from '../../../agent/cli/certs';
import { clearLeftoverPkiLock, ensureOwnCertificate, type OwnCertificate } from '../../../agent/protocols/opcua/own-certificate';
import { tempDir } from './helpers';

describe('opcua certificates', () => {
  const tmp = tempDir('opcua-certs');
  const stateDir = join(tmp.dir, 'state');
  const pki = join(stateDir, 'pki');
  let own: OwnCertificate;
  let server: OwnCertificate; // stands in for a server certificate

  before(async () => {
    own = await ensureOwnCertificate(pki, 'odoo-edge-agent');
    server = await ensureOwnCertificate(join(tmp.dir, 'server-pki'), 'line1-plc');
  });
  after(() => tmp.remove());

  const fileAsRejected = () => {
    mkdirSync(join(pki, 'rejected'), { recursive: true });
    copyFileSync(server.certificateFile, join(pki, 'rejected', `line1-plc[${server.thumbprint}].pem`));
  };

  it('creates the agent certificate once and reuses it', async () => {
    assert.equal(own.created, true);
    assert.match(own.thumbprint, /^[0-9a-f]{40}$/);
    assert.match(own.applicationUri, /^urn:.+:odoo-edge-agent$/);
    const again = await ensureOwnCertificate(pki, 'odoo-edge-agent');
    assert.equal(again.created, false);
    assert.equal(again.thumbprint, own.thumbprint);
    const list = listCertificates(pki);
    assert.deepEqual(
      list.map((c) => [c.status, c.thumbprint]),
      [['own', own.thumbprint]],
    );
    assert.match(list[0]!.subject, /CN=odoo-edge-agent@/);
    assert.ok(Date.parse(list[0]!.validTo) > Date.now() + 9 * 365 * 86_400_000, 'valid for about ten years');
  });

  it('lists a rejected server certificate and trusts it by thumbprint', () => {
    fileAsRejected();
    assert.equal(countRejected(pki), 1);
    const rejected = listCertificates(pki).find((c) => c.status === 'rejected');
    assert.ok(rejected);
    assert.equal(rejected.thumbprint, server.thumbprint);

    // thumbprints are accepted as shown by other tools too: upper case, with colons
    const shown = server.thumbprint.toUpperCase().match(/../g)!.join(':');
    const t = trustCertificate(pki, shown);
    assert.equal(t.status, 'trusted');
    assert.ok(existsSync(t.file));
    assert.equal(countRejected(pki), 0);
    assert.deepEqual(readdirSync(join(pki, 'trusted', 'certs')), [`line1-plc[${server.thumbprint}].pem`]);
    assert.deepEqual(
      listCertificates(pki)
        .map((c) => c.status)
        .sort(),
      ['own', 'trusted'],
    );

    assert.equal(trustCertificate(pki, server.thumbprint).status, 'trusted', 'trusting twice is harmless');

    const r = rejectCertificate(pki, server.thumbprint);
    assert.equal(r.status, 'rejected');
    assert.deepEqual(
      listCertificates(pki)
        .map((c) => c.status)
        .sort(),
      ['own', 'rejected'],
    );
  });

  it('says what is wrong with a bad request', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return (err as AgentError).code;
      }
      return 'no error';
    };
    assert.equal(
      code(() => trustCertificate(pki, 'abc')),
      'CERT_THUMBPRINT_INVALID',
    );
    assert.equal(
      code(() => trustCertificate(pki, '0'.repeat(40))),
      'CERT_NOT_FOUND',
    );
    assert.equal(
      code(() => trustCertificate(pki, own.thumbprint)),
      'CERT_IS_OWN',
    );
  });

  it('skips files that hold no certificate and copes with a missing folder', () => {
    writeFileSync(join(pki, 'rejected', 'notes.pem'), 'not a certificate');
    assert.ok(listCertificates(pki).every((c) => c.file.endsWith('.pem') && !c.file.endsWith('notes.pem')));
    assert.deepEqual(listCertificates(join(tmp.dir, 'nowhere')), []);
  });

  it('edge-agent certs list / trust work on the PKI folders of the config', async () => {
    const config = {
      stateDir,
      sources: [
        { type: 'opcua', name: 'line1', endpointUrl: 'opc.tcp://a:4840' },
        { type: 'opcua', name: 'line2', endpointUrl: 'opc.tcp://b:4840' },
        { type: 'mqtt', name: 'broker' },
      ],
    } as unknown as Parameters<typeof certsCommand>[0];
    assert.deepEqual(pkiDirsOf(config), [{ pkiDir: pki, sources: ['line1', 'line2'] }]);

    let out = '';
    const write = (t: string) => {
      out += t;
    };
    assert.equal(await certsCommand(config, 'list', [], false, write), 0);
    assert.match(out, new RegExp(`rejected +${server.thumbprint}`));
    assert.match(out, new RegExp(`own +${own.thumbprint}`));
    assert.match(out, /edge-agent certs trust <thumbprint>/);

    out = '';
    assert.equal(await certsCommand(config, 'trust', [server.thumbprint], false, write), 0);
    assert.match(out, /^trusted: /);
    assert.ok(listCertificates(pki).some((c) => c.status === 'trusted' && c.thumbprint === server.thumbprint));

    out = '';
    await certsCommand(config, 'list', [], true, write);
    const json = JSON.parse(out) as Array<{ pkiDir: string; certificates: Array<{ status: string }> }>;
    assert.deepEqual(json[0]!.certificates.map((c) => c.status).sort(), ['own', 'trusted']);

    await assert.rejects(certsCommand(config, 'trust', ['1'.repeat(40)], false, write), (e: AgentError) => e.code === 'NOT_FOUND');
    await assert.rejects(certsCommand(config, 'trust', [], false, write), (e: AgentError) => e.code === 'USAGE');
    await assert.rejects(certsCommand(config, 'trust', ['xyz'], false, write), (e: AgentError) => e.code === 'USAGE');
    await assert.rejects(certsCommand(config, 'frobnicate', [], false, write), (e: AgentError) => e.code === 'USAGE');
  });
});

describe('opcua PKI lock', () => {
  const tmp = tempDir('opcua-pki-lock');
  after(() => tmp.remove());
  const ownCertificate = join(__dirname, '..', '..', '..', 'agent', 'protocols', 'opcua', 'own-certificate.js');

  it('soak: an agent SIGKILLed while it held the PKI lock held the next start of its OPC UA source for two minutes; the next start removes the lock and goes on', async () => {
    const pki = join(tmp.dir, 'pki');
    // An agent making its certificate holds node-opcua's lock on the folder; it is SIGKILLed right then.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const { OPCUACertificateManager } = require('node-opcua');
         const cm = new OPCUACertificateManager({ rootFolder: ${JSON.stringify(pki)}, disableFileWatchers: true });
         cm.initialize().then(() => cm.withLock2(() => { process.stdout.write('locked\\n'); return new Promise(() => undefined); }));`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.on('data', (b: Buffer) => b.toString().includes('locked') && resolve());
      holder.once('exit', (code) => reject(new Error(`the lock holder ended by itself (${code})`)));
    });
    holder.kill('SIGKILL');
    await once(holder, 'exit');
    assert.ok(existsSync(join(pki, 'mutex.lock')), 'the killed holder left its lock');

    // The next agent process makes its certificate at once instead of waiting for the lock to go stale.
    const t0 = Date.now();
    const next = spawnSync(
      process.execPath,
      ['-e', `require(${JSON.stringify(ownCertificate)}).ensureOwnCertificate(${JSON.stringify(pki)}, 'odoo-edge-agent').then((c) => console.log(c.created))`],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(next.status, 0, `${next.stderr} (killed: ${String(next.signal)})`);
    assert.equal(next.stdout.split('\n')[0], 'true');
    assert.ok(Date.now() - t0 < 30_000, `took ${Date.now() - t0} ms`);
  });

  it('a lock taken since this process started (another source making its certificate) is left alone', () => {
    const pki = join(tmp.dir, 'pki-busy');
    mkdirSync(join(pki, 'mutex.lock'), { recursive: true });
    assert.equal(clearLeftoverPkiLock(pki), false);
    assert.ok(existsSync(join(pki, 'mutex.lock')));
    assert.equal(clearLeftoverPkiLock(join(tmp.dir, 'no-pki')), false);
  });
});
