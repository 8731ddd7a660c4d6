import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { odooError } from '../../agent/odoo/classify';
import { HeldBackError, OperationError } from '../../agent/sync/operations/types';
import { actionOf, errorClass, mapOutcomes, reasonOf, type Result } from '../../agent/sync/outcome';
import { claimedRecord as rec } from '../helpers/sync';

const now = 1_000_000;
const opts = { now, backoff: { initialMs: 100, maxMs: 1000 }, random: () => 0.5, skippable: new Set(['maintenance.requested']) };
const done = (id: number) => ({ odooIds: { 'mrp.workcenter.productivity': id } });
// Failures as the client makes them (classify.ts).
const validation = () => odooError({ status: 422, name: 'odoo.exceptions.ValidationError', message: 'Wrong value for loss_id' });
const unavailable = (retryAfterSeconds?: number) =>
  odooError({ status: 503, message: 'Service Unavailable', retryAfter: retryAfterSeconds === undefined ? undefined : String(retryAfterSeconds) });
const conflict = () => odooError({ status: 409, message: 'Conflict' });
const refused = () => odooError({ transportCode: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:8069' });
const denied = () => odooError({ status: 401, name: 'odoo.exceptions.AccessDenied', message: 'Access Denied' });

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
    const o = mapOutcomes([rec(1, 'A'), rec(2, 'B', { attempts: 3 }), rec(3, 'C')], [unavailable(), conflict(), unavailable(2)], opts);
    assert.deepEqual(o.settlements, [
      // attempt 1: up to 100 ms, half of it with random 0.5
      { seq: 1, outcome: 'retry', nextAttemptAt: now + 50, error: 'ODOO_UNAVAILABLE: HTTP 503: Service Unavailable', code: 'ODOO_UNAVAILABLE' },
      // attempt 4: up to 800 ms
      { seq: 2, outcome: 'retry', nextAttemptAt: now + 400, error: 'ODOO_CONCURRENCY: HTTP 409: Conflict', code: 'ODOO_CONCURRENCY' },
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
      { seq: 1, outcome: 'park', reason: 'ValidationError: Wrong value for loss_id', code: 'ValidationError', blocking: true },
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

  it('a WAN cut pushed events into per-event retry waits: no answer hands them back without an attempt, and says the link is down', () => {
    const o = mapOutcomes([rec(1, 'A', { attempts: 2 }), rec(2, 'B')], [refused(), refused()], opts);
    assert.deepEqual(o.settlements, [
      { seq: 1, outcome: 'release' },
      { seq: 2, outcome: 'release' },
    ]);
    assert.deepEqual([o.retried, o.failed, o.result], [0, 2, 'down']);
    assert.equal(o.error, o.down, 'the failure is reported');
    assert.equal(reasonOf(o.down!), 'connect ECONNREFUSED 127.0.0.1:8069');
    const late = mapOutcomes([rec(1, 'A'), rec(2, 'B')], [done(1), refused()], opts);
    assert.deepEqual([late.sent, late.result, late.settlements[1]!.outcome], [1, 'down', 'release'], 'a partial answer still reports the link');
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

  it('"ECONNREFUSED: ECONNREFUSED: connect ECONNREFUSED": each failure names its class once, then the reason', () => {
    const table: Array<[Error, string, string, string]> = [
      [validation(), 'park', 'ValidationError', 'ValidationError: Wrong value for loss_id'],
      [refused(), 'down', 'ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:8069'],
      [unavailable(), 'retry', 'ODOO_UNAVAILABLE', 'ODOO_UNAVAILABLE: HTTP 503: Service Unavailable'],
      [denied(), 'stop', 'AccessDenied', 'AccessDenied: Access Denied'],
      [odooError({ status: 504, message: 'HTTP 504' }), 'retry', 'ODOO_UNAVAILABLE', 'ODOO_UNAVAILABLE: HTTP 504'],
      [odooError({ transportCode: 'UND_ERR_SOCKET', message: 'other side closed' }), 'down', 'UND_ERR_SOCKET', 'UND_ERR_SOCKET: other side closed'],
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
