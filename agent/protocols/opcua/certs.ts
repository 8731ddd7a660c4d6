/**
 * The OPC UA PKI folder, for the CLI (`edge-agent certs list|trust|reject`) and the adapter.
 *
 *   <pkiDir>/own/certs/client_certificate.pem   the agent's own application certificate
 *   <pkiDir>/own/private/private_key.pem        its private key (never leaves the gateway)
 *   <pkiDir>/trusted/certs/                     server certificates the agent trusts
 *   <pkiDir>/rejected/                          server certificates it has seen and refused
 *   <pkiDir>/issuers/certs/, .../crl/           CA certificates and revocation lists
 *
 * A server certificate the agent has never seen lands in rejected/ on the first
 * connection attempt; a person moves it to trusted/ (trustCertificate). The
 * running agent picks the change up on its next connection attempt.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { AgentError } from '../../errors';

export type CertificateStatus = 'trusted' | 'rejected' | 'own';

export interface CertificateEntry {
  /** SHA-1 of the DER certificate, lower-case hex: the thumbprint OPC UA tools show. */
  thumbprint: string;
  /** Subject distinguished name, one "key=value" per line joined by ", ". */
  subject: string;
  status: CertificateStatus;
  /** End of validity, ISO 8601. */
  validTo: string;
  /** Absolute path of the file. */
  file: string;
  /** The application URI in the certificate (subjectAltName URI), when there is one. */
  applicationUri?: string;
}

export const OWN_CERTIFICATE = join('own', 'certs', 'client_certificate.pem');
export const OWN_PRIVATE_KEY = join('own', 'private', 'private_key.pem');
const TRUSTED = join('trusted', 'certs');
const REJECTED = 'rejected';

/** Where a source's PKI folder is: pkiDir from the config (relative to stateDir), default <stateDir>/pki. */
export function pkiDirFor(stateDir: string, pkiDir: string | undefined): string {
  if (pkiDir === undefined) return join(stateDir, 'pki');
  return isAbsolute(pkiDir) ? pkiDir : resolve(stateDir, pkiDir);
}

/** The certificate folders, relative to the PKI folder. */
export const PKI_FOLDERS = { trusted: TRUSTED, rejected: REJECTED, own: join('own', 'certs') } as const;

/** Read the first certificate of a PEM or DER file; null when the file holds none. */
export function readCertificateFile(file: string): X509Certificate | null {
  try {
    const bytes = readFileSync(file);
    const text = bytes.toString('latin1');
    const m = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text);
    return new X509Certificate(m ? Buffer.from(m[0], 'latin1') : bytes);
  } catch {
    return null;
  }
}

export function thumbprintOf(cert: X509Certificate): string {
  return cert.fingerprint.replace(/:/g, '').toLowerCase();
}

export function applicationUriOf(cert: X509Certificate): string | undefined {
  const san = cert.subjectAltName ?? '';
  const m = /URI:([^,\s]+)/.exec(san);
  return m ? m[1] : undefined;
}

function entry(file: string, status: CertificateStatus): CertificateEntry | null {
  const cert = readCertificateFile(file);
  if (!cert) return null;
  const e: CertificateEntry = {
    thumbprint: thumbprintOf(cert),
    subject: cert.subject.split('\n').filter(Boolean).join(', '),
    status,
    validTo: new Date(cert.validTo).toISOString(),
    file,
  };
  const uri = applicationUriOf(cert);
  if (uri) e.applicationUri = uri;
  return e;
}

function certificateFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => /\.(pem|der|crt|cer)$/i.test(n))
    .map((n) => join(dir, n))
    .filter((p) => {
      try {
        return statSync(p).isFile();
      } catch {
        return false;
      }
    })
    .sort();
}

/**
 * Every certificate in the PKI folder: the agent's own, the trusted and the
 * rejected server certificates. Files that hold no certificate are skipped.
 * An empty list when the folder does not exist yet (the agent creates it on first start).
 */
export function listCertificates(pkiDir: string): CertificateEntry[] {
  const out: CertificateEntry[] = [];
  const own = join(pkiDir, OWN_CERTIFICATE);
  if (existsSync(own)) {
    const e = entry(own, 'own');
    if (e) out.push(e);
  }
  for (const [status, dir] of [
    ['trusted', TRUSTED],
    ['rejected', REJECTED],
  ] as const) {
    for (const file of certificateFiles(join(pkiDir, dir))) {
      const e = entry(file, status);
      if (e) out.push(e);
    }
  }
  return out;
}

/** Number of rejected certificates (cheap: counts files). */
export function countRejected(pkiDir: string): number {
  return certificateFiles(join(pkiDir, REJECTED)).length;
}

function normalizeThumbprint(thumbprint: string): string {
  const t = thumbprint.replace(/[:\s]/g, '').toLowerCase();
  if (!/^[0-9a-f]{40}$/.test(t)) {
    throw new AgentError(
      'CERT_THUMBPRINT_INVALID',
      `"${thumbprint}" is not a certificate thumbprint (40 hexadecimal digits, as shown by "edge-agent certs list")`,
    );
  }
  return t;
}

function move(pkiDir: string, thumbprint: string, from: CertificateStatus, to: 'trusted' | 'rejected'): CertificateEntry {
  const t = normalizeThumbprint(thumbprint);
  const all = listCertificates(pkiDir);
  const found = all.filter((c) => c.thumbprint === t);
  if (found.some((c) => c.status === to) && !found.some((c) => c.status === from)) {
    return found.find((c) => c.status === to)!; // already there: nothing to do
  }
  const source = found.find((c) => c.status === from);
  if (!source) {
    if (found.some((c) => c.status === 'own')) {
      throw new AgentError('CERT_IS_OWN', `certificate ${t} is the agent's own certificate; copy it to the server's trust list instead`);
    }
    throw new AgentError('CERT_NOT_FOUND', `no ${from} certificate with thumbprint ${t} in ${pkiDir} (see "edge-agent certs list")`);
  }
  const targetDir = join(pkiDir, to === 'trusted' ? TRUSTED : REJECTED);
  mkdirSync(targetDir, { recursive: true });
  const target = join(targetDir, basename(source.file));
  renameSync(source.file, target); // atomic within one file system
  // the same certificate filed twice under other names: the other copies go too, so the lists agree
  for (const other of found) {
    if (other.status === from && other.file !== source.file) renameSync(other.file, join(targetDir, basename(other.file)));
  }
  return { ...source, status: to, file: target };
}

/** Move a rejected server certificate to the trusted list. Throws CERT_NOT_FOUND when no rejected certificate has this thumbprint. */
export function trustCertificate(pkiDir: string, thumbprint: string): CertificateEntry {
  return move(pkiDir, thumbprint, 'rejected', 'trusted');
}

/** Move a trusted server certificate to the rejected list (the agent stops connecting to that server). */
export function rejectCertificate(pkiDir: string, thumbprint: string): CertificateEntry {
  return move(pkiDir, thumbprint, 'trusted', 'rejected');
}
