/**
 * Exceptions as Odoo raises them. `name` is what Odoo puts into the error body
 * (`error.data.name` for JSON-RPC, `name` for JSON-2); `httpStatus` is the
 * status JSON-2 answers with (odoo/http.py Json2Dispatcher.handle_error:
 * UserError subclasses carry their own status, werkzeug exceptions their
 * code, everything else is 500).
 */
export class OdooException extends Error {
  constructor(
    readonly odooName: string,
    message: string,
    readonly httpStatus: number,
    readonly args: unknown[] = [message],
    /** How load() reports the same failure in its messages, and for which field. */
    readonly load?: { message: string; field?: string },
  ) {
    super(message);
    this.name = 'OdooException';
  }
}

export const userError = (m: string) => new OdooException('odoo.exceptions.UserError', m, 422);
export const validationError = (m: string) => new OdooException('odoo.exceptions.ValidationError', m, 422);
export const missingError = (m: string) => new OdooException('odoo.exceptions.MissingError', m, 404);
export const accessError = (m: string) => new OdooException('odoo.exceptions.AccessError', m, 403);
export const accessDenied = (m = 'Access Denied') => new OdooException('odoo.exceptions.AccessDenied', m, 403);
export const valueError = (m: string) => new OdooException('builtins.ValueError', m, 500);
export const typeError = (m: string) => new OdooException('builtins.TypeError', m, 500);
export const indexError = (m: string) => new OdooException('builtins.IndexError', m, 500);
export const attributeError = (m: string) => new OdooException('builtins.AttributeError', m, 500);
export const serializationFailure = () =>
  new OdooException('psycopg2.errors.SerializationFailure', 'could not serialize access due to concurrent update\n', 500);
export const noDatabase = (db: string) =>
  new OdooException('psycopg2.OperationalError', `connection to server at "127.0.0.1", port 5432 failed: FATAL:  database "${db}" does not exist\n`, 500);

/** werkzeug HTTP exceptions: JSON-2 reports them with message = description, arguments = [description, code]. */
export function httpException(code: number, description: string): OdooException {
  const names: Record<number, string> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    415: 'UnsupportedMediaType',
    422: 'UnprocessableEntity',
  };
  return new OdooException(`werkzeug.exceptions.${names[code] ?? 'HTTPException'}`, description, code, [description, code]);
}

/** Odoo's serialize_exception(): the `data` of a JSON-RPC error and the body of a JSON-2 error. */
export function serializeException(e: OdooException): Record<string, unknown> {
  return {
    name: e.odooName,
    message: e.message,
    arguments: e.args,
    context: {},
    debug: `Traceback (most recent call last):\n  File "odoo-sim", line 1, in <module>\n${e.odooName}: ${e.message}\n`,
  };
}

/** A Python exception raised by a bug (a TypeError in our own code): reported as Odoo would a crash. */
export function fromUnknown(err: unknown): OdooException {
  if (err instanceof OdooException) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new OdooException('builtins.RuntimeError', msg, 500);
}
