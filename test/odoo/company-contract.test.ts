/**
 * The plant's company and the edge check, against every Odoo the agent can
 * meet: the simulator as Odoo 19, 18 and 17, and a real Odoo when ODOO_URL,
 * ODOO_DB, ODOO_USER and ODOO_API_KEY are set (`set -a; . /work/odoo-env/19.env; set +a`).
 * It creates nothing in Odoo: it reads the company, pulls master data for it
 * and checks events against what it pulled.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import { createOdooClient } from '../../agent/odoo/client';
import type { OdooConfig } from '../../agent/odoo/config';
import { OdooError, type OdooClient } from '../../agent/odoo/types';
import type { CanonicalEvent } from '../../agent/model/event';
import { checkEvent, EdgeCheck } from '../../agent/sync/edge-check';
import { MasterDataCache } from '../../agent/sync/master-data';
import { startOdooSim } from '../odoo-sim';
import { realOdooConfig, rejection, silentLogger, simConfig } from './helpers';

const RUN = Date.now().toString(36);

interface Target {
  config: OdooConfig;
  close(): Promise<void>;
}

function realTarget(): Target | undefined {
  const config = realOdooConfig(60_000);
  return config && { config, close: async () => undefined };
}

const targets: Array<{ label: string; make: () => Promise<Target | undefined> }> = [
  ...([19, 18, 17] as const).map((v) => ({
    label: `simulator as Odoo ${v}`,
    make: async (): Promise<Target> => {
      const sim = await startOdooSim({ version: v });
      return { config: simConfig(sim), close: () => sim.close() };
    },
  })),
  { label: 'real Odoo (ODOO_URL)', make: async () => realTarget() },
];

function stop(workcenter: string, reason: string): CanonicalEvent {
  const t = new Date().toISOString();
  return {
    id: `company-contract-${RUN}-${workcenter}`,
    type: 'downtime.started',
    sequenceKey: workcenter,
    occurredAt: t,
    receivedAt: t,
    source: 'contract',
    payload: { downtimeId: `d-${RUN}`, workcenter, reason },
  };
}

for (const { label, make } of targets) {
  describe(`company and edge check: ${label}`, () => {
    let target: Target | undefined;
    let plain: OdooClient;
    let company: { id: number; name: string };

    before(async () => {
      target = await make();
      if (!target) return;
      plain = createOdooClient(target.config, silentLogger);
      const rows = await plain.call<Array<{ id: number; name: string }>>('res.company', 'search_read', {
        kwargs: { domain: [], fields: ['id', 'name'], order: 'id', limit: 1 },
      });
      company = rows[0]!;
    });
    after(async () => {
      await plain?.close();
      await target?.close();
    });

    it('accepts allowed_company_ids in the context of every call, the company named or given by id', async (t) => {
      if (!target) return t.skip('ODOO_URL not set');
      for (const ref of [company.name, company.id]) {
        const odoo = createOdooClient({ ...target.config, company: ref }, silentLogger);
        try {
          const info = await odoo.connect();
          assert.equal(info.companyId, company.id);
          const n = await odoo.call<number>('product.product', 'search_count', { kwargs: { domain: [] } });
          assert.ok(n > 0);
        } finally {
          await odoo.close();
        }
      }
    });

    it('finds the plant’s warehouse by short name or name, and refuses one it does not have', async (t) => {
      if (!target) return t.skip('ODOO_URL not set');
      const [wh] = await plain.call<Array<{ id: number; name: string; code: string }>>('stock.warehouse', 'search_read', {
        kwargs: { domain: [], fields: ['id', 'name', 'code'], order: 'id', limit: 1 },
      });
      for (const ref of [wh!.code, wh!.name]) {
        const odoo = createOdooClient({ ...target.config, company: company.id, warehouse: ref }, silentLogger);
        try {
          assert.equal((await odoo.connect()).warehouseId, wh!.id);
        } finally {
          await odoo.close();
        }
      }
      const odoo = createOdooClient({ ...target.config, warehouse: `No Such Warehouse ${RUN}` }, silentLogger);
      try {
        const err = await rejection(odoo.connect());
        assert.ok(err instanceof OdooError && err.code === 'ODOO_CONFIG' && /odoo\.warehouse/.test(err.message), String(err));
      } finally {
        await odoo.close();
      }
    });

    it('refuses a company the user does not belong to: at connect (ODOO_CONFIG), and in a call (AccessError, stop)', async (t) => {
      if (!target) return t.skip('ODOO_URL not set');
      const odoo = createOdooClient({ ...target.config, company: `No Such Company ${RUN}` }, silentLogger);
      try {
        const err = await rejection(odoo.connect());
        assert.ok(err instanceof OdooError && err.code === 'ODOO_CONFIG', String(err));
      } finally {
        await odoo.close();
      }
      const err = await rejection(plain.call('product.product', 'search_count', { kwargs: { domain: [] }, context: { allowed_company_ids: [987654] } }));
      assert.ok(err instanceof OdooError, String(err));
      assert.equal(err.action, 'stop', `${err.code}: ${err.message}`);
      assert.equal(err.code, 'ODOO_COMPANY', err.message);
    });

    it('pulls master data for the company, page by page, and flags a stop at a misspelled work center', async (t) => {
      if (!target) return t.skip('ODOO_URL not set');
      const odoo = createOdooClient({ ...target.config, company: company.id }, silentLogger);
      const outbox = new SqliteOutbox({ path: ':memory:' });
      try {
        const cache = new MasterDataCache(outbox.masterData, silentLogger, { pageSize: 50 });
        const counts = await cache.refresh(odoo);
        for (const kind of ['product', 'lot', 'production', 'workorder', 'workcenter', 'loss', 'location', 'uom', 'equipment'] as const) {
          assert.ok(cache.has(kind), `${kind} pulled (${JSON.stringify(counts)})`);
        }
        assert.ok(counts.products! > 0 && counts.workcenters! > 0 && counts.uoms! > 0 && counts.locations! > 0, JSON.stringify(counts));
        const [wc] = await odoo.call<Array<{ name: string }>>('mrp.workcenter', 'search_read', { kwargs: { domain: [], fields: ['name'], limit: 1 } });
        const [loss] = await odoo.call<Array<{ name: string }>>('mrp.workcenter.productivity.loss', 'search_read', {
          kwargs: { domain: [], fields: ['name'], limit: 1 },
        });
        assert.equal(checkEvent(stop(wc!.name, loss!.name), cache), undefined, 'a real work center and loss reason go');
        const typo = stop(`${wc!.name.slice(1)} ${RUN}`, loss!.name);
        assert.equal(checkEvent(typo, cache)?.code, 'EDGE_UNKNOWN_WORKCENTER');
        outbox.setEventCheck(new EdgeCheck(cache, { skippableTypes: [] }));
        await outbox.enqueue([typo]);
        const [flagged] = outbox.list({ state: 'flagged' });
        assert.equal(flagged?.id, typo.id);
        assert.match(flagged!.error!, /work center ".*" is not known in Odoo/);
      } finally {
        await outbox.close();
        await odoo.close();
      }
    });
  });
}
