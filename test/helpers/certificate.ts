import { execFileSync } from 'node:child_process';
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
