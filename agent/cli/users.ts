import { readFileSync } from 'node:fs';
import { withOutbox } from './open-outbox';
import type { AgentConfig } from '../config/schema';
import { AgentError } from '../errors';
import { addUser, listUsers, removeUser, ROLES, type Role } from '../http/users';

/**
 * `edge-agent users add|remove|list`: local users of the status page. A
 * password never goes on the command line (it would show in `ps` and shell
 * history): it is read from standard input or from --password-file.
 */
export async function usersCommand(
  config: AgentConfig,
  sub: string | undefined,
  args: string[],
  values: Record<string, string | boolean | undefined>,
  out: (v: unknown, text: string) => void,
  actor: string,
): Promise<number> {
  const file = config.http.usersFile;
  switch (sub) {
    case 'list': {
      const users = listUsers(file).map((u) => ({ name: u.name, role: u.role }));
      out(users, users.length ? users.map((u) => `${u.name}  ${u.role}`).join('\n') : 'no users');
      return 0;
    }
    case 'add': {
      const name = args[0];
      const role = values.role as Role | undefined;
      if (!name) throw new AgentError('USAGE', 'users add NAME --role ROLE');
      if (!role || !ROLES.includes(role)) throw new AgentError('USAGE', `--role must be one of ${ROLES.join(', ')}`);
      const pf = values['password-file'];
      const raw = typeof pf === 'string' ? readFileSync(pf, 'utf8') : readFileSync(0, 'utf8');
      const password = raw.replace(/\r?\n$/, '');
      const r = await addUser(file, name, role, password);
      await audit(config, actor, r.created ? 'user-add' : 'user-change', { name, role });
      out({ name, role, created: r.created }, `${r.created ? 'added' : 'changed'} ${name} (${role})`);
      return 0;
    }
    case 'remove': {
      const name = args[0];
      if (!name) throw new AgentError('USAGE', 'users remove NAME');
      if (!removeUser(file, name)) throw new AgentError('NOT_FOUND', `no user ${name}`);
      await audit(config, actor, 'user-remove', { name });
      out({ removed: name }, `removed ${name}`);
      return 0;
    }
    default:
      throw new AgentError('USAGE', 'users add|remove|list');
  }
}

function audit(config: AgentConfig, actor: string, action: string, detail: unknown): Promise<void> {
  return withOutbox(config, (outbox) => outbox.audit(actor, action, detail));
}
