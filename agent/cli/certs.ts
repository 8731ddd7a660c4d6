/**
 * `edge-agent certs list|trust|reject`: the OPC UA trust lists, for plant IT.
 * Works on the PKI folders of every `type: opcua` source in the config (the
 * default folder <stateDir>/pki when there is none), with or without the agent running.
 */
import { join } from 'node:path';
import type { AgentConfig } from '../config/schema';
import { AgentError } from '../errors';
import { listCertificates, pkiDirFor, rejectCertificate, trustCertificate, type CertificateEntry } from '../protocols/opcua/certs';

/** The distinct PKI folders of the config's OPC UA sources, with the sources that use each. */
export function pkiDirsOf(config: Pick<AgentConfig, 'stateDir' | 'sources'>): Array<{ pkiDir: string; sources: string[] }> {
  const byDir = new Map<string, string[]>();
  for (const s of config.sources as Array<{ type: string; name: string; pkiDir?: string }>) {
    if (s.type !== 'opcua') continue;
    const dir = pkiDirFor(config.stateDir, s.pkiDir);
    byDir.set(dir, [...(byDir.get(dir) ?? []), s.name]);
  }
  if (byDir.size === 0) byDir.set(join(config.stateDir, 'pki'), []);
  return [...byDir].map(([pkiDir, sources]) => ({ pkiDir, sources }));
}

export async function certsCommand(
  config: Pick<AgentConfig, 'stateDir' | 'sources'>,
  sub: string | undefined,
  args: string[],
  json: boolean,
  write: (text: string) => void = (t) => process.stdout.write(t),
): Promise<number> {
  const dirs = pkiDirsOf(config);
  if (sub === 'list' || sub === undefined) {
    const all = dirs.map((d) => ({ ...d, certificates: listCertificates(d.pkiDir) }));
    if (json) {
      write(`${JSON.stringify(all, null, 2)}\n`);
      return 0;
    }
    for (const d of all) {
      write(`PKI folder ${d.pkiDir}${d.sources.length ? ` (sources: ${d.sources.join(', ')})` : ''}\n`);
      if (d.certificates.length === 0) {
        write('  no certificates yet: the agent creates its own at its first start\n');
        continue;
      }
      for (const c of d.certificates) write(`  ${line(c)}\n`);
    }
    const rejected = all.flatMap((d) => d.certificates).filter((c) => c.status === 'rejected');
    if (rejected.length > 0)
      write(`\nCheck a rejected certificate with the server's administrator (compare the thumbprint), then: edge-agent certs trust <thumbprint>\n`);
    return 0;
  }
  if (sub === 'trust' || sub === 'reject') {
    const thumbprint = args[0];
    if (!thumbprint) throw new AgentError('USAGE', `certs ${sub} needs a THUMBPRINT (see "edge-agent certs list")`);
    const done: CertificateEntry[] = [];
    let lastError: AgentError | null = null;
    for (const d of dirs) {
      try {
        done.push(sub === 'trust' ? trustCertificate(d.pkiDir, thumbprint) : rejectCertificate(d.pkiDir, thumbprint));
      } catch (err) {
        if (err instanceof AgentError && err.code === 'CERT_NOT_FOUND') {
          lastError = err;
          continue;
        }
        if (err instanceof AgentError && err.code === 'CERT_THUMBPRINT_INVALID') throw new AgentError('USAGE', err.message);
        throw err;
      }
    }
    if (done.length === 0) {
      throw new AgentError('NOT_FOUND', lastError?.message ?? `no certificate ${thumbprint}`);
    }
    if (json) write(`${JSON.stringify(done, null, 2)}\n`);
    else {
      for (const c of done) write(`${sub === 'trust' ? 'trusted' : 'rejected'}: ${line(c)}\n`);
      write(
        sub === 'trust'
          ? 'The running agent uses it at its next connection attempt (at most reconnect.maxDelayMs from now).\n'
          : 'The agent will refuse that server from its next connection on.\n',
      );
    }
    return 0;
  }
  throw new AgentError('USAGE', `unknown certs command "${sub}" (list, trust THUMBPRINT, reject THUMBPRINT)`);
}

function line(c: CertificateEntry): string {
  return `${c.status.padEnd(8)} ${c.thumbprint}  valid to ${c.validTo.slice(0, 10)}  ${c.subject}${c.applicationUri ? `  ${c.applicationUri}` : ''}\n           ${c.file}`;
}
