/** The current order of a work center: several sources claim it, the latest by time wins. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { claimCurrentOrder, currentOrderClaim } from '../../agent/rules/current-order';
import { RuleEngine } from '../../agent/rules/engine';
import type { FactStore } from '../../agent/rules/types';

function facts(): FactStore & { map: Map<string, unknown> } {
  const map = new Map<string, unknown>();
  return { map, get: (k) => map.get(k), set: (k, v) => (v === undefined ? map.delete(k) : map.set(k, v)) };
}

describe('current order claims', () => {
  it('takes a later claim and refuses an earlier one, whoever makes it', () => {
    const f = facts();
    assert.equal(claimCurrentOrder(f, 'Press 1', { production: 'MO/1', at: '2026-01-01T10:00:00Z', by: 'rule:tag' }), true);
    assert.equal(claimCurrentOrder(f, 'Press 1', { production: 'MO/2', at: '2026-01-01T10:05:00Z', by: 'release' }), true);
    assert.equal(f.get('workcenter:Press 1:production'), 'MO/2');
    assert.equal(claimCurrentOrder(f, 'Press 1', { production: 'MO/1', at: '2026-01-01T10:01:00Z', by: 'rule:tag' }), false);
    assert.equal(f.get('workcenter:Press 1:production'), 'MO/2');
    assert.deepEqual(currentOrderClaim(f, 'Press 1'), { production: 'MO/2', at: '2026-01-01T10:05:00Z', by: 'release' });
    assert.equal(claimCurrentOrder(f, 'Press 1', { production: null, at: '2026-01-01T10:06:00Z', by: 'release' }), true);
    assert.equal(f.get('workcenter:Press 1:production'), undefined, 'no order');
  });

  it('a claimant replaces its own claim whatever its time (its clock may have stepped back)', () => {
    const f = facts();
    assert.equal(claimCurrentOrder(f, 'Press 1', { production: 'MO/1', at: '2026-01-01T10:00:00Z', by: 'rule:tag' }), true);
    assert.equal(claimCurrentOrder(f, 'Press 1', { production: 'MO/2', at: '2026-01-01T09:00:00Z', by: 'rule:tag' }), true);
    assert.equal(f.get('workcenter:Press 1:production'), 'MO/2');
    assert.equal(
      claimCurrentOrder(f, 'Press 1', { production: 'MO/3', at: '2026-01-01T08:00:00Z', by: 'release' }),
      false,
      "another's earlier claim still loses",
    );
  });

  it('the engine keeps an outside claim with the rules’ state, and an order rule’s later change overrides it', () => {
    const engine = RuleEngine.fromConfig([{ name: 'press-order', kind: 'order', source: 'plc', tag: 'order', workcenter: 'Press 1' }]);
    const changes = engine.claimCurrentOrder('Press 1', { production: 'MO/7', at: '2026-01-01T10:00:00Z', by: 'release' });
    assert.equal(changes.get('workcenter:Press 1:production'), 'MO/7');
    assert.equal(
      engine.claimCurrentOrder('Press 1', { production: 'MO/7', at: '2026-01-01T10:00:00Z', by: 'release' }).size,
      0,
      'the same claim changes nothing',
    );
    const ctx = { plant: 'p', now: '2026-01-01T10:00:02Z' };
    const sig = (value: string, at: string) => ({ source: 'plc', tag: 'order', value, quality: 'good' as const, sourceTime: at, receivedAt: at });
    engine.process([sig('MO/8', '2026-01-01T09:59:00Z')], ctx);
    assert.equal(engine.fact('workcenter:Press 1:production'), 'MO/7', 'a tag older than the release’s claim does not win');
    engine.process([sig('MO/9', '2026-01-01T10:01:00Z')], ctx);
    assert.equal(engine.fact('workcenter:Press 1:production'), 'MO/9');
  });
});
