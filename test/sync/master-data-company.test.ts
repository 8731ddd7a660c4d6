import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import { createOdooClient } from '../../agent/odoo/client';
import { odooConfigSchema, type OdooConfigInput } from '../../agent/odoo/config';
import { OdooError } from '../../agent/odoo/types';
import { MasterDataCache } from '../../agent/sync/master-data';
import { startOdooSim, type OdooSim } from '../odoo-sim';

const log = pino({ level: 'silent' });
const PRODUCTS = 25_000;

/** A second company the bot also belongs to, with its own products, work center and order; `PRODUCTS` products of the main company. */
function twoCompanies(sim: OdooSim): { main: number; other: number } {
  const st = sim.state;
  const main = st.ref('base.main_company');
  let other = 0;
  st.db.transaction(() => {
    const env = st.env();
    other = env.create('res.company', { name: 'Other Plant' });
    env.write('res.users', [sim.uid], { company_ids: [main, other] });
    for (let i = 0; i < PRODUCTS; i++) env.create('product.product', { name: `Part ${i}`, default_code: `P-${i}`, company_id: main });
    env.create('product.product', { name: 'Their part', default_code: 'OTHER-1', company_id: other });
    env.create('product.product', { name: 'Shared part', default_code: 'SHARED-1' });
    env.create('mrp.workcenter', { name: 'Their Line', code: 'OTH1', company_id: other });
  });
  return { main, other };
}

function clientFor(sim: OdooSim, over: Partial<OdooConfigInput> = {}) {
  process.env.MDC_TEST_KEY = sim.apiKey;
  return createOdooClient(
    odooConfigSchema.parse({ url: sim.url, database: sim.db, username: sim.login, apiKey: '${env:MDC_TEST_KEY}', ...over } satisfies OdooConfigInput),
    log,
  );
}

for (const version of [19, 18] as const) {
  describe(`master data of one company, paged (Odoo ${version}, ${version >= 19 ? 'JSON-2' : 'JSON-RPC'})`, () => {
    it(`pulls ${PRODUCTS} products by pages of 2000 by id, only the configured company's and the shared ones, with allowed_company_ids in every call`, async () => {
      const sim = await startOdooSim({ version });
      const { main, other } = twoCompanies(sim);
      const client = clientFor(sim, { company: 'My Company' });
      const outbox = new SqliteOutbox({ path: ':memory:' });
      try {
        const info = await client.connect();
        assert.equal(info.companyId, main);
        const cache = new MasterDataCache(outbox.masterData, log);
        const before = sim.requests.length;
        const counts = await cache.refresh(client);
        assert.ok(counts.products! > PRODUCTS, JSON.stringify(counts));
        assert.equal(cache.product('P-24999')?.name, 'Part 24999');
        assert.equal(cache.product('SHARED-1')?.name, 'Shared part', 'a product of no company is everyone’s');
        assert.equal(cache.product('OTHER-1'), undefined, "another company's product is not the plant's");
        assert.equal(cache.workcenter('OTH1'), undefined, "another company's work center is not the plant's");
        assert.ok(cache.workcenter('ASM1'), 'the main company’s work center is there');
        const calls = sim.requests.slice(before).filter((r) => r.model !== undefined);
        const productPages = calls.filter((r) => r.model === 'product.product' && r.method === 'search_read');
        assert.equal(productPages.length, Math.floor(counts.products! / 2000) + 1, 'one call per page of 2000');
        for (const r of calls) assert.deepEqual(r.context?.allowed_company_ids, [main], `${r.model}.${r.method} carries the company`);
        // Without the domain, the company rule alone keeps the other company out (what real Odoo does).
        const seen = await client.call<Array<{ id: number }>>('product.product', 'search_read', {
          kwargs: { domain: [['default_code', '=', 'OTHER-1']], fields: ['id'] },
        });
        assert.equal(seen.length, 0);
        const theirs = await client.call<Array<{ id: number }>>('product.product', 'search_read', {
          kwargs: { domain: [['default_code', '=', 'OTHER-1']], fields: ['id'] },
          context: { allowed_company_ids: [other] },
        });
        assert.equal(theirs.length, 1, 'a call may still name another company of the user');
      } finally {
        await outbox.close();
        await client.close();
        await sim.close();
      }
    });

    it('refuses a company the agent’s user does not belong to: at connect by name, and in a call by id (AccessError)', async () => {
      const sim = await startOdooSim({ version });
      const notMine = sim.state.create('res.company', { name: 'Not Mine' });
      const byName = clientFor(sim, { company: 'Not Mine' });
      const numeric = clientFor(sim);
      try {
        await assert.rejects(byName.connect(), (err: unknown) => err instanceof OdooError && err.code === 'ODOO_CONFIG' && /Not Mine/.test(err.message));
        await assert.rejects(
          numeric.call('product.product', 'search_read', { kwargs: { domain: [], fields: ['id'] }, context: { allowed_company_ids: [notMine] } }),
          (err: unknown) => err instanceof OdooError && err.action === 'stop' && /unauthorized or invalid companies/.test(err.message),
        );
      } finally {
        await byName.close();
        await numeric.close();
        await sim.close();
      }
    });
  });
}
