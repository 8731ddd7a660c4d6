import { chmodSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { OPCUACertificateManager, getHostname, makeApplicationUrn } from 'node-opcua';
import { OWN_CERTIFICATE, OWN_PRIVATE_KEY, applicationUriOf, readCertificateFile, thumbprintOf } from './certs';

export interface OwnCertificate {
  certificateFile: string;
  privateKeyFile: string;
  /** The application URI written in the certificate; the agent announces exactly this one. */
  applicationUri: string;
  thumbprint: string;
  validTo: string;
  /** True when this call created it. */
  created: boolean;
}

const pending = new Map<string, Promise<OwnCertificate>>();

/** When this process started (ms since epoch). */
const PROCESS_STARTED_AT = Date.now() - process.uptime() * 1000;

/**
 * node-opcua guards a PKI folder with a lock directory, `<pkiDir>/mutex.lock`,
 * that its holder removes when it exits normally; one killed while holding it
 * (SIGKILL, power loss) leaves it behind, and every later process waits two
 * minutes for it to go stale before it may use the folder: the OPC UA source,
 * and the sources started after it, hang at start. A lock older than this
 * process was left by an earlier one (only one agent owns a state directory):
 * remove it. A lock taken since this process started (another source of this
 * agent making its certificate) is left alone. True when one was removed.
 */
export function clearLeftoverPkiLock(pkiDir: string): boolean {
  const lock = join(pkiDir, 'mutex.lock');
  try {
    if (statSync(lock).mtimeMs >= PROCESS_STARTED_AT) return false;
    rmSync(lock, { recursive: true, force: true });
    return true;
  } catch {
    return false; // no lock
  }
}

/**
 * The agent's own application certificate in `<pkiDir>/own`: created on first
 * use (RSA 2048, self-signed, 10 years, the gateway's host name), then reused.
 * Calls for the same folder share one creation.
 */
export function ensureOwnCertificate(pkiDir: string, applicationName: string): Promise<OwnCertificate> {
  let p = pending.get(pkiDir);
  if (!p) {
    p = create(pkiDir, applicationName).finally(() => pending.delete(pkiDir));
    pending.set(pkiDir, p);
  }
  return p;
}

async function create(pkiDir: string, applicationName: string): Promise<OwnCertificate> {
  mkdirSync(pkiDir, { recursive: true, mode: 0o750 });
  const certificateFile = join(pkiDir, OWN_CERTIFICATE);
  const privateKeyFile = join(pkiDir, OWN_PRIVATE_KEY);
  let created = false;
  if (!existsSync(certificateFile) || !existsSync(privateKeyFile)) {
    clearLeftoverPkiLock(pkiDir);
    const cm = new OPCUACertificateManager({ rootFolder: pkiDir, automaticallyAcceptUnknownCertificate: false, disableFileWatchers: true });
    try {
      await cm.initialize(); // creates the folders and the private key when missing
      if (!existsSync(certificateFile)) {
        const host = getHostname();
        await cm.createSelfSignedCertificate({
          applicationUri: makeApplicationUrn(host, applicationName),
          dns: [host],
          outputFile: certificateFile,
          // only a common name: no placeholder organisation or country in a plant's trust list
          subject: { commonName: `${applicationName}@${host}` },
          startDate: new Date(),
          validity: 365 * 10,
        });
        created = true;
      }
    } finally {
      await cm.dispose().catch(() => undefined);
    }
    try {
      chmodSync(privateKeyFile, 0o600);
    } catch {
      /* a read-only or foreign-owned key stays as it is; it is still usable */
    }
  }
  const cert = readCertificateFile(certificateFile);
  if (!cert) throw new Error(`${certificateFile} does not hold a certificate; move it away and start again to create a new one`);
  return {
    certificateFile,
    privateKeyFile,
    applicationUri: applicationUriOf(cert) ?? makeApplicationUrn(getHostname(), applicationName),
    thumbprint: thumbprintOf(cert),
    validTo: new Date(cert.validTo).toISOString(),
    created,
  };
}
