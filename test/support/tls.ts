/**
 * Certificates for a local PostgreSQL with TLS on, made with openssl in a
 * temporary folder: a CA, a server certificate it signs for `localhost` only,
 * and an unrelated CA that must not be trusted.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestCertificates {
  dir: string;
  caFile: string;
  otherCaFile: string;
  serverCertFile: string;
  serverKeyFile: string;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function selfSignedCa(dir: string, name: string): void {
  openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=Cats test ${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
}

/**
 * @param serverUser the operating-system user the PostgreSQL server runs as,
 * which must own the key (PostgreSQL refuses a key others can read).
 */
export function makeTestCertificates(serverUser?: { uid: number; gid: number }): TestCertificates {
  const dir = mkdtempSync(path.join(tmpdir(), 'cats-tls-'));
  chmodSync(dir, 0o755);
  selfSignedCa(dir, 'ca');
  selfSignedCa(dir, 'other-ca');
  writeFileSync(
    path.join(dir, 'server.ext'),
    'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  openssl(
    dir,
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  );
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'server.ext',
    '-out',
    'server.crt',
  );
  const serverKeyFile = path.join(dir, 'server.key');
  const serverCertFile = path.join(dir, 'server.crt');
  chmodSync(serverKeyFile, 0o600);
  chmodSync(serverCertFile, 0o644);
  if (serverUser) {
    chownSync(serverKeyFile, serverUser.uid, serverUser.gid);
    chownSync(serverCertFile, serverUser.uid, serverUser.gid);
  }
  return {
    dir,
    caFile: path.join(dir, 'ca.crt'),
    otherCaFile: path.join(dir, 'other-ca.crt'),
    serverCertFile,
    serverKeyFile,
  };
}

/** The `postgres` flags that turn TLS on with these certificates (startLocalDatabase's postgresFlags). */
export function tlsServerFlags(certificates: TestCertificates): string[] {
  return [
    '-c',
    'ssl=on',
    '-c',
    `ssl_cert_file=${certificates.serverCertFile}`,
    '-c',
    `ssl_key_file=${certificates.serverKeyFile}`,
  ];
}
