import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import type { CanonicalEvent } from '../../agent/model/event';
import { EdgeCheck } from '../../agent/sync/edge-check';
import { MasterDataCache } from '../../agent/sync/master-data';
import { fillMasterData } from '../helpers/master-data';

let n = 0;
function downtime(workcenter: string, key = 'wc'): CanonicalEvent {
  n++;
  const t = new Date(Date.UTC(2026, 11, 7, 6, 0, n)).toISOString();
  return {
    id: `dt-${n}`,
    type: 'downtime.started',
    sequenceKey: key,
    occurredAt: t,
    receivedAt: t,
    source: 'test',
    payload: { downtimeId: `d-${n}`, workcenter, reason: 'Material Availability' },
  };
}

function maintenance(equipment: string, key = 'maint'): CanonicalEvent {
  n++;
  const t = new Date(Date.UTC(2026, 11, 7, 6, 0, n)).toISOString();
  return {
    id: `mr-${n}`,
    type: 'maintenance.requested',
    sequenceKey: key,
    occurredAt: t,
    receivedAt: t,
    source: 'test',
    payload: { equipment, name: 'Leak', maintenanceType: 'corrective', priority: '1' },
  };
}

/** An outbox checking against the helper's master data (or none yet), skippable maintenance requests as the default config. */
function checked(opts: { filled?: boolean; flows?: ConstructorParameters<typeof SqliteOutbox>[0]['flows'] } = {}) {
  const outbox = new SqliteOutbox({ path: ':memory:', flows: opts.flows });
  if (opts.filled ?? true) fillMasterData(outbox);
  const cache = new MasterDataCache(outbox.masterData);
  outbox.setEventCheck(new EdgeCheck(cache, { skippableTypes: ['maintenance.requested'] }));
  return { outbox, cache };
}

const ids = (rs: Array<{ id: string }>) => rs.map((r) => r.id);

describe('edge check in the outbox: flagged events', () => {
  it('flags what Odoo would refuse as it is queued, with the reason, and holds its key back until a person retries', async () => {
    const { outbox } = checked();
    const bad = downtime('Asembly Line 1');
    const good = downtime('ASM1');
    const other = downtime('TST1', 'wc2');
    const r = await outbox.enqueue([bad, good, other]);
    assert.equal(r.inserted, 3);
    const c = outbox.counts();
    assert.equal(c.flagged, 1);
    assert.equal(c.pending, 2);
    assert.equal(c.unfinished, 3, 'a flagged event counts against the bound');
    const [flagged] = outbox.list({ state: 'flagged' });
    assert.equal(flagged?.id, bad.id);
    assert.equal(flagged?.error, 'work center "Asembly Line 1" is not known in Odoo');
    assert.equal(flagged?.errorCode, 'EDGE_UNKNOWN_WORKCENTER');
    assert.equal(flagged?.attempts, 0, 'never sent');
    assert.deepEqual(ids(outbox.claim(10)), [other.id], 'the later event of its key waits behind it');
    assert.equal(outbox.retry({ ids: [bad.id] }, 'tester'), 1);
    assert.deepEqual(ids(outbox.claim(10)), [bad.id], 'sent as it is: Odoo decides');
    assert.equal(outbox.counts().flagged, 0);
    await outbox.close();
  });

  it('a flagged event of a skippable type does not hold its key back', async () => {
    const { outbox } = checked();
    const bad = maintenance('Press 9');
    const good = maintenance('Press 1');
    await outbox.enqueue([bad, good]);
    assert.deepEqual(ids(outbox.list({ state: 'flagged' })), [bad.id]);
    assert.deepEqual(ids(outbox.claim(10)), [good.id]);
    await outbox.close();
  });

  it('a person skips or edits a flagged event like a parked one; an edit goes to Odoo as edited', async () => {
    const { outbox } = checked();
    const a = downtime('WC-9');
    const b = downtime('WC-8', 'wc2');
    await outbox.enqueue([a, b]);
    assert.equal(outbox.skip({ ids: [a.id] }, 'tester', 'no such machine'), 1);
    assert.equal(outbox.get(a.id)?.state, 'skipped');
    const edited = outbox.edit(b.id, 'workcenter', 'TST1', 'tester');
    assert.equal(edited.state, 'pending');
    assert.deepEqual(ids(outbox.claim(10)), [b.id]);
    assert.equal(outbox.counts().flagged, 0);
    await outbox.close();
  });

  it('a duplicate of a flagged event is a duplicate, counted once', async () => {
    const { outbox } = checked();
    const bad = downtime('WC-9');
    await outbox.enqueue([bad]);
    const r = await outbox.enqueue([bad]);
    assert.equal(r.duplicates, 1);
    assert.equal(outbox.counts().flagged, 1);
    await outbox.close();
  });

  it('before the first pull events queue unchecked; when master data arrives, the pending ones are checked in place, and what was claimed meanwhile is not', async () => {
    const { outbox, cache } = checked({ filled: false });
    const sent = downtime('WC-9', 'a');
    const a1 = downtime('ASM1', 'b');
    const a2 = downtime('Asembly Line 1', 'b');
    const a3 = downtime('ASM1', 'b');
    await outbox.enqueue([sent, a1, a2, a3]);
    assert.equal(outbox.counts().pending, 4, 'nothing to check against yet');
    const [claimed] = outbox.claim(1);
    assert.equal(claimed?.id, sent.id);
    outbox.settle([{ seq: claimed!.seq, outcome: 'release' }]);
    assert.equal(outbox.recheck().checked, 0, 'no master data yet: nothing is judged');
    fillMasterData(outbox);
    cache.reload();
    const r = outbox.recheck();
    assert.deepEqual(r, { checked: 3, flagged: 1, released: 0 });
    assert.equal(outbox.get(sent.id)?.state, 'pending', 'claimed once: it may be in Odoo already, Odoo decides');
    assert.equal(outbox.get(a2.id)?.state, 'flagged');
    assert.equal(outbox.get(a2.id)?.error, 'work center "Asembly Line 1" is not known in Odoo');
    // Key b: a1 goes, then the key stops at a2; a3 stays behind it.
    const first = outbox.claim(10);
    assert.deepEqual(ids(first), [sent.id, a1.id]);
    outbox.settle(first.map((x) => ({ seq: x.seq, outcome: 'done' as const, odooIds: {} })));
    assert.deepEqual(ids(outbox.claim(10)), []);
    assert.equal(outbox.recheck().checked, 1, 'only the flagged one is looked at again');
    await outbox.close();
  });

  it('a flagged event goes on by itself when a later pull knows what it names; a person’s retry is not undone', async () => {
    const { outbox, cache } = checked();
    const later = downtime('WC-NEW', 'x');
    const forced = downtime('WC-GONE', 'y');
    await outbox.enqueue([later, forced]);
    assert.equal(outbox.counts().flagged, 2);
    assert.equal(outbox.retry({ ids: [forced.id] }, 'tester'), 1);
    // The next pull: Odoo has the new work center now.
    fillMasterData(outbox, { extra: [{ kind: 'workcenter', key: '49', value: { id: 49, name: 'WC-NEW' } }] });
    assert.equal(cache.workcenter('WC-NEW'), undefined, 'the cache reads the table again only when told');
    cache.reload();
    const r = outbox.recheck();
    assert.deepEqual(r, { checked: 1, flagged: 0, released: 1 });
    assert.equal(outbox.get(later.id)?.state, 'pending');
    assert.equal(outbox.get(later.id)?.error, null);
    assert.equal(outbox.get(forced.id)?.state, 'pending', 'retried by a person: sent as it is');
    assert.deepEqual(ids(outbox.claim(10)), [later.id, forced.id]);
    const audit = outbox.listAudit(5).find((a) => a.action === 'release');
    assert.deepEqual((audit?.detail as { ids: string[] }).ids, [later.id]);
    await outbox.close();
  });

  it('events a flow releases into the queue are checked too', async () => {
    const { outbox } = checked({ flows: [{ name: 'stops', cron: '0 * * * *', mode: 'batch', types: ['downtime.started'] }] });
    await outbox.enqueue([downtime('ASM1', 'f'), downtime('WC-9', 'f')]);
    assert.equal(outbox.heldEvents, 2);
    const r = outbox.flushFlow('stops');
    assert.equal(r.events, 2);
    const c = outbox.counts();
    assert.equal(c.pending, 1);
    assert.equal(c.flagged, 1);
    await outbox.close();
  });

  it('counts survive a reopen', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'edge-flags-'));
    try {
      const path = join(dir, 'o.db');
      const first = new SqliteOutbox({ path });
      fillMasterData(first);
      first.setEventCheck(new EdgeCheck(new MasterDataCache(first.masterData), { skippableTypes: [] }));
      await first.enqueue([downtime('WC-9'), downtime('ASM1', 'z')]);
      await first.close();
      const again = new SqliteOutbox({ path });
      assert.equal(again.counts().flagged, 1);
      assert.equal(again.counts().pending, 1);
      assert.equal(again.list({ state: 'flagged' }).length, 1);
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
