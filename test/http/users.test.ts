import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AgentError } from '../../agent/errors';
import { addUser, findUser, listUsers, removeUser, roleAllows, verifyUser } from '../../agent/http/users';

const dir = mkdtempSync(join(tmpdir(), 'users-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => join(dir, `users-${++n}.json`);

describe('local users', () => {
  it('adds a user with a salted scrypt hash and verifies the password', async () => {
    const f = file();
    assert.deepEqual(await addUser(f, 'sam', 'supervisor', 'correct horse'), { created: true });
    assert.deepEqual(await verifyUser(f, 'sam', 'correct horse'), { name: 'sam', role: 'supervisor' });
    assert.equal(await verifyUser(f, 'sam', 'correct hors'), undefined);
    assert.equal(await verifyUser(f, 'nobody', 'correct horse'), undefined);
    const text = readFileSync(f, 'utf8');
    assert.doesNotMatch(text, /correct horse/);
    const stored = JSON.parse(text) as { users: Array<{ salt: string; hash: string; scrypt: { N: number } }> };
    assert.equal(Buffer.from(stored.users[0]!.salt, 'base64').length, 16);
    assert.equal(Buffer.from(stored.users[0]!.hash, 'base64').length, 64);
    assert.ok(stored.users[0]!.scrypt.N >= 16384);
    assert.equal(statSync(f).mode & 0o777, 0o600, 'only the agent user may read the hashes');
  });

  it('gives two users with the same password different hashes', async () => {
    const f = file();
    await addUser(f, 'a', 'viewer', 'same password');
    await addUser(f, 'b', 'viewer', 'same password');
    const [a, b] = (JSON.parse(readFileSync(f, 'utf8')) as { users: Array<{ hash: string; salt: string }> }).users;
    assert.notEqual(a!.salt, b!.salt);
    assert.notEqual(a!.hash, b!.hash);
  });

  it('replaces password and role of an existing user, removes users, lists without hashes', async () => {
    const f = file();
    await addUser(f, 'ada', 'viewer', 'first password');
    assert.deepEqual(await addUser(f, 'ada', 'admin', 'second password'), { created: false });
    assert.equal(await verifyUser(f, 'ada', 'first password'), undefined);
    assert.deepEqual(await verifyUser(f, 'ada', 'second password'), { name: 'ada', role: 'admin' });
    await addUser(f, 'vera', 'viewer', 'vera password');
    assert.deepEqual(listUsers(f), [
      { name: 'ada', role: 'admin' },
      { name: 'vera', role: 'viewer' },
    ]);
    assert.equal(removeUser(f, 'ada'), true);
    assert.equal(removeUser(f, 'ada'), false);
    assert.equal(findUser(f, 'ada'), undefined);
    assert.deepEqual(findUser(f, 'vera'), { name: 'vera', role: 'viewer' });
  });

  it('sees changes another process wrote to the file', async () => {
    const f = file();
    await addUser(f, 'sam', 'supervisor', 'sam password');
    assert.equal(findUser(f, 'sam')?.role, 'supervisor');
    const data = JSON.parse(readFileSync(f, 'utf8')) as { users: Array<{ role: string }> };
    data.users[0]!.role = 'viewer';
    writeFileSync(f, JSON.stringify(data, null, 4));
    assert.equal(findUser(f, 'sam')?.role, 'viewer');
  });

  it('refuses bad names, roles and short passwords', async () => {
    const f = file();
    const code = async (p: Promise<unknown>) => {
      try {
        await p;
        return 'no error';
      } catch (err) {
        return err instanceof AgentError ? err.code : String(err);
      }
    };
    assert.equal(await code(addUser(f, 'bad name', 'viewer', 'long enough')), 'BAD_USER');
    assert.equal(await code(addUser(f, '', 'viewer', 'long enough')), 'BAD_USER');
    assert.equal(await code(addUser(f, 'x', 'root' as never, 'long enough')), 'BAD_ROLE');
    assert.equal(await code(addUser(f, 'x', 'viewer', 'short')), 'WEAK_PASSWORD');
    assert.deepEqual(listUsers(f), []);
  });

  it('a missing file means no users; a broken one is an error naming the file', () => {
    assert.deepEqual(listUsers(join(dir, 'absent.json')), []);
    const f = file();
    writeFileSync(f, '{ not json');
    assert.throws(
      () => listUsers(f),
      (err: unknown) => err instanceof AgentError && err.code === 'USERS_FILE' && err.message.includes(f),
    );
  });

  it('orders roles viewer < supervisor < admin', () => {
    assert.equal(roleAllows('viewer', 'supervisor'), false);
    assert.equal(roleAllows('supervisor', 'supervisor'), true);
    assert.equal(roleAllows('admin', 'supervisor'), true);
    assert.equal(roleAllows('supervisor', 'admin'), false);
  });
});
