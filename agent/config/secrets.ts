import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { readRegularFile } from './read-file';

/**
 * Secrets never appear in the config file. A secret field holds a reference:
 *   ${env:NAME}         an environment variable
 *   ${file:/abs/path}   a file's text (one trailing newline removed); a regular file of at most 64 KiB
 *   ${credential:NAME}  a systemd credential: $CREDENTIALS_DIRECTORY/NAME
 * The reference is resolved while the config is validated; an unresolved one is
 * a config error that names the reference, never a value.
 */
export const SECRET_REF = /^\$\{(env|file|credential):([^}]+)\}$/;

/** A secret file is a regular file of at most this size (a key, a password, a certificate passphrase). */
export const MAX_SECRET_BYTES = 65_536;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export type SecretResolution = { ok: true; value: string } | { ok: false; message: string };

export function resolveSecret(ref: string, env: NodeJS.ProcessEnv = process.env): SecretResolution {
  const m = SECRET_REF.exec(ref.trim());
  if (!m) return { ok: false, message: 'must be a secret reference: ${env:NAME}, ${file:/path} or ${credential:NAME}; inline secrets are not allowed' };
  const [, kind, name] = m as unknown as [string, 'env' | 'file' | 'credential', string];
  if (kind === 'env') {
    const v = env[name];
    if (v === undefined || v === '') return { ok: false, message: `unresolved secret ${ref}: environment variable ${name} is not set` };
    return { ok: true, value: v };
  }
  let path: string;
  if (kind === 'file') {
    if (!isAbsolute(name)) return { ok: false, message: `unresolved secret ${ref}: the path must be absolute` };
    path = name;
  } else {
    const dir = env.CREDENTIALS_DIRECTORY;
    if (!dir) return { ok: false, message: `unresolved secret ${ref}: CREDENTIALS_DIRECTORY is not set (use LoadCredential= in the systemd unit)` };
    if (name.includes('/')) return { ok: false, message: `unresolved secret ${ref}: a credential name has no '/'` };
    path = join(dir, name);
  }
  const file = readRegularFile(path, MAX_SECRET_BYTES);
  if (!file.ok) return { ok: false, message: `unresolved secret ${ref}: cannot read ${path} (${file.reason})` };
  let text: string;
  try {
    text = utf8.decode(file.bytes);
  } catch {
    return { ok: false, message: `unresolved secret ${ref}: ${path} is not UTF-8 text` };
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') return { ok: false, message: `unresolved secret ${ref}: the file is empty` };
  return { ok: true, value };
}

let lenient = false;

/**
 * Validate with well-formed but unresolvable secret references accepted as
 * empty: for CLI commands that never use the secrets (outbox, status, users),
 * so an operator can run them outside the service's credentials.
 */
export function withLenientSecrets<T>(fn: () => T): T {
  lenient = true;
  try {
    return fn();
  } finally {
    lenient = false;
  }
}

/**
 * A config field that holds a secret reference; validation resolves it, so the
 * parsed config holds the secret itself. Use it for every password and key.
 */
export function secretRef() {
  return z.string().transform((ref, ctx) => {
    const r = resolveSecret(ref);
    if (!r.ok && lenient && SECRET_REF.test(ref.trim())) return '';
    if (!r.ok) {
      ctx.addIssue({ code: 'custom', message: r.message });
      return z.NEVER;
    }
    return r.value;
  });
}
