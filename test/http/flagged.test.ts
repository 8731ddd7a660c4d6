import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CanonicalEvent } from '../../agent/model/event';
import { EdgeCheck } from '../../agent/sync/edge-check';
import { fillMasterData } from '../helpers/master-data';
import { Browser, PASSWORDS, startSite, type TestSite } from './helpers';

function stop(id: string, workcenter: string): CanonicalEvent {
  const t = new Date(Date.now() - 5 * 60_000).toISOString();
  return {
    id,
    type: 'downtime.started',
    sequenceKey: id,
    occurredAt: t,
    receivedAt: t,
    source: 'mes',
    payload: { downtimeId: id, workcenter, reason: 'Material Availability' },
  };
}

describe('status page: events flagged at the edge', () => {
  let site: TestSite;
  before(async () => {
    site = await startSite({ view: 'open' });
    const outbox = site.agent.outbox;
    fillMasterData(outbox);
    site.agent.masterData.reload();
    outbox.setEventCheck(new EdgeCheck(site.agent.masterData, { skippableTypes: [] }));
    await outbox.enqueue([stop('flag-1', 'Asembly Line 1'), stop('flag-2', 'Line 9')]);
  });
  after(() => site.close());

  it('shows them with the reason, and a supervisor retries one and skips the other', async () => {
    const b = new Browser(site.url);
    await b.login('sam', PASSWORDS.supervisor);
    const page = await b.text('/');
    assert.match(page, /<section id="flagged"><h2>Flagged at the edge <span class="count warn">2<\/span>/);
    assert.match(page, /work center &quot;Asembly Line 1&quot; is not known in Odoo/);
    assert.match(page, /going by the master data the agent pulled from Odoo \(last pulled \d\d:\d\d:\d\d, /);
    assert.match(page, /2 were flagged at the edge: Odoo would refuse them/);
    const csrf = await b.csrf();
    assert.equal((await b.request('/events/retry', { form: { id: 'flag-1', csrf } })).status, 303);
    assert.equal(site.agent.outbox.get('flag-1')?.state, 'pending');
    assert.equal((await b.request('/events/skip', { form: { id: 'flag-2', csrf, reason: 'no such line here' } })).status, 303);
    assert.equal(site.agent.outbox.get('flag-2')?.state, 'skipped');
    assert.doesNotMatch(await b.text('/'), /id="flagged"/);
  });
});
