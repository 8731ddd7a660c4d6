import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createOdooClient } from '../../agent/odoo/client';
import { OdooError } from '../../agent/odoo/types';
import { startOdooSim, type OdooSim } from '../odoo-sim';
import { rejection, silentLogger, simConfig } from './helpers';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('TLS', () => {
  const openssl = hasOpenssl();
  let dir = '';
  let sim: OdooSim | undefined;
  let certFile = '';

  before(async () => {
    if (!openssl) return;
    dir = mkdtempSync(join(tmpdir(), 'odoo-tls-'));
    certFile = join(dir, 'odoo.crt');
    const keyFile = join(dir, 'odoo.key');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '2',
        '-subj',
        '/CN=odoo.plant.local',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
    sim = await startOdooSim({ seed: false, tls: { key: readFileSync(keyFile), cert: readFileSync(certFile) } });
  });

  after(async () => {
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('trusts a plant CA given as tls.caFile', async (t) => {
    if (!sim) return t.skip('openssl not installed');
    assert.match(sim.url, /^https:/);
    const client = createOdooClient(simConfig(sim, { tls: { caFile: certFile, rejectUnauthorized: true } }), silentLogger);
    try {
      const info = await client.connect();
      assert.equal(info.protocol, 'json2');
    } finally {
      await client.close();
    }
  });

  it('refuses an untrusted certificate: stop, not retry', async (t) => {
    if (!sim) return t.skip('openssl not installed');
    const client = createOdooClient(simConfig(sim), silentLogger);
    try {
      const err = await rejection(client.connect());
      assert.ok(err instanceof OdooError);
      assert.equal(err.action, 'stop');
      assert.equal(err.code, 'ODOO_TLS');
      assert.equal(err.odooName, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    } finally {
      await client.close();
    }
  });

  it('connects without checks only when rejectUnauthorized is false', async (t) => {
    if (!sim) return t.skip('openssl not installed');
    const client = createOdooClient(simConfig(sim, { tls: { rejectUnauthorized: false } }), silentLogger);
    try {
      assert.equal((await client.connect()).major, 19);
    } finally {
      await client.close();
    }
  });

  it('an unreadable CA file fails at once with ODOO_CONFIG', (t) => {
    if (!sim) return t.skip('openssl not installed');
    const s = sim;
    assert.throws(
      () => createOdooClient(simConfig(s, { tls: { caFile: join(dir, 'missing.pem'), rejectUnauthorized: true } }), silentLogger),
      (e: unknown) => e instanceof OdooError && e.code === 'ODOO_CONFIG' && e.action === 'stop',
    );
  });
});
