import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import type { Signal } from '../../agent/model/signal';
import { RuleEngine } from '../../agent/rules/engine';
import { Pipeline } from '../../agent/runtime/pipeline';

const dir = mkdtempSync(join(tmpdir(), 'pipeline-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const log = pino({ level: 'silent' });

/** A value nested `n` deep, built without recursion. */
function nested(n: number): Signal['value'] {
  let v: Signal['value'] = 1;
  for (let i = 0; i < n; i++) v = { a: v };
  return v;
}

describe('Pipeline', () => {
  it('a signal whose value JSON cannot write is kept as invalid input and the batch commits (emit rejected: Maximum call stack size exceeded)', async () => {
    const outbox = new SqliteOutbox({ path: join(dir, 'deep.db'), log });
    const engine = RuleEngine.fromConfig([
      {
        kind: 'template',
        name: 'counters',
        source: 'plc',
        tag: 'counters',
        type: 'production.reported',
        payload: { production: '{{value.order}}', totalQuantity: '{{value.good|number}}' },
      },
    ]);
    const pipeline = new Pipeline(outbox, engine, { plant: 'plant1', log });
    const at = '2025-03-03T12:00:00.000Z';
    const signal = (value: Signal['value'], t: string): Signal => ({ source: 'plc', tag: 'counters', value, quality: 'good', sourceTime: t, receivedAt: t });
    await pipeline.emit([signal(nested(20_000), at), signal({ order: 'WH/MO/1', good: 5 }, '2025-03-03T12:00:01.000Z')]);
    assert.equal(outbox.counts().pending, 1, 'the good signal of the same batch is committed');
    const invalid = outbox.listInvalid();
    assert.equal(invalid.length, 1);
    assert.match(invalid[0]!.reason, /rule failed/);
    assert.match(invalid[0]!.raw, /could not be written as JSON/);
    await outbox.close();
  });

  it('batches emitted together through rules with expressions: rules in arrival order, commits in that order, facts of the first seen by the second', async () => {
    const outbox = new SqliteOutbox({ path: join(dir, 'async.db'), log });
    const engine = RuleEngine.fromConfig([
      { kind: 'order', name: 'press-order', source: 'plc', tag: 'order', workcenter: 'Press 1' },
      {
        kind: 'template',
        name: 'counts',
        source: 'plc',
        tag: 'count',
        type: 'production.reported',
        payload: { production: "= $fact('workcenter:Press 1:production')", totalQuantity: '= value * 2' },
      },
    ]);
    assert.equal(engine.needsAsync, true);
    const pipeline = new Pipeline(outbox, engine, { plant: 'plant1', log });
    const signal = (tag: string, value: Signal['value'], s: number): Signal => {
      const t = new Date(Date.UTC(2026, 10, 26, 8, 0, s)).toISOString();
      return { source: 'plc', tag, value, quality: 'good', sourceTime: t, receivedAt: t };
    };
    await Promise.all([
      pipeline.emit([signal('order', 'WH/MO/00001', 1), signal('count', 1, 2)]),
      pipeline.emit([signal('count', 2, 3), signal('order', 'WH/MO/00002', 4)]),
      pipeline.emit([signal('count', 3, 5)]),
      pipeline.emit([signal('count', 'x', 6)]),
    ]);
    assert.deepEqual(
      outbox.list().map((r) => [(r.event.payload as { production: string }).production, (r.event.payload as { totalQuantity: number }).totalQuantity]),
      [
        ['WH/MO/00001', 2],
        ['WH/MO/00001', 4],
        ['WH/MO/00002', 6],
      ],
    );
    assert.match(outbox.listInvalid()[0]!.reason, /payload\.totalQuantity .* failed/);
    assert.equal(pipeline.counters.signals, 6);
    await outbox.close();
  });
});
