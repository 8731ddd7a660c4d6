import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classify, classifyLoadMessages, odooError, parseRetryAfter, toOdooError, type OdooFailure } from '../../agent/odoo/classify';
import { OdooError, type ErrorAction } from '../../agent/odoo/types';

/** Every row of ODOO.md "Classifying errors" and DESIGN.md "Errors are classified once", plus the edges around them. */
const table: Array<[string, OdooFailure, ErrorAction, string]> = [
  // transport: no answer, the link is down (not the event)
  ['connect timeout', { transportCode: 'UND_ERR_CONNECT_TIMEOUT', message: 'Connect Timeout Error' }, 'down', 'ODOO_TIMEOUT'],
  ['headers (read) timeout', { transportCode: 'UND_ERR_HEADERS_TIMEOUT', message: 'Headers Timeout Error' }, 'down', 'ODOO_TIMEOUT'],
  ['body timeout', { transportCode: 'UND_ERR_BODY_TIMEOUT', message: 'Body Timeout Error' }, 'down', 'ODOO_TIMEOUT'],
  ['socket closed by the other side', { transportCode: 'UND_ERR_SOCKET', message: 'other side closed' }, 'down', 'ODOO_UNREACHABLE'],
  ['connection refused', { transportCode: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:8069' }, 'down', 'ODOO_UNREACHABLE'],
  ['connection reset', { transportCode: 'ECONNRESET', message: 'read ECONNRESET' }, 'down', 'ODOO_UNREACHABLE'],
  ['DNS name unknown', { transportCode: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND erp.example.com' }, 'down', 'ODOO_UNREACHABLE'],
  ['DNS temporary failure', { transportCode: 'EAI_AGAIN', message: 'getaddrinfo EAI_AGAIN erp.example.com' }, 'down', 'ODOO_UNREACHABLE'],
  ['broken pipe', { transportCode: 'EPIPE', message: 'write EPIPE' }, 'down', 'ODOO_UNREACHABLE'],
  ['network unreachable', { transportCode: 'ENETUNREACH', message: 'connect ENETUNREACH' }, 'down', 'ODOO_UNREACHABLE'],
  ['socket timeout', { transportCode: 'ETIMEDOUT', message: 'connect ETIMEDOUT' }, 'down', 'ODOO_TIMEOUT'],
  // TLS: stop (a person must fix trust), not retry forever
  ['self-signed certificate', { transportCode: 'DEPTH_ZERO_SELF_SIGNED_CERT', message: 'self-signed certificate' }, 'stop', 'ODOO_TLS'],
  ['expired certificate', { transportCode: 'CERT_HAS_EXPIRED', message: 'certificate has expired' }, 'stop', 'ODOO_TLS'],
  ['wrong host name', { transportCode: 'ERR_TLS_CERT_ALTNAME_INVALID', message: "Hostname/IP does not match certificate's altnames" }, 'stop', 'ODOO_TLS'],
  ['unknown CA', { transportCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', message: 'unable to verify the first certificate' }, 'stop', 'ODOO_TLS'],
  // HTTP statuses: retry
  ['429 too many requests', { status: 429, message: 'Too Many Requests' }, 'retry', 'ODOO_RATE_LIMITED'],
  ['502 bad gateway', { status: 502, message: 'Bad Gateway' }, 'retry', 'ODOO_UNAVAILABLE'],
  ['503 unavailable', { status: 503, message: 'Service Unavailable' }, 'retry', 'ODOO_UNAVAILABLE'],
  ['504 gateway timeout', { status: 504, message: 'Gateway Time-out' }, 'retry', 'ODOO_UNAVAILABLE'],
  [
    '409 lock conflict (JSON-2 LockError)',
    { status: 409, name: 'odoo.exceptions.LockError', message: 'Could not lock the record' },
    'retry',
    'ODOO_CONCURRENCY',
  ],
  ['409 without a body', { status: 409, message: 'Conflict' }, 'retry', 'ODOO_CONCURRENCY'],
  ['500 page from a proxy', { status: 500, message: 'Internal Server Error' }, 'retry', 'ODOO_UNAVAILABLE'],
  // HTTP statuses: park
  [
    '404 missing record (JSON-2)',
    { status: 404, name: 'odoo.exceptions.MissingError', message: 'Record does not exist or has been deleted.' },
    'park',
    'ODOO_MISSING',
  ],
  ['404 unknown model (JSON-2)', { status: 404, name: 'werkzeug.exceptions.NotFound', message: "the model 'x.y' does not exist" }, 'park', 'ODOO_NOT_FOUND'],
  [
    '422 user error (JSON-2)',
    { status: 422, name: 'odoo.exceptions.UserError', message: 'You cannot start a work order that is already done or cancelled' },
    'park',
    'ODOO_USER_ERROR',
  ],
  [
    '422 validation error (JSON-2)',
    { status: 422, name: 'odoo.exceptions.ValidationError', message: 'The Workorder cannot be started twice!' },
    'park',
    'ODOO_VALIDATION',
  ],
  [
    '422 bad arguments (JSON-2)',
    { status: 422, name: 'werkzeug.exceptions.UnprocessableEntity', message: "got an unexpected keyword argument 'x'" },
    'park',
    'ODOO_BAD_REQUEST',
  ],
  ['415 wrong content type', { status: 415, message: 'Unsupported Media Type' }, 'park', 'ODOO_BAD_REQUEST'],
  ['400 bad request', { status: 400, name: 'werkzeug.exceptions.BadRequest', message: 'could not parse the body as json' }, 'park', 'ODOO_BAD_REQUEST'],
  ['400 without a body', { status: 400, message: 'Bad Request' }, 'park', 'ODOO_BAD_REQUEST'],
  ['413 too large', { status: 413, message: 'Request Entity Too Large' }, 'park', 'ODOO_TOO_LARGE'],
  ['500 ValueError is permanent (JSON-2)', { status: 500, name: 'builtins.ValueError', message: "Invalid field 'x' on model 'y'" }, 'park', 'ODOO_BAD_REQUEST'],
  ['500 unknown exception (JSON-2)', { status: 500, name: 'builtins.ZeroDivisionError', message: 'division by zero' }, 'park', 'ODOO_SERVER_ERROR'],
  // HTTP statuses: stop
  ['401 bad key (JSON-2)', { status: 401, name: 'werkzeug.exceptions.Unauthorized', message: 'Invalid apikey' }, 'stop', 'ODOO_AUTH'],
  ['401 without a body', { status: 401, message: 'Unauthorized' }, 'stop', 'ODOO_AUTH'],
  ['403 AccessDenied (JSON-2)', { status: 403, name: 'odoo.exceptions.AccessDenied', message: 'Access Denied' }, 'stop', 'ODOO_AUTH'],
  ['403 from a firewall (no Odoo body)', { status: 403, message: 'Forbidden' }, 'stop', 'ODOO_AUTH'],
  ['407 proxy wants a login', { status: 407, message: 'Proxy Authentication Required' }, 'stop', 'ODOO_AUTH'],
  ['404 page without JSON: wrong database', { status: 404, message: 'Not Found' }, 'stop', 'ODOO_NO_DATABASE'],
  ['303 redirect: no such API', { status: 303, message: 'redirected to /web/login' }, 'stop', 'ODOO_PROTOCOL'],
  // 403 AccessError is about one record or model: park it, keep the rest flowing (docs/odoo-client.md)
  ['403 AccessError (JSON-2)', { status: 403, name: 'odoo.exceptions.AccessError', message: "You are not allowed to modify 'Quants'" }, 'park', 'ODOO_ACCESS'],
  // JSON-RPC: every error at HTTP 200, by exception name
  [
    'RPC SerializationFailure',
    { status: 200, name: 'psycopg2.errors.SerializationFailure', message: 'could not serialize access due to concurrent update' },
    'retry',
    'ODOO_CONCURRENCY',
  ],
  ['RPC DeadlockDetected', { status: 200, name: 'psycopg2.errors.DeadlockDetected', message: 'deadlock detected' }, 'retry', 'ODOO_CONCURRENCY'],
  ['RPC LockNotAvailable', { status: 200, name: 'psycopg2.errors.LockNotAvailable', message: 'could not obtain lock on row' }, 'retry', 'ODOO_CONCURRENCY'],
  ['RPC ConcurrencyError (19)', { status: 200, name: 'odoo.exceptions.ConcurrencyError', message: 'concurrent update' }, 'retry', 'ODOO_CONCURRENCY'],
  [
    'RPC serialization text in another exception',
    { status: 200, name: 'builtins.Exception', message: 'ERROR: could not serialize access due to read/write dependencies' },
    'retry',
    'ODOO_CONCURRENCY',
  ],
  [
    'RPC database restarting',
    { status: 200, name: 'psycopg2.OperationalError', message: 'server closed the connection unexpectedly' },
    'retry',
    'ODOO_DATABASE_UNAVAILABLE',
  ],
  ['RPC pool exhausted', { status: 200, name: 'psycopg2.pool.PoolError', message: 'The Connection Pool Is Full' }, 'retry', 'ODOO_DATABASE_UNAVAILABLE'],
  [
    'RPC UserError',
    { status: 200, name: 'odoo.exceptions.UserError', message: 'You cannot cancel a manufacturing order that is already done.' },
    'park',
    'ODOO_USER_ERROR',
  ],
  ['RPC ValidationError', { status: 200, name: 'odoo.exceptions.ValidationError', message: 'Missing required value' }, 'park', 'ODOO_VALIDATION'],
  ['RPC MissingError', { status: 200, name: 'odoo.exceptions.MissingError', message: 'Record does not exist or has been deleted.' }, 'park', 'ODOO_MISSING'],
  ['RPC ValueError', { status: 200, name: 'builtins.ValueError', message: "Invalid field 'foo' on model 'mrp.production'" }, 'park', 'ODOO_BAD_REQUEST'],
  ['RPC AccessError', { status: 200, name: 'odoo.exceptions.AccessError', message: "You are not allowed to access 'Module'" }, 'park', 'ODOO_ACCESS'],
  // Odoo 17 refuses an inventory count to a stock user with a UserError: a missing right all the same.
  [
    'defect: Odoo 17 needs Stock Administrator for inventory counts (UserError)',
    { status: 200, name: 'odoo.exceptions.UserError', message: 'Only a stock manager can validate an inventory adjustment.' },
    'park',
    'ODOO_ACCESS',
  ],
  [
    'RPC AccessError: a company the user does not belong to (odoo.company)',
    { status: 200, name: 'odoo.exceptions.AccessError', message: 'Access to unauthorized or invalid companies.' },
    'stop',
    'ODOO_COMPANY',
  ],
  ['RPC IndexError (create by name)', { status: 200, name: 'builtins.IndexError', message: 'list index out of range' }, 'park', 'ODOO_BAD_REQUEST'],
  ['RPC unknown exception', { status: 200, name: 'builtins.RuntimeError', message: 'boom' }, 'park', 'ODOO_SERVER_ERROR'],
  ['RPC AccessDenied', { status: 200, name: 'odoo.exceptions.AccessDenied', message: 'Access Denied' }, 'stop', 'ODOO_AUTH'],
  ['RPC session expired', { status: 200, name: 'odoo.http.SessionExpiredException', message: 'Session expired' }, 'stop', 'ODOO_AUTH'],
  [
    'RPC wrong database name',
    { status: 200, name: 'psycopg2.OperationalError', message: 'connection to server failed: FATAL:  database "edg" does not exist' },
    'stop',
    'ODOO_NO_DATABASE',
  ],
  // a 200 that is not an answer
  ['200 with a login page instead of JSON', { message: 'not a JSON answer from Odoo: Odoo' }, 'retry', 'ODOO_BAD_RESPONSE'],
];

describe('classify', () => {
  for (const [what, failure, action, code] of table) {
    it(`${what} -> ${action}`, () => {
      const c = classify(failure);
      assert.equal(c.action, action);
      assert.equal(c.code, code);
    });
  }

  it('takes Retry-After in seconds on 429 and 503', () => {
    assert.equal(classify({ status: 429, retryAfter: '7', message: '' }).retryAfterMs, 7000);
    assert.equal(classify({ status: 503, retryAfter: '120', message: '' }).retryAfterMs, 120_000);
  });

  it('takes Retry-After as an HTTP date', () => {
    const now = Date.parse('2025-03-01T10:00:00Z');
    const c = classify({ status: 429, retryAfter: 'Sat, 01 Mar 2025 10:00:30 GMT', message: '', nowMs: now });
    assert.equal(c.retryAfterMs, 30_000);
  });

  it('ignores Retry-After on errors that are not retried, and bad values', () => {
    assert.equal(classify({ status: 401, retryAfter: '5', message: '' }).retryAfterMs, undefined);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(''), undefined);
    assert.equal(parseRetryAfter('Sat, 01 Mar 2025 09:00:00 GMT', Date.parse('2025-03-01T10:00:00Z')), 0);
  });
});

describe('odooError', () => {
  it('carries the classification, the Odoo name and the status', () => {
    const e = odooError({ status: 422, name: 'odoo.exceptions.UserError', message: 'Nope' });
    assert.ok(e instanceof OdooError);
    assert.equal(e.action, 'park');
    assert.equal(e.retryable, false);
    assert.equal(e.status, 422);
    assert.equal(e.odooName, 'odoo.exceptions.UserError');
    assert.equal(e.message, 'UserError: Nope');
  });

  it('names the transport code when there is no response', () => {
    const e = odooError({ transportCode: 'UND_ERR_SOCKET', message: 'other side closed' });
    assert.equal(e.odooName, 'UND_ERR_SOCKET');
    assert.equal(e.retryable, true);
    assert.equal(e.message, 'UND_ERR_SOCKET: other side closed');
  });

  it('"ECONNREFUSED: ECONNREFUSED: connect ECONNREFUSED": a name the text already says is not added again', () => {
    assert.equal(odooError({ transportCode: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:8069' }).message, 'connect ECONNREFUSED 127.0.0.1:8069');
    assert.equal(odooError({ status: 503, message: 'HTTP 503' }).message, 'HTTP 503');
    assert.equal(odooError({ status: 502, message: 'Bad Gateway' }).message, 'HTTP 502: Bad Gateway');
  });
});

describe('toOdooError', () => {
  it('passes an OdooError through', () => {
    const e = new OdooError('x', { action: 'stop', code: 'ODOO_AUTH' });
    assert.equal(toOdooError(e), e);
  });

  it('classifies a Node error by its code, following the cause', () => {
    const inner = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    const outer = Object.assign(new Error('other side closed', { cause: inner }), { code: 'UND_ERR_SOCKET' });
    const e = toOdooError(outer);
    assert.equal(e.action, 'down');
    assert.equal(e.odooName, 'ECONNRESET');
  });

  it('parks a plain bug instead of retrying it forever', () => {
    assert.equal(toOdooError(new TypeError('x is undefined')).action, 'park');
  });
});

describe('classifyLoadMessages', () => {
  it('is undefined for a load that went through (warnings alone are fine)', () => {
    assert.equal(classifyLoadMessages({ ids: [4, 5], messages: [] }), undefined);
    assert.equal(classifyLoadMessages({ ids: [4], messages: [{ type: 'warning', message: 'Found more than 10 errors' }] }), undefined);
  });

  it('retries a serialization conflict reported in messages', () => {
    const e = classifyLoadMessages({
      ids: false,
      messages: [{ type: 'error', message: 'could not serialize access due to concurrent update', record: 0, rows: { from: 0, to: 0 } }],
    });
    assert.ok(e);
    assert.equal(e.action, 'retry');
    assert.equal(e.code, 'ODOO_CONCURRENCY');
  });

  it('parks any other failed load with the messages, naming the row and field', () => {
    const e = classifyLoadMessages({
      ids: false,
      messages: [
        {
          type: 'error',
          message: "No matching record found for external id 'plant.nope' in field 'Work Center'",
          record: 2,
          rows: { from: 2, to: 2 },
          field: 'workcenter_id',
        },
      ],
    });
    assert.ok(e);
    assert.equal(e.action, 'park');
    assert.equal(e.code, 'ODOO_LOAD_FAILED');
    assert.match(e.message, /row 3, field workcenter_id: No matching record found for external id 'plant.nope'/);
  });

  it('parks ids=false without any message', () => {
    const e = classifyLoadMessages({ ids: false, messages: [] });
    assert.equal(e?.action, 'park');
  });

  it('says what Odoo\'s "trying to delete" message means for a create or load: a referenced record is gone', () => {
    // What real Odoo 19 answered to a create naming a work center id that does not exist (HTTP 422).
    const odooText =
      "Another model is using the record you are trying to delete.\n\nThe troublemaker is: 'Workcenter Productivity Log' (mrp.workcenter.productivity)\nThanks to the following constraint: 'Work Center' (workcenter_id)\nHow about archiving the record instead?";
    const e = odooError({ status: 422, name: 'odoo.exceptions.ValidationError', message: odooText });
    assert.equal(e.action, 'park');
    assert.ok(e.message.includes(odooText), "Odoo's own words are kept");
    assert.match(e.message, /no longer exists in Odoo/);
    const load = classifyLoadMessages({
      ids: false,
      messages: [{ type: 'error', message: 'Another model is using the record you are trying to delete. How about archiving the record instead?', record: 0 }],
    });
    assert.match(load!.message, /row 1: Another model is using the record.*no longer exists in Odoo/);
    const notNull =
      "Missing required value for the field 'Work Center' (workcenter_id).\nModel: 'Workcenter Productivity Log' (mrp.workcenter.productivity)\n- create/update: a mandatory field is not set\n- delete: another model requires the record being deleted, you can archive it instead\n";
    assert.doesNotMatch(
      odooError({ status: 422, name: 'odoo.exceptions.ValidationError', message: notNull }).message,
      /no longer exists/,
      'a missing required value is not a broken link',
    );
    // Real Odoo 18 (JSON-RPC, HTTP 200) for the same create, and its missing-required-value text.
    const fk18 =
      'The operation cannot be completed: another model requires the record being deleted. If possible, archive it instead.\n\nModel: Workcenter Productivity Log (mrp.workcenter.productivity)\nConstraint: mrp_workcenter_productivity_workcenter_id_fkey\n';
    assert.match(odooError({ status: 200, name: 'odoo.exceptions.ValidationError', message: fk18 }).message, /no longer exists in Odoo\]$/);
    const notNull18 =
      'The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n- Delete: another model requires the record being deleted. If possible, archive it instead.\n\nModel: Workcenter Productivity Log (mrp.workcenter.productivity)\nField: Work Center (workcenter_id)\n';
    assert.doesNotMatch(odooError({ status: 200, name: 'odoo.exceptions.ValidationError', message: notNull18 }).message, /no longer exists/, 'nor on 17/18');
  });
});
