import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { it } from 'node:test';
import pino from 'pino';
import { parseConfigText } from '../../agent/config/load';
import { startHttp } from '../../agent/http/server';
import { OutboxFullError } from '../../agent/errors';
import type { Signal } from '../../agent/model/signal';
import { startAgent } from '../../agent/runtime/agent';
import { smallDisk } from '../helpers/small-disk';

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

const signal = (i: number): Signal => {
  const t = new Date(Date.UTC(2026, 10, 26, 8) + i * 1000).toISOString();
  return {
    source: 'mes',
    tag: 'mes/events',
    value: {
      id: `disk-${i}`,
      type: 'downtime.started',
      sequenceKey: 'Press 1',
      occurredAt: t,
      payload: { downtimeId: `d-${i}`, workcenter: 'Press 1', reason: 'Material shortage' },
    },
    quality: 'good',
    sourceTime: t,
    receivedAt: t,
  };
};

it('a full disk raises the alarm (page, /readyz, /metrics) at the first failed commit, loses nothing stored, and ingest resumes once space returns', async (t) => {
  const disk = smallDisk('edge-disk-full', 12);
  if (typeof disk === 'string') return t.skip(disk);
  t.after(() => disk.unmount());
  const config = parseConfigText(
    [
      'plant: { id: disk }',
      `stateDir: ${JSON.stringify(disk.dir)}`,
      'outbox: { warnings: { lowDiskMb: 2 } }',
      'http: { port: 0 }',
      'sources:',
      '  - { name: mes, type: mqtt, url: "mqtt://127.0.0.1:1", subscriptions: [{ topic: "mes/#" }] }',
      'rules:',
      '  - { kind: event, name: mes-events, source: mes, tag: "mes/#" }',
      '',
    ].join('\n'),
    join(disk.dir, 'config.yaml'),
  );
  const agent = await startAgent(config, { withoutSources: true, log: pino({ level: 'silent' }) });
  const http = await startHttp(agent, { port: 0, host: '127.0.0.1' });
  const fillers: string[] = [];
  try {
    assert.equal((await get(`${http.url}/readyz`)).status, 200);
    // Leave about 1.5 MB: the page warns first (running low), then commits fail.
    for (let n = 0; ; n++) {
      const f = join(disk.dir, `filler-${n}`);
      try {
        writeFileSync(f, Buffer.alloc(256 * 1024));
        fillers.push(f);
      } catch {
        rmSync(f, { force: true });
        break;
      }
      if (agent.view.storage().freeBytes! < 1.5 * 1024 * 1024) break;
    }
    assert.equal(agent.view.storage().state, 'low', agent.view.storage().reasons.join('; '));
    assert.match((await get(`${http.url}/`)).body, /Storage is running low/);

    const committed: string[] = [];
    let refusal: unknown;
    for (let i = 0; i < 100_000 && !refusal; i += 50) {
      const batch = Array.from({ length: 50 }, (_, k) => signal(i + k));
      try {
        await agent.pipeline.emit(batch);
        committed.push(...batch.map((s) => (s.value as { id: string }).id));
      } catch (err) {
        refusal = err;
      }
    }
    assert.ok(refusal, 'the disk filled up');
    assert.equal((refusal as { code?: string }).code, 'OUTBOX_WRITE_FAILED', String(refusal));
    assert.ok(!(refusal instanceof OutboxFullError));

    const s = agent.view.storage();
    assert.equal(s.state, 'failing');
    assert.ok(s.write.failingSince !== null && s.write.lastError?.code === 'SQLITE_FULL', JSON.stringify(s.write));
    const ready = await get(`${http.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.match(ready.body, /events cannot be stored/);
    const page = (await get(`${http.url}/`)).body;
    assert.match(page, /Events CANNOT BE STORED/);
    assert.doesNotMatch(page, /Nothing is lost: every event is stored/);
    const metrics = (await get(`${http.url}/metrics`)).body;
    assert.match(metrics, /^edge_outbox_storage_ok 0$/m);
    assert.match(metrics, /^edge_outbox_write_failures_total [1-9]/m);

    // Space returns: the next commit goes through at once.
    for (const f of fillers) rmSync(f, { force: true });
    await agent.pipeline.emit([signal(200_000)]);
    committed.push('disk-200000');
    assert.equal(agent.view.storage().write.failingSince, null);
    assert.equal((await get(`${http.url}/readyz`)).status, 200);
    const stored = new Set(agent.outbox.list({ limit: 200_000 }).map((r) => r.id));
    const lost = committed.filter((id) => !stored.has(id));
    assert.deepEqual(lost, [], 'every event whose commit succeeded is there');
    assert.ok(committed.length > 1000, `${committed.length} events stored before the disk was full`);
  } finally {
    await http.close();
    await agent.stop();
  }
});
