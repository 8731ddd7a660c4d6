import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { createSecureContext } from 'node:tls';

/** What is wrong with the page's certificate and key, or undefined when they serve TLS together. Never quotes them. */
export function certificateProblem(certificate: string, key: string): { field: 'certificate' | 'key'; message: string } | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certificate);
  } catch {
    return { field: 'certificate', message: 'not a PEM certificate (-----BEGIN CERTIFICATE-----)' };
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(key);
  } catch (err) {
    const encrypted = (err as { code?: string }).code === 'ERR_MISSING_PASSPHRASE';
    return { field: 'key', message: encrypted ? 'the private key is encrypted; give it unencrypted (openssl pkey)' : 'not a PEM private key' };
  }
  if (!cert.checkPrivateKey(keyObject)) return { field: 'key', message: `not the private key of the certificate (${oneLine(cert.subject)})` };
  try {
    createSecureContext({ cert: certificate, key });
  } catch (err) {
    return { field: 'certificate', message: `cannot serve TLS with it: ${(err as Error).message}` };
  }
  return undefined;
}

function oneLine(subject: string): string {
  return subject.split('\n').join(', ');
}
