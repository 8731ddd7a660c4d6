/**
 * The Odoo dry run (`check-config --odoo`) against the simulator as Odoo 17,
 * 18 and 19 with the agent user of the real servers (Manufacturing / User and
 * Inventory / User), and against a real Odoo when ODOO_URL, ODOO_DB, ODOO_USER
 * and ODOO_API_KEY are set (`set -a; . /work/odoo-env/19.env; set +a`); the
 * real run prints what Odoo answered.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseConfigSource, placeOf, type LoadedConfig } from '../../agent/config/load';
import { createOdooClient } from '../../agent/odoo/client';
import { checkAgainstOdoo, describeClock, type DryRunReport, type Finding } from '../../agent/odoo/dry-run';
import { registerBuiltins } from '../../agent/runtime/builtins';
import { LINE_SOURCE, odooSection } from '../helpers/dry-run-config';
import { PLAIN_BOT_GROUPS, startOdooSim, type OdooSim } from '../odoo-sim';
import { realOdooConfig, silentLogger } from './helpers';

registerBuiltins();

/** A config whose names are partly wrong; `odoo` and the right names come from the caller. */
function configText(odoo: { url: string; database: string; username: string }, names: { workcenter: string; loss: string }): string {
  return `plant:
  id: dry
stateDir: /tmp/edge-dry-run-test
${odooSection(odoo)}${LINE_SOURCE}rules:
  - kind: state
    name: press-state
    source: line
    tag: press/state
    workcenter: Edge Dry Run Nowhere
    runningCodes: [1]
    codes:
      "12":
        reason: Equipmnt Failure
      "13":
        reason: ${names.loss}
  - kind: counter
    name: press-count
    source: line
    tag: press/count
    workcenter: ${names.workcenter}
  - kind: template
    name: counts
    source: line
    tag: stock/count
    type: inventory.moved
    payload:
      kind: count
      product: "{{value.code}}"
      quantity: "{{value.qty}}"
      location: "{{value.where}}"
  - kind: template
    name: mes-stops
    source: line
    tag: mes/stops
    type: downtime.ended
    maps:
      lossReasons:
        E1: ${names.loss}
        E2: Equipmnt Failur
    payload:
      downtimeId: "= value.id"
      workcenter: "= value.machine"
      reason: "= $lookup($maps.lossReasons, value.code)"
sync:
  mappings:
    - eventType: scrap.reported
      model: mrp.workcenter
      fields:
        name: "{{payload.product}}"
        x_edge_note: "{{payload.reason}}"
`;
}

/** The 1-based line of the first line of `text` that holds `needle`. */
function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, `no line with ${needle}`);
  return i + 1;
}

function findingAt(loaded: LoadedConfig, findings: Finding[], path: string): Finding[] {
  return findings.filter((f) => placeOf(loaded, f.path).endsWith(`: ${path}`));
}

interface Run {
  text: string;
  loaded: LoadedConfig;
  report: DryRunReport;
}

async function dryRun(odoo: { url: string; database: string; username: string; apiKey: string }, names: { workcenter: string; loss: string }): Promise<Run> {
  process.env.EDGE_DRY_RUN_KEY = odoo.apiKey;
  const text = configText(odoo, names);
  const loaded = parseConfigSource(text, 'plant.yaml');
  const client = createOdooClient(loaded.config.odoo!, silentLogger);
  try {
    return { text, loaded, report: await checkAgainstOdoo(loaded.config, client) };
  } finally {
    await client.close();
    delete process.env.EDGE_DRY_RUN_KEY;
  }
}

/** What every Odoo must answer for this config, whatever its data. */
function commonChecks(run: Run, expect: { major: number; correctWorkcenter: string; correctLoss: string; stockManager?: boolean }): void {
  // stockManager: whether the user is an Inventory administrator (undefined: not known, the 17 group check is left out).
  const { text, loaded, report } = run;
  const at = (path: string) => findingAt(loaded, report.findings, path);
  const wc = at('rules[0].workcenter');
  assert.equal(wc.length, 1, 'the unknown work center is reported');
  assert.equal(wc[0]!.severity, 'error');
  assert.match(wc[0]!.message, /no work center "Edge Dry Run Nowhere" in Odoo/);
  assert.equal(loaded.position(wc[0]!.path).line, lineOf(text, 'workcenter: Edge Dry Run Nowhere'));

  const loss = at('rules[0].codes.12.reason');
  assert.equal(loss.length, 1, 'the misspelled loss reason is reported');
  assert.match(loss[0]!.message, /no loss reason "Equipmnt Failure" in Odoo.*closest: "Equipment Failure"/);
  assert.equal(loaded.position(loss[0]!.path).line, lineOf(text, 'reason: Equipmnt Failure'));

  assert.deepEqual(at('rules[0].codes.13.reason'), [], `${expect.correctLoss} is there`);

  // A value map's targets that land in a named field are names Odoo must have, each at its line.
  const mapped = at('rules[3].maps.lossReasons.E2');
  assert.equal(mapped.length, 1, `the misspelled mapped loss reason is reported: ${JSON.stringify(report.findings)}`);
  assert.match(mapped[0]!.message, /no loss reason "Equipmnt Failur" in Odoo/);
  assert.equal(loaded.position(mapped[0]!.path).line, lineOf(text, 'E2: Equipmnt Failur'));
  assert.deepEqual(at('rules[3].maps.lossReasons.E1'), [], `${expect.correctLoss} in the map is there`);
  assert.deepEqual(at('rules[1].workcenter'), [], `${expect.correctWorkcenter} is there`);
  assert.deepEqual(at('rules[0].reason'), [], 'the default loss reason (Equipment Failure) is there');

  const rights = at('sync.mappings[0]');
  assert.equal(rights.length, 1, `a missing right is reported: ${JSON.stringify(report.findings)}`);
  assert.match(rights[0]!.message, /may not create or write mrp\.workcenter records/);
  const field = at('sync.mappings[0].fields.x_edge_note');
  assert.equal(field.length, 1);
  assert.match(field[0]!.message, /mrp\.workcenter has no field x_edge_note/);

  const group = report.findings.filter((f) => f.message.includes('stock.group_stock_manager'));
  if (expect.major >= 18) assert.deepEqual(group, [], 'Odoo 18 and 19 apply counts for stock users');
  else if (expect.stockManager) assert.deepEqual(group, [], 'the user is a stock manager: Odoo 17 lets it apply counts');
  else if (expect.stockManager === false) {
    assert.equal(group.length, 1, 'Odoo 17 applies counts for stock managers only');
    assert.equal(placeOf(loaded, group[0]!.path), `plant.yaml:${lineOf(text, 'kind: template')}:5: rules[2]`);
  }
  assert.ok(report.apps.includes('mrp') && report.apps.includes('stock'), `apps ${report.apps.join(', ')}`);
  assert.ok(report.clock, 'the clock was measured');
}

describe('Odoo dry run against the simulator', () => {
  for (const version of [17, 18, 19] as const) {
    describe(`as Odoo ${version}`, () => {
      let sim: OdooSim;
      before(async () => {
        sim = await startOdooSim({ version, botGroups: PLAIN_BOT_GROUPS });
      });
      after(() => sim.close());

      it('names a misspelled work center and loss reason (also one a value map sends) at their lines, and the rights the user lacks', async () => {
        const run = await dryRun(
          { url: sim.url, database: sim.db, username: sim.login, apiKey: sim.apiKey },
          { workcenter: 'CNC1', loss: 'Setup and Adjustments' },
        );
        // The simulator's bot has the plain groups: no Inventory administrator.
        commonChecks(run, { major: version, correctWorkcenter: 'CNC1 (a code)', correctLoss: 'Setup and Adjustments', stockManager: false });
        assert.equal(run.report.server.protocol, version >= 19 ? 'json2' : 'jsonrpc');
        assert.equal(run.report.findings.length, version < 18 ? 6 : 5, JSON.stringify(run.report.findings, null, 2));
      });

      it('asks one search_read per model for all its names, and each right once', async () => {
        const before = { wc: sim.calls({ model: 'mrp.workcenter', method: 'search_read' }), rights: rightCalls(sim) };
        const run = await dryRun(
          { url: sim.url, database: sim.db, username: sim.login, apiKey: sim.apiKey },
          { workcenter: 'Assembly Line 1', loss: 'Setup and Adjustments' },
        );
        // Two work center names: one lookup, and one read of the names for hints (one was missing).
        assert.equal(sim.calls({ model: 'mrp.workcenter', method: 'search_read' }) - before.wc, 2);
        assert.equal(rightCalls(sim) - before.rights, run.report.asked.rights);
      });
    });
  }

  it("warns when Odoo's clock is far from the gateway's", async () => {
    const sim = await startOdooSim({ version: 19, seed: false, clock: () => new Date(Date.now() + 42_000) });
    try {
      const run = await dryRun({ url: sim.url, database: sim.db, username: sim.login, apiKey: sim.apiKey }, { workcenter: 'x', loss: 'y' });
      const c = run.report.clock!;
      assert.ok(Math.abs(c.offsetMs - 42_000) <= c.uncertaintyMs && c.uncertaintyMs < 1100, JSON.stringify(c));
      const warn = run.report.findings.filter((f) => f.path.join('.') === 'odoo.url');
      assert.equal(warn.length, 1);
      assert.equal(warn[0]!.severity, 'warning');
      assert.match(warn[0]!.message, /Odoo's clock is 4\d\.\d s ahead of this gateway's/);
    } finally {
      await sim.close();
    }
  });

  it('says so when Odoo lacks an app the config needs', async () => {
    const sim = await startOdooSim({ version: 18, withoutModules: ['maintenance'] });
    try {
      process.env.EDGE_DRY_RUN_KEY = sim.apiKey;
      const text = `plant:\n  id: dry\nodoo:\n  url: ${sim.url}\n  database: ${sim.db}\n  username: ${sim.login}\n  apiKey: \${env:EDGE_DRY_RUN_KEY}\nsources:\n  - { type: mqtt, name: line, url: "mqtt://127.0.0.1:1883", subscriptions: [{ topic: "#" }] }\nrules:\n  - { kind: threshold, name: oil, source: line, tag: oil, equipment: CNC Mill M-200, above: 80 }\n`;
      const loaded = parseConfigSource(text, 'plant.yaml');
      const client = createOdooClient(loaded.config.odoo!, silentLogger);
      const report = await checkAgainstOdoo(loaded.config, client).finally(() => client.close());
      const messages = report.findings.map((f) => `${placeOf(loaded, f.path)}: ${f.message}`);
      assert.ok(
        messages.some((m) => /rules\[0\]: sends maintenance.requested, but Odoo has no Maintenance app/.test(m)),
        messages.join('\n'),
      );
      assert.ok(
        messages.some((m) => /rules\[0\]\.equipment: no equipment "CNC Mill M-200": Odoo has no Maintenance app/.test(m)),
        messages.join('\n'),
      );
    } finally {
      delete process.env.EDGE_DRY_RUN_KEY;
      await sim.close();
    }
  });
});

function rightCalls(sim: OdooSim): number {
  return sim.calls({ method: 'has_access' }) + sim.calls({ method: 'check_access_rights' });
}

/** Whether the real user is an Inventory administrator, as the administrator reads its groups (undefined: no administrator key). */
async function isStockManager(uid: number): Promise<boolean | undefined> {
  const env = process.env;
  const base = realOdooConfig();
  if (!env.ODOO_ADMIN_API_KEY || !base) return undefined;
  const admin = createOdooClient({ ...base, username: env.ODOO_ADMIN_USER ?? 'admin', apiKey: env.ODOO_ADMIN_API_KEY }, silentLogger);
  try {
    const [group] = await admin.call<Array<{ res_id: number }>>('ir.model.data', 'search_read', {
      kwargs: {
        domain: [
          ['module', '=', 'stock'],
          ['name', '=', 'group_stock_manager'],
        ],
        fields: ['res_id'],
      },
    });
    const field = (await admin.connect()).major >= 19 ? 'group_ids' : 'groups_id';
    const users = await admin.call<Array<{ id: number }>>('res.users', 'search_read', {
      kwargs: {
        domain: [
          ['id', '=', uid],
          [field, 'in', [group!.res_id]],
        ],
        fields: ['id'],
      },
    });
    return users.length === 1;
  } finally {
    await admin.close();
  }
}

function realOdooSkip(): string | undefined {
  const missing = ['ODOO_URL', 'ODOO_DB', 'ODOO_USER', 'ODOO_API_KEY'].filter((n) => !process.env[n]);
  return missing.length > 0 ? `real Odoo not configured (${missing.join(', ')} unset)` : undefined;
}

describe('Odoo dry run against a real Odoo (ODOO_URL)', { skip: realOdooSkip() }, () => {
  it('finds what the simulator finds, with the rights and groups of the real user', async (t) => {
    const env = process.env;
    // Names every Odoo with Manufacturing has (its own data, in English); the work center is found by what Odoo holds.
    const run = await dryRun(
      { url: env.ODOO_URL!.replace(/\/+$/, ''), database: env.ODOO_DB!, username: env.ODOO_USER!, apiKey: env.ODOO_API_KEY! },
      { workcenter: await someWorkcenter(), loss: 'Setup and Adjustments' },
    );
    const r = run.report;
    t.diagnostic(`Odoo ${r.server.serverVersion} (${r.server.protocol}) as ${r.user.login ?? r.user.uid}; apps ${r.apps.join(', ')}`);
    t.diagnostic(r.clock ? describeClock(r.clock.offsetMs, r.clock.uncertaintyMs) : 'no Date header');
    for (const f of r.findings) t.diagnostic(`${placeOf(run.loaded, f.path)}: ${f.severity}: ${f.message}`);
    if (env.ODOO_VERSION) assert.equal(r.server.major, Number(env.ODOO_VERSION));
    commonChecks(run, {
      major: r.server.major,
      correctWorkcenter: 'an existing work center',
      correctLoss: 'Setup and Adjustments',
      stockManager: await isStockManager(r.user.uid),
    });
  });
});

/** The name of a work center the real Odoo has (read with the agent's key). */
async function someWorkcenter(): Promise<string> {
  const env = process.env;
  const client = createOdooClient(
    {
      url: env.ODOO_URL!.replace(/\/+$/, ''),
      database: env.ODOO_DB!,
      protocol: 'auto',
      version: 'auto',
      username: env.ODOO_USER,
      apiKey: env.ODOO_API_KEY!,
      tls: { rejectUnauthorized: true },
      timeouts: { connectMs: 5000, headersMs: 30_000, bodyMs: 30_000 },
      keepAliveMs: 4000,
      maxConnections: 2,
    },
    silentLogger,
  );
  try {
    const rows = await client.call<Array<{ name: string }>>('mrp.workcenter', 'search_read', {
      kwargs: { domain: [], fields: ['name'], limit: 1, order: 'id' },
    });
    assert.ok(rows[0], 'the real Odoo has a work center');
    return rows[0].name;
  } finally {
    await client.close();
  }
}
