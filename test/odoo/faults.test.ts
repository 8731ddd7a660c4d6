import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { classifyLoadMessages } from '../../agent/odoo/classify';
import { createOdooClient } from '../../agent/odoo/client';
import { OdooError, type LoadResult, type OdooClient } from '../../agent/odoo/types';
import { startOdooSim, type OdooSim } from '../odoo-sim';
import { rejection, silentLogger, simConfig } from './helpers';

async function odooError(p: Promise<unknown>): Promise<OdooError> {
  const err = await rejection(p);
  assert.ok(err instanceof OdooError, `expected an OdooError, got ${String(err)}`);
  return err;
}

const count = (c: OdooClient) => c.call<number>('res.users', 'search_count', { kwargs: { domain: [] } });

for (const version of [19, 18] as const) {
  describe(`faults surface as classified errors (Odoo ${version}, ${version === 19 ? 'JSON-2' : 'JSON-RPC'})`, () => {
    let sim: OdooSim;
    let client: OdooClient;
    before(async () => {
      sim = await startOdooSim({ version });
      client = createOdooClient(simConfig(sim, { timeouts: { connectMs: 1000, headersMs: 400, bodyMs: 1000 } }), silentLogger);
      await client.connect();
    });
    after(async () => {
      await client.close();
      await sim.close();
    });

    it('refused connection -> down (the link, not the event); works again once Odoo listens', async () => {
      sim.faults.set({ kind: 'refuse' });
      // A call racing the close can see the socket die (UND_ERR_SOCKET, also down); after that, refused.
      await new Promise((r) => setTimeout(r, 50));
      const e = await odooError(count(client));
      assert.equal(e.action, 'down');
      assert.equal(e.odooName, 'ECONNREFUSED');
      assert.equal(e.message.split('ECONNREFUSED').length, 2, `named once: ${e.message}`);
      sim.faults.clear('refuse');
      await new Promise((r) => setTimeout(r, 50));
      assert.ok((await count(client)) > 0);
    });

    it('no answer -> headers timeout -> down', async () => {
      sim.faults.set({ kind: 'hang', calls: 1 });
      const e = await odooError(count(client));
      assert.equal(e.action, 'down');
      assert.equal(e.code, 'ODOO_TIMEOUT');
      assert.equal(e.odooName, 'UND_ERR_HEADERS_TIMEOUT');
      assert.ok((await count(client)) > 0, 'the next call goes through');
    });

    it('a 503 storm of three calls -> retry three times, then success', async () => {
      sim.faults.set({ kind: 'status', status: 503, calls: 3 });
      for (let i = 0; i < 3; i++) {
        const e = await odooError(count(client));
        assert.equal(e.action, 'retry');
        assert.equal(e.status, 503);
        assert.equal(e.code, 'ODOO_UNAVAILABLE');
      }
      assert.ok((await count(client)) > 0);
    });

    it('502 and 504 from a proxy -> retry', async () => {
      for (const status of [502, 504]) {
        sim.faults.set({ kind: 'status', status, calls: 1 });
        const e = await odooError(count(client));
        assert.equal(e.action, 'retry');
        assert.equal(e.status, status);
      }
    });

    it('429 with Retry-After in seconds and as a date -> retry after that long', async () => {
      sim.faults.set({ kind: 'status', status: 429, retryAfter: 12, calls: 1 });
      const e1 = await odooError(count(client));
      assert.equal(e1.action, 'retry');
      assert.equal(e1.code, 'ODOO_RATE_LIMITED');
      assert.equal(e1.retryAfterMs, 12_000);
      const at = new Date(Date.now() + 60_000).toUTCString();
      sim.faults.set({ kind: 'status', status: 429, retryAfter: at, calls: 1 });
      const e2 = await odooError(count(client));
      assert.ok(e2.retryAfterMs !== undefined && e2.retryAfterMs > 50_000 && e2.retryAfterMs <= 60_000, `retryAfterMs ${e2.retryAfterMs}`);
    });

    it('serialization failure -> retry, nothing written', async () => {
      sim.faults.set({ kind: 'serialization', calls: 1, model: 'maintenance.request' });
      const before = sim.state.count('maintenance.request');
      const e = await odooError(client.call('maintenance.request', 'create', { kwargs: { vals_list: [{ name: 'Noise' }] } }));
      assert.equal(e.action, 'retry');
      assert.equal(e.code, 'ODOO_CONCURRENCY');
      assert.equal(e.odooName, 'psycopg2.errors.SerializationFailure');
      assert.equal(e.status, version === 19 ? 500 : 200);
      assert.equal(sim.state.count('maintenance.request'), before);
    });

    it('load() conflict in messages -> retry; the replay makes exactly one record', async () => {
      sim.faults.set({ kind: 'loadConflict', calls: 1 });
      const args = {
        kwargs: {
          fields: ['id', 'workcenter_id/id', 'loss_id/id', 'date_start'],
          data: [[`edge_f.conflict_${version}`, 'plant.wc_assembly', 'mrp.block_reason0', '2025-02-01 06:00:00']],
        },
      };
      const first = await client.call<LoadResult>('mrp.workcenter.productivity', 'load', args);
      const e = classifyLoadMessages(first);
      assert.equal(e?.action, 'retry');
      const second = await client.call<LoadResult>('mrp.workcenter.productivity', 'load', args);
      assert.equal(classifyLoadMessages(second), undefined);
      assert.equal(sim.state.records('mrp.workcenter.productivity', [['date_start', '=', '2025-02-01 06:00:00']]).length, 1);
    });

    it('commit then dropped answer -> down (sent again once Odoo answers); the resend by external id finds the same record', async () => {
      const xmlid = `edge_f.drop_${version}`;
      const args = {
        kwargs: {
          fields: ['id', 'workcenter_id/id', 'loss_id/id', 'date_start', 'description'],
          data: [[xmlid, 'plant.wc_test', 'mrp.block_reason1', '2025-02-02 09:30:00', 'leak tester stuck']],
        },
      };
      sim.faults.set({ kind: 'dropAfterCommit', calls: 1, method: 'load' });
      const e = await odooError(client.call('mrp.workcenter.productivity', 'load', args));
      assert.equal(e.action, 'down');
      const committed = sim.state.byXmlid(xmlid);
      assert.ok(committed, 'the write was committed before the answer was lost');
      const res = await client.call<LoadResult>('mrp.workcenter.productivity', 'load', args);
      assert.deepEqual(res.ids, [committed.id]);
      assert.equal(sim.state.records('mrp.workcenter.productivity', [['description', '=', 'leak tester stuck']]).length, 1);
    });

    it('Odoo UserError -> park with its message', async () => {
      const e = await odooError(
        client.call('mrp.production', 'action_cancel', { ids: [sim.state.ref('plant.mo_pump_2')] }).then(() =>
          client.call('mrp.workorder', 'button_start', {
            ids: [sim.state.records('mrp.workorder', [['production_id', '=', sim.state.ref('plant.mo_pump_2')]])[0]!.id],
          }),
        ),
      );
      assert.equal(e.action, 'park');
      assert.equal(e.odooName, 'odoo.exceptions.UserError');
      assert.match(e.message, /already done or cancelled/);
      assert.equal(e.status, version === 19 ? 422 : 200);
    });

    it('missing record -> park; unknown field -> park (ValueError)', async () => {
      const e1 = await odooError(client.call('mrp.production', 'write', { ids: [99999], kwargs: { vals: { qty_producing: 1 } } }));
      assert.equal(e1.action, 'park');
      assert.equal(e1.odooName, 'odoo.exceptions.MissingError');
      const e2 = await odooError(client.call('mrp.production', 'write', { ids: [sim.state.ref('plant.mo_pump_1')], kwargs: { vals: { qty_made: 1 } } }));
      assert.equal(e2.action, 'park');
      assert.equal(e2.odooName, 'builtins.ValueError');
    });

    it('AccessError on an administrators-only model -> park, not stop', async () => {
      const e = await odooError(client.call('ir.model.data', 'search_read', { kwargs: { domain: [['module', '=', 'plant']], fields: ['name'] } }));
      assert.equal(e.action, 'park');
      assert.equal(e.odooName, 'odoo.exceptions.AccessError');
    });

    it('revoked key -> stop, on calls and on connect', async () => {
      sim.faults.set({ kind: 'revokeKey' });
      try {
        const e = await odooError(count(client));
        assert.equal(e.action, 'stop');
        assert.equal(e.code, 'ODOO_AUTH');
        if (version === 19) assert.equal(e.status, 401);
        else assert.equal(e.odooName, 'odoo.exceptions.AccessDenied');
        const fresh = createOdooClient(simConfig(sim), silentLogger);
        try {
          const c = await odooError(fresh.connect());
          assert.equal(c.action, 'stop');
        } finally {
          await fresh.close();
        }
      } finally {
        sim.faults.clear('revokeKey');
      }
      assert.ok((await count(client)) > 0);
    });

    it('a wrong key -> stop', async () => {
      const bad = createOdooClient(simConfig(sim, { apiKey: 'not-the-key' }), silentLogger);
      try {
        const e = await odooError(bad.connect());
        assert.equal(e.action, 'stop');
      } finally {
        await bad.close();
      }
    });

    it('a wrong database name -> stop', async () => {
      const bad = createOdooClient(simConfig(sim, { database: 'edg' }), silentLogger);
      try {
        const e = await odooError(bad.connect());
        assert.equal(e.action, 'stop');
        assert.equal(e.code, 'ODOO_NO_DATABASE');
      } finally {
        await bad.close();
      }
    });

    it('faults can be limited to one model and method', async () => {
      sim.faults.set({ kind: 'status', status: 503, model: 'mrp.production', method: 'read', calls: 1 });
      assert.ok((await count(client)) > 0, 'other calls are not hit');
      const e = await odooError(client.call('mrp.production', 'read', { ids: [sim.state.ref('plant.mo_pump_1')], kwargs: { fields: ['name'] } }));
      assert.equal(e.status, 503);
    });
  });
}

describe('fault control over HTTP (for the demo)', () => {
  it('POST /__sim/faults sets a fault, DELETE clears it', async () => {
    const sim = await startOdooSim({ seed: false });
    const client = createOdooClient(simConfig(sim), silentLogger);
    try {
      await client.connect();
      const set = await fetch(`${sim.url}/__sim/faults`, { method: 'POST', body: JSON.stringify({ kind: 'status', status: 503, forMs: 60_000 }) });
      assert.equal(set.status, 200);
      assert.equal(((await set.json()) as unknown[]).length, 1);
      assert.equal((await odooError(count(client))).status, 503);
      const bad = await fetch(`${sim.url}/__sim/faults`, { method: 'POST', body: JSON.stringify({ kind: 'meteor' }) });
      assert.equal(bad.status, 400);
      await fetch(`${sim.url}/__sim/faults`, { method: 'DELETE' });
      assert.ok((await count(client)) > 0);
      const stats = (await (await fetch(`${sim.url}/__sim/stats`)).json()) as { calls: number };
      assert.ok(stats.calls >= 2);
    } finally {
      await client.close();
      await sim.close();
    }
  });

  it('refuse with forMs reopens by itself', async () => {
    const sim = await startOdooSim({ seed: false });
    const client = createOdooClient(simConfig(sim), silentLogger);
    try {
      await client.connect();
      await fetch(`${sim.url}/__sim/faults`, { method: 'POST', body: JSON.stringify({ kind: 'refuse', forMs: 300 }) });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal((await odooError(count(client))).odooName, 'ECONNREFUSED');
      let ok = false;
      for (let i = 0; i < 40 && !ok; i++) {
        await new Promise((r) => setTimeout(r, 50));
        ok = await count(client).then(
          () => true,
          () => false,
        );
      }
      assert.ok(ok, 'listening again after forMs');
    } finally {
      await client.close();
      await sim.close();
    }
  });
});
