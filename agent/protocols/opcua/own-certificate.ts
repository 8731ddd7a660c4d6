import { chmodSync, existsSync, mkdirSync } from 'node:fs';
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
