import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createOdooClient } from '../../agent/odoo/client';
import { odooConfigSchema } from '../../agent/odoo/config';
import { modelExists } from '../../agent/odoo/introspect';
import { OdooError, type LoadResult } from '../../agent/odoo/types';
import { startOdooSim, type OdooSim } from '../odoo-sim';
import { capturingLogger, rejection, silentLogger, simConfig } from './helpers';

describe('odooConfigSchema', () => {
  it('fills the documented defaults and resolves the key reference', () => {
    process.env.EDGE_TEST_ODOO_KEY = 'k-123';
    const c = odooConfigSchema.parse({ url: 'https://erp.example.com/', database: 'prod', apiKey: '${env:EDGE_TEST_ODOO_KEY}' });
    assert.equal(c.url, 'https://erp.example.com');
    assert.equal(c.apiKey, 'k-123');
    assert.equal(c.protocol, 'auto');
    assert.equal(c.version, 'auto');
    assert.deepEqual(c.timeouts, { connectMs: 10_000, headersMs: 30_000, bodyMs: 60_000 });
    assert.deepEqual(c.tls, { rejectUnauthorized: true });
    assert.equal(c.keepAliveMs, 4000);
    assert.equal(c.maxConnections, 4);
  });

  it('rejects unknown keys, inline keys and non-http URLs', () => {
    process.env.EDGE_TEST_ODOO_KEY = 'k';
    const base = { url: 'http://odoo:8069', database: 'd', apiKey: '${env:EDGE_TEST_ODOO_KEY}' };
    assert.equal(odooConfigSchema.safeParse({ ...base, timeout: 5 }).success, false);
    assert.equal(odooConfigSchema.safeParse({ ...base, tls: { caFle: '/x' } }).success, false);
    assert.equal(odooConfigSchema.safeParse({ ...base, apiKey: 'plain-key' }).success, false);
    assert.equal(odooConfigSchema.safeParse({ ...base, url: 'ftp://odoo' }).success, false);
    assert.equal(odooConfigSchema.safeParse({ ...base, version: 15 }).success, false);
  });

  it('needs a username for JSON-RPC and refuses JSON-2 pinned below 19', () => {
    process.env.EDGE_TEST_ODOO_KEY = 'k';
    const base = { url: 'http://odoo:8069', database: 'd', apiKey: '${env:EDGE_TEST_ODOO_KEY}' };
    const r1 = odooConfigSchema.safeParse({ ...base, protocol: 'jsonrpc' });
    assert.equal(r1.success, false);
    assert.deepEqual(r1.error?.issues[0]?.path, ['username']);
    assert.equal(odooConfigSchema.safeParse({ ...base, version: 18 }).success, false);
    assert.equal(odooConfigSchema.safeParse({ ...base, version: 18, username: 'bot' }).success, true);
    assert.equal(odooConfigSchema.safeParse({ ...base, protocol: 'json2', version: 18, username: 'bot' }).success, false);
    assert.equal(odooConfigSchema.safeParse({ ...base, version: 19 }).success, true);
  });
});

describe('version detection and protocols', () => {
  const sims: OdooSim[] = [];
  after(async () => {
    await Promise.all(sims.map((s) => s.close()));
  });
  const start = async (version: 17 | 18 | 19) => {
    const s = await startOdooSim({ version, seed: false });
    sims.push(s);
    return s;
  };

  it('Odoo 19: /web/version, then JSON-2 with a bearer key and X-Odoo-Database', async () => {
    const sim = await start(19);
    const client = createOdooClient(simConfig(sim), silentLogger);
    try {
      const info = await client.connect();
      assert.deepEqual(info, { major: 19, serverVersion: '19.0', protocol: 'json2' });
      assert.deepEqual(client.info, info);
      const users = await client.call<Array<{ login: string }>>('res.users', 'read', { ids: [sim.uid], kwargs: { fields: ['login'] } });
      assert.equal(users[0]?.login, sim.login);
      const paths = sim.requests.map((r) => r.path);
      assert.equal(paths[0], '/web/version');
      assert.ok(paths.includes('/json/2/res.users/read'));
      assert.ok(!paths.includes('/jsonrpc'), 'no JSON-RPC on 19');
    } finally {
      await client.close();
    }
  });

  for (const version of [18, 17] as const) {
    it(`Odoo ${version}: falls back to common.version and uses JSON-RPC execute_kw`, async () => {
      const sim = await start(version);
      const client = createOdooClient(simConfig(sim), silentLogger);
      try {
        const info = await client.connect();
        assert.deepEqual(info, { major: version, serverVersion: `${version}.0`, protocol: 'jsonrpc' });
        const n = await client.call<number>('res.users', 'search_count', { kwargs: { domain: [['id', '=', sim.uid]] } });
        assert.equal(n, 1);
        const rpc = sim.requests.filter((r) => r.path === '/jsonrpc').map((r) => r.method);
        assert.deepEqual(rpc, ['common.version', 'common.authenticate', 'search_count']);
        assert.equal(sim.requests.filter((r) => r.path.startsWith('/json/2')).length, 0);
      } finally {
        await client.close();
      }
    });
  }

  it('a pinned version and protocol skip detection', async () => {
    const sim = await start(19);
    const client = createOdooClient(simConfig(sim, { version: 19, protocol: 'json2' }), silentLogger);
    try {
      const info = await client.connect();
      assert.equal(info.major, 19);
      assert.equal(info.protocol, 'json2');
      assert.equal(sim.requests.filter((r) => r.path === '/web/version').length, 0);
    } finally {
      await client.close();
    }
  });

  it('a pinned protocol still asks for the version', async () => {
    const sim = await start(19);
    const client = createOdooClient(simConfig(sim, { protocol: 'jsonrpc' }), silentLogger);
    try {
      const info = await client.connect();
      assert.deepEqual(info, { major: 19, serverVersion: '19.0', protocol: 'jsonrpc' });
      assert.equal(await client.call('res.users', 'search_count', { kwargs: { domain: [] } }), 2);
    } finally {
      await client.close();
    }
  });

  it('version pinned to 19 on an Odoo 18: the 303 from /json/2 makes auto fall back to JSON-RPC', async () => {
    const sim = await start(18);
    const client = createOdooClient(simConfig(sim, { version: 19 }), silentLogger);
    try {
      const info = await client.connect();
      assert.equal(info.protocol, 'jsonrpc');
      assert.equal(info.major, 18);
      assert.ok(sim.requests.some((r) => r.path === '/json/2/res.users/context_get' && r.status === 303));
    } finally {
      await client.close();
    }
  });

  it('JSON-2 forced on an Odoo 18 stops with ODOO_PROTOCOL', async () => {
    const sim = await start(18);
    const client = createOdooClient(simConfig(sim, { protocol: 'json2' }), silentLogger);
    try {
      const err = await rejection(client.connect());
      assert.ok(err instanceof OdooError);
      assert.equal(err.action, 'stop');
      assert.equal(err.code, 'ODOO_PROTOCOL');
      assert.equal(err.status, 303);
    } finally {
      await client.close();
    }
  });

  it('JSON-RPC without a username stops with ODOO_CONFIG', async () => {
    const sim = await start(17);
    const client = createOdooClient(simConfig(sim, { username: undefined }), silentLogger);
    try {
      const err = await rejection(client.connect());
      assert.ok(err instanceof OdooError);
      assert.equal(err.code, 'ODOO_CONFIG');
      assert.equal(err.action, 'stop');
    } finally {
      await client.close();
    }
  });
});

describe('calls', () => {
  for (const version of [19, 18] as const) {
    describe(`on Odoo ${version}`, () => {
      let sim: OdooSim;
      before(async () => {
        sim = await startOdooSim({ version });
      });
      after(async () => {
        await sim.close();
      });

      it('create with vals_list returns ids on both protocols', async () => {
        const client = createOdooClient(simConfig(sim), silentLogger);
        try {
          const ids = await client.call<number[]>('maintenance.request', 'create', {
            kwargs: { vals_list: [{ name: 'Hydraulic leak', equipment_id: sim.state.ref('plant.equipment_press') }] },
          });
          assert.equal(ids.length, 1);
          assert.equal(sim.state.get('maintenance.request', ids[0]!)?.name, 'Hydraulic leak');
        } finally {
          await client.close();
        }
      });

      it('write reaches models whose write() names its argument `values` (17/18 mrp.workorder, mail.thread)', async () => {
        const client = createOdooClient(simConfig(sim), silentLogger);
        try {
          const wo = sim.state.records('mrp.workorder', [])[0]!;
          await client.call('mrp.workorder', 'write', { ids: [wo.id], kwargs: { vals: { date_start: '2025-01-15 08:00:00' } } });
          assert.equal(sim.state.get('mrp.workorder', wo.id)?.date_start, '2025-01-15 08:00:00');
        } finally {
          await client.close();
        }
      });

      it('sends tz UTC by default, so load() keeps naive times as UTC', async () => {
        const client = createOdooClient(simConfig(sim), silentLogger);
        try {
          const res = await client.call<LoadResult>('mrp.workcenter.productivity', 'load', {
            kwargs: {
              fields: ['id', 'workcenter_id/id', 'loss_id/id', 'date_start', 'date_end'],
              data: [[`edge_t.dt_tz_${version}`, 'plant.wc_cnc', 'mrp.block_reason1', '2025-01-15 08:00:00', '2025-01-15 08:10:00']],
            },
          });
          assert.ok(Array.isArray(res.ids));
          assert.equal(sim.state.get('mrp.workcenter.productivity', res.ids[0]!)?.date_start, '2025-01-15 08:00:00');
          // Without tz the bot user's zone (Europe/Brussels, UTC+1 in January) applies: the trap the default avoids.
          const shifted = await client.call<LoadResult>('mrp.workcenter.productivity', 'load', {
            kwargs: {
              fields: ['id', 'workcenter_id/id', 'loss_id/id', 'date_start'],
              data: [[`edge_t.dt_tz2_${version}`, 'plant.wc_cnc', 'mrp.block_reason1', '2025-01-15 08:00:00']],
            },
            context: { tz: false },
          });
          assert.ok(Array.isArray(shifted.ids));
          assert.equal(sim.state.get('mrp.workcenter.productivity', shifted.ids[0]!)?.date_start, '2025-01-15 07:00:00');
        } finally {
          await client.close();
        }
      });

      it('a method that returns None resolves undefined', async () => {
        const client = createOdooClient(simConfig(sim), silentLogger);
        try {
          const mo = sim.state.ref('plant.mo_valve_1');
          await client.call('mrp.production', 'write', { ids: [mo], kwargs: { vals: { qty_producing: 5 } } });
          const r = await client.call('mrp.production', 'set_qty_producing', { ids: [mo] });
          assert.equal(r, undefined);
          assert.equal(sim.state.get('mrp.production', mo)?.state, 'progress');
        } finally {
          await client.close();
        }
      });

      it('probe() connects first, then makes one cheap authenticated call', async () => {
        const client = createOdooClient(simConfig(sim), silentLogger);
        try {
          await client.probe();
          assert.ok(client.info);
          const before = sim.calls({ model: 'res.users', method: 'context_get' });
          await client.probe();
          assert.equal(sim.calls({ model: 'res.users', method: 'context_get' }), before + 1);
        } finally {
          await client.close();
        }
      });

      it('modelExists tells installed optional modules apart', async () => {
        const client = createOdooClient(simConfig(sim), silentLogger);
        try {
          assert.equal(await modelExists(client, 'maintenance.request'), true);
          assert.equal(await modelExists(client, 'quality.check'), false);
          assert.equal(await modelExists(client, 'qc.inspection'), false);
          // The bot may not read ir.model.data (administrators only), yet the model exists.
          assert.equal(await modelExists(client, 'ir.model.data'), true);
          sim.state.setModule('quality_control_oca', true);
          assert.equal(await modelExists(client, 'qc.inspection'), true);
        } finally {
          sim.state.setModule('quality_control_oca', false);
          await client.close();
        }
      });

      it('never logs the API key', async () => {
        const { log, lines } = capturingLogger();
        const client = createOdooClient(simConfig(sim), log);
        try {
          await client.connect();
          await client.call('res.users', 'search_count', { kwargs: { domain: [] } });
          await rejection(client.call('nope.model', 'search_count', { kwargs: { domain: [] } }));
        } finally {
          await client.close();
        }
        assert.ok(lines.length >= 3, 'the client did log');
        for (const line of lines) assert.ok(!line.includes(sim.apiKey), `key leaked in ${line}`);
      });
    });
  }
});

describe('keep-alive', () => {
  it('reuses one connection for sequential calls (maxConnections 1)', async () => {
    const sim = await startOdooSim({ seed: false });
    const client = createOdooClient(simConfig(sim, { maxConnections: 1 }), silentLogger);
    try {
      await client.connect();
      for (let i = 0; i < 20; i++) await client.call('res.users', 'search_count', { kwargs: { domain: [] } });
      assert.equal(sim.calls({ method: 'search_count' }), 20);
      assert.equal(sim.connections, 1);
    } finally {
      await client.close();
      await sim.close();
    }
  });

  it('keeps connections alive with the default pool (22 requests, at most 2 sockets)', async () => {
    const sim = await startOdooSim({ seed: false });
    const client = createOdooClient(simConfig(sim), silentLogger);
    try {
      await client.connect();
      for (let i = 0; i < 20; i++) await client.call('res.users', 'search_count', { kwargs: { domain: [] } });
      assert.equal(sim.requests.length, 22);
      assert.ok(sim.connections <= 2, `connections: ${sim.connections}`);
    } finally {
      await client.close();
      await sim.close();
    }
  });

  it('opens at most maxConnections for concurrent calls', async () => {
    const sim = await startOdooSim({ seed: false, latencyMs: 20 });
    const client = createOdooClient(simConfig(sim, { maxConnections: 2 }), silentLogger);
    try {
      await client.connect();
      await Promise.all(Array.from({ length: 12 }, () => client.call('res.users', 'search_count', { kwargs: { domain: [] } })));
      assert.equal(sim.calls({ method: 'search_count' }), 12);
      assert.ok(sim.connections <= 2, `connections: ${sim.connections}`);
      assert.ok(sim.connections >= 1);
    } finally {
      await client.close();
      await sim.close();
    }
  });
});
