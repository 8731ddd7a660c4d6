import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OdooError } from '../../agent/odoo/types';
import { HeldBackError, OperationError } from '../../agent/sync/operations/types';
import { actionOf, errorClass, mapOutcomes, reasonOf, type Result } from '../../agent/sync/outcome';
import { claimedRecord as rec } from '../helpers/sync';

const now = 1_000_000;
const opts = { now, backoff: { initialMs: 100, maxMs: 1000 }, random: () => 0.5, skippable: new Set(['maintenance.requested']) };
const done = (id: number) => ({ odooIds: { 'mrp.workcenter.productivity': id } });
const validation = () =>
  new OdooError('odoo.exceptions.ValidationError: Wrong value for loss_id', {
    action: 'park',
    code: 'ODOO_VALIDATION',
    odooName: 'odoo.exceptions.ValidationError',
  });
const unavailable = (retryAfterMs?: number) =>
  new OdooError('HTTP 503: Service Unavailable', { action: 'retry', code: 'ODOO_UNAVAILABLE', status: 503, retryAfterMs });
const refused = () =>
  new OdooError('ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:8069', { action: 'retry', code: 'ODOO_UNREACHABLE', odooName: 'ECONNREFUSED' });
const denied = () =>
  new OdooError('odoo.exceptions.AccessDenied: Access Denied', { action: 'stop', code: 'ODOO_AUTH', odooName: 'odoo.exceptions.AccessDenied' });

describe('sync outcomes', () => {
  it('records done events with their Odoo ids', () => {
    const o = mapOutcomes([rec(1, 'A'), rec(2, 'B')], [done(7), done(8)], opts);
    assert.deepEqual(o.settlements, [
      { seq: 1, outcome: 'done', odooIds: { 'mrp.workcenter.productivity': 7 } },
      { seq: 2, outcome: 'done', odooIds: { 'mrp.workcenter.productivity': 8 } },
    ]);
    assert.deepEqual([o.sent, o.retried, o.parked.length, o.failed, o.result, o.error, o.stop], [2, 0, 0, 0, 'done', undefined, undefined]);
  });

  it('retries a transient failure after a jittered backoff that grows with the attempts, Retry-After a floor', () => {
    const o = mapOutcomes([rec(1, 'A'), rec(2, 'B', { attempts: 3 }), rec(3, 'C')], [unavailable(), refused(), unavailable(2000)], opts);
    assert.deepEqual(o.settlements, [
      // attempt 1: up to 100 ms, half of it with random 0.5
      { seq: 1, outcome: 'retry', nextAttemptAt: now + 50, error: 'ODOO_UNAVAILABLE: HTTP 503: Service Unavailable', code: 'ODOO_UNAVAILABLE' },
      // attempt 4: up to 800 ms
      { seq: 2, outcome: 'retry', nextAttemptAt: now + 400, error: 'ECONNREFUSED: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:8069', code: 'ECONNREFUSED' },
      { seq: 3, outcome: 'retry', nextAttemptAt: now + 2000, error: 'ODOO_UNAVAILABLE: HTTP 503: Service Unavailable', code: 'ODOO_UNAVAILABLE' },
    ]);
    assert.deepEqual([o.retried, o.failed, o.result], [3, 3, 'retry']);
    assert.equal(reasonOf(o.error!), 'ODOO_UNAVAILABLE: HTTP 503: Service Unavailable', 'the first failure is reported');
  });

  it('draws one random number per retried event, in order', () => {
    const draws = [0.1, 0.9];
    const o = mapOutcomes([rec(1, 'A'), rec(2, 'B')], [unavailable(), unavailable()], { ...opts, random: () => draws.shift()! });
    assert.deepEqual(
      o.settlements.map((s) => (s.outcome === 'retry' ? s.nextAttemptAt - now : -1)),
      [10, 90],
    );
  });

  it("parks a permanent failure with Odoo's message; it blocks its key unless the type is skippable", () => {
    const maintenance = rec(2, 'EQ-1', { type: 'maintenance.requested' });
    const o = mapOutcomes([rec(1, 'A'), maintenance], [validation(), new OperationError('UNKNOWN_REFERENCE', 'unknown equipment "Press 9" in Odoo')], opts);
    assert.deepEqual(o.settlements, [
      { seq: 1, outcome: 'park', reason: 'ValidationError: odoo.exceptions.ValidationError: Wrong value for loss_id', code: 'ValidationError', blocking: true },
      { seq: 2, outcome: 'park', reason: 'UNKNOWN_REFERENCE: unknown equipment "Press 9" in Odoo', code: 'UNKNOWN_REFERENCE', blocking: false },
    ]);
    assert.deepEqual(
      o.parked.map((p) => p.record.seq),
      [1, 2],
    );
    assert.deepEqual([o.failed, o.result, errorClass(o.error!)], [2, 'park', 'ValidationError']);
  });

  it('hands back a held-back event without an attempt, and reports the failure ahead of it', () => {
    const o = mapOutcomes([rec(1, 'A'), rec(2, 'A'), rec(3, 'B')], [validation(), new HeldBackError('A'), done(9)], opts);
    assert.deepEqual(
      o.settlements.map((s) => s.outcome),
      ['park', 'release', 'done'],
    );
    assert.deepEqual([o.sent, o.parked.length, o.failed, o.result, errorClass(o.error!)], [1, 1, 2, 'done', 'ValidationError']);
    const held = mapOutcomes([rec(1, 'A')], [new HeldBackError('A')], opts);
    assert.deepEqual([held.result, held.error], ['done', undefined], 'a hand-back alone is no failure to report');
  });

  it('releases everything on an authentication failure and reports stop, whatever else failed', () => {
    const o = mapOutcomes([rec(1, 'A'), rec(2, 'B'), rec(3, 'C')], [validation(), denied(), done(1)], opts);
    assert.deepEqual(
      o.settlements.map((s) => s.outcome),
      ['park', 'release', 'done'],
    );
    assert.equal(o.result, 'stop');
    assert.equal(o.stop, o.error);
    assert.equal(errorClass(o.stop!), 'AccessDenied');
  });

  it('parks an error that names no action (a bug in an operation)', () => {
    const results: Result[] = [new TypeError("Cannot read properties of undefined (reading 'id')")];
    const o = mapOutcomes([rec(1, 'A')], results, opts);
    assert.deepEqual(o.settlements, [
      { seq: 1, outcome: 'park', reason: "Cannot read properties of undefined (reading 'id')", code: 'TypeError', blocking: true },
    ]);
  });

  it('names each failure by its class and reason', () => {
    const table: Array<[Error, string, string, string]> = [
      [validation(), 'park', 'ValidationError', 'ValidationError: odoo.exceptions.ValidationError: Wrong value for loss_id'],
      [refused(), 'retry', 'ECONNREFUSED', 'ECONNREFUSED: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:8069'],
      [unavailable(), 'retry', 'ODOO_UNAVAILABLE', 'ODOO_UNAVAILABLE: HTTP 503: Service Unavailable'],
      [denied(), 'stop', 'AccessDenied', 'AccessDenied: odoo.exceptions.AccessDenied: Access Denied'],
      [new OperationError('NEEDS_DECISION', 'Odoo returned a wizard'), 'park', 'NEEDS_DECISION', 'NEEDS_DECISION: Odoo returned a wizard'],
      [new OperationError('NOT_CREATED', 'NOT_CREATED by Odoo', 'retry'), 'retry', 'NOT_CREATED', 'NOT_CREATED by Odoo'],
      [new HeldBackError('WC-1'), 'release', 'HELD_BACK', 'HELD_BACK: held back: an earlier event of WC-1 in the same batch was not sent'],
      [new Error('boom'), 'park', 'Error', 'boom'],
    ];
    for (const [err, action, cls, reason] of table) {
      assert.deepEqual([actionOf(err), errorClass(err), reasonOf(err)], [action, cls, reason], err.message);
    }
  });
});
