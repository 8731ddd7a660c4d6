import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { CLOSED_PERIOD } from '../../agent/buffer/outbox';
import { parseConfigText } from '../../agent/config/load';
import { startHttp, type HttpHandle } from '../../agent/http/server';
import { addUser } from '../../agent/http/users';
import type { CanonicalEvent } from '../../agent/model/event';
import { createOdooClient } from '../../agent/odoo/client';
import { odooConfigSchema } from '../../agent/odoo/config';
import { startAgent, type RunningAgent } from '../../agent/runtime/agent';
import { closedPeriodHold, closedUntil, firstOpenTime, lockFieldsFor, postingDay } from '../../agent/sync/closed-period';
import { accountingDateContext } from '../../agent/sync/operations/plant-time';
import { effectiveTime } from '../../agent/sync/operations/effective-time';
import { Browser } from '../http/helpers';
import { until } from '../helpers/until';
import { startOdooSim, type OdooSim } from '../odoo-sim';

const DAY = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * An agent config against the simulator with its company locked: the first
 * master data pull only (a scheduled pull mid-test would see a lock date a
 * test moves), and events weeks old believable (they are the point here).
 */
async function lockedSim(version: 18 | 19, lockedUntil: string, keyVar: string): Promise<OdooSim> {
  const sim = await startOdooSim({ version, modules: ['stock_account'] });
  sim.state.write('res.company', [sim.state.ref('base.main_company')], { fiscalyear_lock_date: lockedUntil });
  process.env[keyVar] = sim.apiKey;
  return sim;
}

function agentYaml(sim: OdooSim, plant: string, dir: string, keyVar: string, extra: string[] = []): string {
  return [
    `plant: ${plant}`,
    `stateDir: ${JSON.stringify(dir)}`,
    ...extra,
    "schedules: { masterData: '0 0 1 1 *' }",
    'clocks: { eventTime: { maxAgeDays: 400 } }',
    'odoo:',
    `  url: ${sim.url}`,
    `  database: ${sim.db}`,
    `  username: ${sim.login}`,
    `  apiKey: \${env:${keyVar}}`,
    '',
  ].join('\n');
}

describe('closed periods: the pure parts', () => {
  it('reads the lock dates that close a period per Odoo version (the field names differ)', () => {
    assert.deepEqual(lockFieldsFor(17), ['period_lock_date', 'fiscalyear_lock_date']);
    assert.deepEqual(lockFieldsFor(18), ['fiscalyear_lock_date', 'hard_lock_date']);
    assert.ok(lockFieldsFor(19).includes('tax_lock_date'), "19's transfer dates may not lie before any lock date");
    // 17's "Journals Entries Lock Date" closes the period for a bot that is no adviser.
    assert.equal(closedUntil({ period_lock_date: '2026-03-31', fiscalyear_lock_date: '2025-12-31', tax_lock_date: '2026-06-30' }, 17), '2026-03-31');
    // 18: the tax lock date does not close stock entries (no taxes on them); 19: it closes a transfer's dates.
    assert.equal(closedUntil({ fiscalyear_lock_date: '2026-01-31', tax_lock_date: '2026-06-30' }, 18), '2026-01-31');
    assert.equal(closedUntil({ fiscalyear_lock_date: '2026-01-31', tax_lock_date: '2026-06-30' }, 19), '2026-06-30');
    assert.equal(closedUntil({}, 19), null);
  });

  it('holds a posting event dated on or before the last locked day; the time a person chose counts instead of occurredAt', () => {
    const count = { type: 'inventory.moved' as const, event: { occurredAt: '2026-03-31T23:59:00Z' } as CanonicalEvent };
    assert.match(closedPeriodHold(count, '2026-03-31') ?? '', /closed period: dated 2026-03-31.*locked up to 2026-03-31.*first open date \(2026-04-01\)/);
    assert.equal(closedPeriodHold(count, '2026-03-30'), undefined);
    assert.equal(closedPeriodHold({ ...count, type: 'downtime.started' }, '2026-03-31'), undefined, 'no stock move, no accounting entry');
    const posted = { ...count, event: { ...count.event, writeAt: '2026-04-01T12:00:00.000Z' } };
    assert.equal(closedPeriodHold(posted, '2026-03-31'), undefined);
    assert.equal(effectiveTime(posted.event), '2026-04-01T12:00:00.000Z');
    assert.equal(effectiveTime(count.event), '2026-03-31T23:59:00Z');
  });

  it("the day compared with the lock: 17 and 18 the plant's day (the valuation entry's), 19 the UTC day (the transfer's datetime)", () => {
    const t = '2026-03-31T15:30:00Z'; // 00:30 on April 1st in Tokyo, 11:30 on March 31st in New York
    assert.equal(postingDay(t, 18, 'Asia/Tokyo'), '2026-04-01');
    assert.equal(postingDay(t, 17, 'Asia/Tokyo'), '2026-04-01');
    assert.equal(postingDay(t, 19, 'Asia/Tokyo'), '2026-03-31');
    assert.equal(postingDay('2026-04-01T02:00:00Z', 18, 'America/New_York'), '2026-03-31');
    assert.deepEqual(accountingDateContext(t, 'Asia/Tokyo'), { force_period_date: '2026-04-01' });
    assert.deepEqual(accountingDateContext('2026-04-01T02:00:00Z', 'America/New_York'), { force_period_date: '2026-03-31' });
    assert.deepEqual(accountingDateContext(t), { force_period_date: '2026-03-31' }, 'no time zone: UTC');
    const scrap = { type: 'scrap.reported' as const, event: { occurredAt: t } as CanonicalEvent };
    assert.equal(
      closedPeriodHold(scrap, '2026-03-31', (iso) => postingDay(iso, 18, 'Asia/Tokyo')),
      undefined,
    );
    assert.match(closedPeriodHold(scrap, '2026-03-31', (iso) => postingDay(iso, 19, 'Asia/Tokyo')) ?? '', /dated 2026-03-31/);
  });

  it('the first open date: noon UTC of the day after the lock, not later than now, refused before that day begins', () => {
    const now = Date.parse('2026-06-15T08:00:00Z');
    assert.equal(firstOpenTime('2026-03-31', now), '2026-04-01T12:00:00.000Z');
    assert.equal(firstOpenTime('2026-06-14', now), '2026-06-15T08:00:00.000Z');
    assert.throws(() => firstOpenTime('2026-06-15', now), /2026-06-16 has not begun yet/);
  });
});

describe('closed periods: an agent against the simulator (Odoo 19, stock_account)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'closed-period-'));
  const cli = resolve('bin/edge-agent.js');
  let sim: OdooSim;
  let agent: RunningAgent;
  let http: HttpHandle;
  let file: string;
  const now = Date.now();
  // Locked up to 40 days ago; events 50 days ago are in the locked period.
  const lockedUntil = day(now - 40 * DAY);
  const inLock = new Date(now - 50 * DAY).toISOString();
  let n = 0;
  const transfer = (occurredAt: string, key = 'WH-moves'): CanonicalEvent => ({
    id: `cp-transfer-${++n}`,
    type: 'inventory.moved',
    sequenceKey: key,
    occurredAt,
    receivedAt: new Date(now).toISOString(),
    source: 'scanner-1',
    payload: { kind: 'transfer', product: 'RM-SEAL', quantity: 2, fromLocation: 'WH/Stock', toLocation: 'LINE-1' },
  });
  const state = (id: string) => agent.outbox.get(id);

  before(async () => {
    sim = await lockedSim(19, lockedUntil, 'CLOSED_PERIOD_TEST_KEY');
    const yaml = agentYaml(sim, '{ id: closed_period }', dir, 'CLOSED_PERIOD_TEST_KEY', ['http: { port: 0, view: open }']);
    file = join(dir, 'agent.yaml');
    writeFileSync(file, yaml);
    const config = parseConfigText(yaml, file);
    agent = await startAgent(config, { withoutSources: true, log: pino({ level: 'silent' }) });
    await addUser(config.http.usersFile, 'sam', 'supervisor', 'supervisor-pass-1');
    http = await startHttp(agent, { port: 0, host: '127.0.0.1' });
    await until(() => agent.worker!.status().circuit === 'closed', 'connected to Odoo');
    // The agent's own first master data pull (as soon as Odoo answers) reads the company's lock dates.
    await until(() => agent.masterData.filled, 'the first master data pull');
    assert.equal(agent.masterData.closedUntil(), lockedUntil);
    assert.deepEqual(
      agent.masterData.lockDates().map((c) => c.locks),
      [{ fiscalyear_lock_date: lockedUntil }],
    );
  });

  after(async () => {
    await http?.close();
    await agent?.stop();
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds an event dated inside the locked period before sending it, in a state of its own; other types and open dates go on', async () => {
    const held = transfer(inLock);
    const open = transfer(new Date(now - DAY).toISOString(), 'WH-other');
    const stop: CanonicalEvent = {
      id: 'cp-stop-1',
      type: 'downtime.started',
      sequenceKey: 'ASM1',
      occurredAt: inLock,
      receivedAt: new Date(now).toISOString(),
      source: 'plc',
      payload: { downtimeId: 'cp-stop-1', workcenter: 'Assembly Line 1', reason: 'Setup and Adjustments' },
    };
    const before = sim.calls({ model: 'stock.picking', method: 'load' });
    await agent.outbox.enqueue([held, open, stop]);
    agent.worker!.wake();
    await until(() => state(held.id)?.state === 'parked' && state(open.id)?.state === 'done' && state(stop.id)?.state === 'done', 'held, sent, sent').catch(
      (err: unknown) => {
        throw new Error(`${String(err)}: ${JSON.stringify([held, open, stop].map((e) => [state(e.id)?.state, state(e.id)?.error]))}`);
      },
    );
    const r = state(held.id)!;
    assert.equal(r.errorCode, CLOSED_PERIOD);
    assert.match(r.error!, new RegExp(`locked up to ${lockedUntil}`));
    assert.equal(sim.calls({ model: 'stock.picking', method: 'load' }), before + 1, 'only the open-dated transfer reached Odoo');
  });

  it("Odoo's own lock-date refusal (the lock moved after the last pull) lands in the same state", async () => {
    // Odoo locks 10 more days; the agent has not pulled it yet.
    const later = day(now - 30 * DAY);
    sim.state.write('res.company', [sim.state.ref('base.main_company')], { fiscalyear_lock_date: later });
    const e = transfer(new Date(now - 35 * DAY).toISOString(), 'WH-refused');
    await agent.outbox.enqueue([e]);
    agent.worker!.wake();
    await until(() => state(e.id)?.state === 'parked', 'parked by Odoo');
    const r = state(e.id)!;
    assert.equal(r.errorCode, CLOSED_PERIOD);
    assert.match(r.error!, /You cannot modify the scheduled date of this operation because it falls within a locked fiscal period\./);
    assert.equal(r.attempts, 1, 'it was sent');
  });

  it('`outbox list --state closed-period` shows them; the page shows them in their own section with "post at first open date"', async () => {
    const child = spawn(process.execPath, [cli, 'outbox', 'list', '--state', 'closed-period', '--config', file], {
      env: { ...process.env, EDGE_AGENT_LOG_LEVEL: 'silent' },
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0, out);
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 2, out);
    for (const line of lines) assert.match(line, /^cp-transfer-\d+ {2}closed-period {2}inventory\.moved/);
    const page = await new Browser(http.url).text('/');
    assert.match(page, /<section id="closed-period"><h2>Closed period <span class="count alarm">2<\/span>/);
    assert.match(page, new RegExp(`locked \\(up to <b>${lockedUntil}</b>\\)`));
  });

  it('post at first open date (page): audited, occurredAt kept, Odoo gets the first open date', async () => {
    // The agent pulls the moved lock date; the refused event is posted after it.
    const lock = day(now - 30 * DAY);
    const client = createOdooClient(
      odooConfigSchema.parse({ url: sim.url, database: sim.db, apiKey: '${env:CLOSED_PERIOD_TEST_KEY}' }),
      pino({ level: 'silent' }),
    );
    await client.connect();
    await agent.masterData.refresh(client);
    await client.close();
    assert.equal(agent.masterData.closedUntil(), lock);
    const id = agent.outbox.list({ state: 'parked', sequenceKey: 'WH-refused' })[0]!.id;
    const occurredAt = state(id)!.event.occurredAt;
    const b = new Browser(http.url);
    assert.equal((await b.login('sam', 'supervisor-pass-1')).status, 303);
    const page = await b.text('/');
    const openDay = day(Date.parse(`${lock}T00:00:00Z`) + DAY);
    assert.match(page, new RegExp(`Post at first open date \\(${openDay}\\)`));
    const res = await b.request('/events/post-open', { form: { id, csrf: await b.csrf() } });
    assert.equal(res.status, 303);
    await until(() => state(id)?.state === 'done', 'posted');
    const r = state(id)!;
    assert.equal(r.event.occurredAt, occurredAt, 'the plant time stays in the event');
    assert.equal(r.event.writeAt, `${openDay}T12:00:00.000Z`);
    const picking = sim.state.records('stock.picking').find((p) => p.id === r.odooIds!['stock.picking']);
    assert.equal(picking?.scheduled_date, `${openDay} 12:00:00`, 'what Odoo gets: the first open date');
    assert.equal(picking?.state, 'done');
    const audit = agent.outbox.listAudit(10).find((a) => a.action === 'post-at-open-date');
    assert.deepEqual(audit?.detail, { ids: [id], writeAt: `${openDay}T12:00:00.000Z`, occurredAt: [occurredAt] });
    assert.equal(audit?.actor, 'web:sam');
  });

  it('post at first open date (CLI) and skip (page)', async () => {
    const [held] = agent.outbox.list({ state: 'parked', errorCode: CLOSED_PERIOD });
    assert.ok(held);
    const child = spawn(process.execPath, [cli, 'outbox', 'post-at-open-date', held.id, '--config', file, '--actor', 'cli:test'], {
      env: { ...process.env, EDGE_AGENT_LOG_LEVEL: 'silent' },
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0, out);
    assert.match(out, new RegExp(`^${held.id}: written to Odoo at \\d{4}-\\d\\d-\\d\\dT12:00:00\\.000Z \\(occurred ${held.event.occurredAt}\\)$`, 'm'));
    agent.worker!.wake();
    await until(() => state(held.id)?.state === 'done', 'posted from the CLI', 20_000);
    assert.ok(agent.outbox.listAudit(10).some((a) => a.action === 'post-at-open-date' && a.actor === 'cli:test'));

    // A scrap dated in the locked period: held; a supervisor skips it; Odoo never sees it.
    const scraps = sim.calls({ model: 'stock.scrap' });
    const scrap: CanonicalEvent = {
      id: 'cp-scrap-1',
      type: 'scrap.reported',
      sequenceKey: 'scrap',
      occurredAt: inLock,
      receivedAt: new Date(now).toISOString(),
      source: 'scanner-1',
      payload: { product: 'RM-SEAL', quantity: 1 },
    };
    await agent.outbox.enqueue([scrap]);
    agent.worker!.wake();
    await until(() => state(scrap.id)?.errorCode === CLOSED_PERIOD, 'scrap held');
    const b = new Browser(http.url);
    await b.login('sam', 'supervisor-pass-1');
    const res = await b.request('/events/skip', { form: { id: scrap.id, reason: 'counted in the stock take', csrf: await b.csrf() } });
    assert.equal(res.status, 303);
    assert.equal(state(scrap.id)?.state, 'skipped');
    assert.equal(sim.calls({ model: 'stock.scrap' }), scraps, 'never sent');
  });

  it('post at first open date refuses an event that is not held for a closed period', () => {
    const done = agent.outbox.list({ state: 'done', limit: 1 })[0]!;
    assert.deepEqual(agent.actions.postAtOpenDate!({ ids: [done.id] }, 'test'), []);
  });
});

describe('closed periods: a plant in Asia/Tokyo against the simulator (Odoo 18, stock_account)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'closed-period-tz-'));
  let sim: OdooSim;
  let agent: RunningAgent;
  const now = Date.now();
  // Locked up to a day 40 days back; Tokyo is 9 hours ahead of UTC all year.
  const lockedUntil = day(now - 40 * DAY);
  const lockStart = Date.parse(`${lockedUntil}T00:00:00Z`);
  const scrap = (id: string, occurredAt: string): CanonicalEvent => ({
    id,
    type: 'scrap.reported',
    sequenceKey: `scrap-${id}`,
    occurredAt,
    receivedAt: new Date(now).toISOString(),
    source: 'scanner-1',
    payload: { product: 'RM-SEAL', quantity: 1 },
  });

  before(async () => {
    sim = await lockedSim(18, lockedUntil, 'CLOSED_PERIOD_TZ_KEY');
    const yaml = agentYaml(sim, '{ id: closed_period_tz, timezone: Asia/Tokyo }', dir, 'CLOSED_PERIOD_TZ_KEY');
    const config = parseConfigText(yaml, join(dir, 'agent.yaml'));
    agent = await startAgent(config, { withoutSources: true, log: pino({ level: 'silent' }) });
    await until(() => agent.masterData.filled && agent.worker!.status().circuit === 'closed', 'connected, master data pulled');
    assert.equal(agent.masterData.closedUntil(), lockedUntil);
  });

  after(async () => {
    await agent?.stop();
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("dates the valuation entry on the plant's day and holds by that day, not by the UTC day", async () => {
    // 23:30 in Tokyo on the last locked day (14:30 UTC): held. 00:30 in Tokyo the day after (15:30 UTC, the same UTC day): sent.
    const late = scrap('tz-scrap-locked', new Date(lockStart + 14.5 * 3_600_000).toISOString());
    const early = scrap('tz-scrap-open', new Date(lockStart + 15.5 * 3_600_000).toISOString());
    await agent.outbox.enqueue([late, early]);
    agent.worker!.wake();
    await until(() => agent.outbox.get(late.id)?.state === 'parked' && agent.outbox.get(early.id)?.state === 'done', 'held, sent').catch((err: unknown) => {
      throw new Error(`${String(err)}: ${JSON.stringify([late, early].map((e) => [agent.outbox.get(e.id)?.state, agent.outbox.get(e.id)?.error]))}`);
    });
    const held = agent.outbox.get(late.id)!;
    assert.equal(held.errorCode, CLOSED_PERIOD);
    assert.match(held.error!, new RegExp(`dated ${lockedUntil}, and Odoo's accounting is locked up to ${lockedUntil}`));
    const validations = sim.requests.filter((r) => r.model === 'stock.scrap' && r.method === 'action_validate');
    assert.equal(validations.length, 1, 'only the open-dated scrap reached Odoo');
    assert.equal(validations[0]!.context?.force_period_date, day(lockStart + DAY), "Tokyo's day, the day after the UTC day");
  });
});
