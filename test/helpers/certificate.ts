import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A self-signed certificate for 127.0.0.1 (EC P-256, one day) and its unencrypted key, made with openssl in `dir` as NAME.crt and NAME.key. */
export function makeCertificate(dir: string, name: string): { certificateFile: string; keyFile: string } {
  const certificateFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'];
  args.push('-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certificateFile);
  execFileSync('openssl', args, { stdio: 'ignore' });
  return { certificateFile, keyFile };
}

export interface CertificateFiles {
  certificateFile: string;
  keyFile: string;
}

/** A certificate authority (EC P-256, one day) made with openssl in `dir` as NAME.crt and NAME.key. */
export function makeCa(dir: string, name: string): CertificateFiles {
  const certificateFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'];
  args.push('-subj', `/CN=${name}`, '-keyout', keyFile, '-out', certificateFile);
  execFileSync('openssl', args, { stdio: 'ignore' });
  return { certificateFile, keyFile };
}

/**
 * A certificate for 127.0.0.1 signed by `ca` (EC P-256, one day), for a TLS
 * server (`serverAuth`) or a client (`clientAuth`), as NAME.crt and NAME.key in `dir`.
 */
export function issueCertificate(dir: string, name: string, ca: CertificateFiles, use: 'server' | 'client'): CertificateFiles {
  const certificateFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const request = join(dir, `${name}.csr`);
  const extensions = join(dir, `${name}.ext`);
  execFileSync(
    'openssl',
    ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`, '-keyout', keyFile, '-out', request],
    {
      stdio: 'ignore',
    },
  );
  writeFileSync(extensions, `subjectAltName=IP:127.0.0.1\nextendedKeyUsage=${use === 'server' ? 'serverAuth' : 'clientAuth'}\n`);
  const args = ['x509', '-req', '-in', request, '-CA', ca.certificateFile, '-CAkey', ca.keyFile, '-CAcreateserial', '-days', '1'];
  args.push('-extfile', extensions, '-out', certificateFile);
  execFileSync('openssl', args, { stdio: 'ignore' });
  return { certificateFile, keyFile };
}

/** Why certificates cannot be made here (openssl missing), or undefined. */
export function opensslMissing(): string | undefined {
  const r = spawnSync('openssl', ['version'], { stdio: 'ignore' });
  return r.error || r.status !== 0 ? 'openssl is not installed: the test makes its certificates with it' : undefined;
}
