import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { AgentError } from '../errors';

/**
 * Local users of the status page, kept in one JSON file (http.usersFile) with
 * scrypt password hashes. Managed with `edge-agent users add|remove|list`;
 * the running agent reads the file again whenever it changes, so a removed
 * user is logged out on their next click without a restart.
 */

/** viewer: sees the page; supervisor: also retries, skips and edits events; admin: everything. */
export type Role = 'viewer' | 'supervisor' | 'admin';
export const ROLES: readonly Role[] = ['viewer', 'supervisor', 'admin'];

export interface User {
  name: string;
  role: Role;
}

interface StoredUser extends User {
  /** scrypt parameters the hash was made with (kept so they can be raised later without breaking old entries). */
  scrypt: { N: number; r: number; p: number; keyLength: number };
  salt: string;
  hash: string;
  createdAt: string;
}

interface UsersFile {
  users: StoredUser[];
}

/** 2^14 costs about 16 MiB and some tens of milliseconds per check on a gateway CPU. */
const PARAMS = { N: 16384, r: 8, p: 1, keyLength: 64 } as const;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const MIN_PASSWORD_LENGTH = 8;

function scrypt(password: string, salt: Buffer, params: StoredUser['scrypt']): Promise<Buffer> {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 128 * params.N * params.r * 2 };
  return new Promise((resolve, reject) => {
    scryptCallback(password.normalize('NFC'), salt, params.keyLength, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

const cache = new Map<string, { mtimeMs: number; size: number; data: UsersFile }>();

function readUsers(file: string): UsersFile {
  let st;
  try {
    st = statSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { users: [] };
    throw err;
  }
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.data;
  let data: UsersFile;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<UsersFile>;
    data = { users: Array.isArray(parsed.users) ? parsed.users.filter(isStoredUser) : [] };
  } catch (err) {
    throw new AgentError('USERS_FILE', `users file ${file} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  cache.set(file, { mtimeMs: st.mtimeMs, size: st.size, data });
  return data;
}

function isStoredUser(u: unknown): u is StoredUser {
  const x = u as StoredUser;
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof x.name === 'string' &&
    ROLES.includes(x.role) &&
    typeof x.salt === 'string' &&
    typeof x.hash === 'string' &&
    typeof x.scrypt?.N === 'number'
  );
}

/** Write the whole file next to itself, then rename: a crash never leaves half a file. Readable by the agent's user only. */
function writeUsers(file: string, data: UsersFile): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  cache.delete(file);
}

/** Add a user, or give an existing one a new password and role. Returns whether the user is new. Throws AgentError BAD_USER/BAD_ROLE/WEAK_PASSWORD. */
export async function addUser(file: string, name: string, role: Role, password: string): Promise<{ created: boolean }> {
  if (!NAME.test(name))
    throw new AgentError('BAD_USER', `user name "${name}" is not allowed: letters, digits, . _ @ - (at most 64), starting with a letter or digit`);
  if (!ROLES.includes(role)) throw new AgentError('BAD_ROLE', `role "${String(role)}" is not one of ${ROLES.join(', ')}`);
  if (password.length < MIN_PASSWORD_LENGTH) throw new AgentError('WEAK_PASSWORD', `the password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, PARAMS);
  const data = readUsers(file);
  const entry: StoredUser = {
    name,
    role,
    scrypt: { ...PARAMS },
    salt: salt.toString('base64'),
    hash: hash.toString('base64'),
    createdAt: new Date().toISOString(),
  };
  const others = data.users.filter((u) => u.name !== name);
  writeUsers(file, { users: [...others, entry] });
  return { created: others.length === data.users.length };
}

/** Remove a user. Returns false when there was no such user. */
export function removeUser(file: string, name: string): boolean {
  const data = readUsers(file);
  const rest = data.users.filter((u) => u.name !== name);
  if (rest.length === data.users.length) return false;
  writeUsers(file, { users: rest });
  return true;
}

/** Names and roles, never hashes. */
export function listUsers(file: string): User[] {
  return readUsers(file).users.map((u) => ({ name: u.name, role: u.role }));
}

/** The user as the file says now (role changes and removals take effect at once), or undefined. */
export function findUser(file: string, name: string): User | undefined {
  const u = readUsers(file).users.find((x) => x.name === name);
  return u ? { name: u.name, role: u.role } : undefined;
}

const dummy = { salt: randomBytes(16), params: { ...PARAMS } };

/**
 * Check a name and password. Resolves with the user, or undefined for an
 * unknown name or a wrong password: both take the same time (an unknown name
 * is hashed too), so the answer does not tell which names exist.
 */
export async function verifyUser(file: string, name: string, password: string): Promise<User | undefined> {
  const u = readUsers(file).users.find((x) => x.name === name);
  if (!u) {
    await scrypt(password, dummy.salt, dummy.params);
    return undefined;
  }
  const expected = Buffer.from(u.hash, 'base64');
  const got = await scrypt(password, Buffer.from(u.salt, 'base64'), { ...u.scrypt, keyLength: expected.length });
  return got.length === expected.length && timingSafeEqual(got, expected) ? { name: u.name, role: u.role } : undefined;
}

/** Whether `role` may do what `needed` may. */
export function roleAllows(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}
