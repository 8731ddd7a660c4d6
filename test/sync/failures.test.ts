import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AgentError, ConfigError, Failure, OutboxFullError } from '../../agent/errors';
import { odooError, toOdooError } from '../../agent/odoo/classify';
import { OdooError } from '../../agent/odoo/types';
import { HeldBackError, OperationError } from '../../agent/sync/operations/types';
import { actionOf, errorClass, reasonOf } from '../../agent/sync/outcome';

/** Every error the agent makes is one Failure shape: the worker reads its action and code, nothing else. */
describe('failures', () => {
  it('each class is a Failure with a stable name, its code, action, cause and retryable', () => {
    const cause = new Error('socket hang up');
    const table: Array<[Failure, string, string, string | undefined, boolean]> = [
      [new AgentError('OUTBOX_CLOSED', 'outbox is closed', { retryable: true }), 'AgentError', 'OUTBOX_CLOSED', undefined, true],
      [new OutboxFullError(10), 'OutboxFullError', 'OUTBOX_FULL', undefined, true],
      [new ConfigError(['a.yaml:1:1: x: expected a number']), 'ConfigError', 'CONFIG_INVALID', undefined, false],
      [new OdooError('HTTP 503', { action: 'retry', code: 'ODOO_UNAVAILABLE', status: 503, cause }), 'OdooError', 'ODOO_UNAVAILABLE', 'retry', true],
      [new OdooError('Access Denied', { action: 'stop', code: 'ODOO_AUTH' }), 'OdooError', 'ODOO_AUTH', 'stop', false],
      [new OperationError('UNKNOWN_REFERENCE', 'unknown work center "WC 9" in Odoo'), 'OperationError', 'UNKNOWN_REFERENCE', 'park', false],
      [new OperationError('ODOO_BUSY', 'try later', 'retry'), 'OperationError', 'ODOO_BUSY', 'retry', true],
      [new HeldBackError('WC-1'), 'HeldBackError', 'HELD_BACK', 'release', false],
    ];
    for (const [err, name, code, action, retryable] of table) {
      assert.ok(err instanceof Failure && err instanceof Error, name);
      assert.deepEqual([err.name, err.code, err.action, err.retryable], [name, code, action, retryable], err.message);
    }
    assert.equal(table[3]![0].cause, cause);
    assert.equal(new AgentError('X', 'y').cause, undefined);
  });

  it('keeps the classes apart: an Odoo or operation failure is no AgentError (the CLI prints those as a refusal)', () => {
    assert.ok(!(new OdooError('x', { action: 'park', code: 'ODOO_VALIDATION' }) instanceof AgentError));
    assert.ok(!(new OperationError('X', 'y') instanceof AgentError));
    assert.ok(!(new HeldBackError('k') instanceof OperationError));
  });

  it('the classifier and the client make Failures the worker reads directly', () => {
    const e = odooError({ status: 429, retryAfter: '3', message: 'slow down' });
    assert.ok(e instanceof Failure);
    assert.deepEqual([actionOf(e), errorClass(e), e.retryAfterMs], ['retry', 'ODOO_RATE_LIMITED', 3000]);
    const refused = toOdooError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8069'), { code: 'ECONNREFUSED' }));
    assert.deepEqual([actionOf(refused), errorClass(refused), refused.retryable], ['down', 'ECONNREFUSED', true]);
  });

  it('anything that is not a Failure parks under its name, whatever fields it carries', () => {
    // Only a Failure says what to do: the fields of another error are not read.
    const lookalike = Object.assign(new Error('connect ECONNREFUSED'), { action: 'retry', code: 'ECONNREFUSED' });
    assert.deepEqual([actionOf(lookalike), errorClass(lookalike), reasonOf(lookalike)], ['park', 'Error', 'connect ECONNREFUSED']);
    const bug = new TypeError("Cannot read properties of undefined (reading 'id')");
    assert.deepEqual([actionOf(bug), errorClass(bug), reasonOf(bug)], ['park', 'TypeError', bug.message]);
  });

  it('a failure that is not about delivery parks', () => {
    const e = new AgentError('OUTBOX_CLOSED', 'outbox is closed', { retryable: true });
    assert.deepEqual([actionOf(e), errorClass(e), reasonOf(e)], ['park', 'OUTBOX_CLOSED', 'OUTBOX_CLOSED: outbox is closed']);
  });
});
