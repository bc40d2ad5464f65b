/**
 * `npm run measure:ca-bundle`: what parsing the bundled RDS CA certificates
 * costs (a TLS secure context with all of them, against one with a single
 * CA, and one region's, which is what a packaged function ships), which is
 * why lib/db/credentials.ts builds it once per container.
 */

import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { rdsCaFile } from '../lib/db/credentials.js';
import { rdsCaPem } from './rds-ca.js';

const certificates = (pem: string) => pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
const rdsCaBundle = certificates(readFileSync(rdsCaFile({}), 'utf8'));
// What a packaged function ships: its region's (serverless.yml).
const region = process.env.AWS_REGION ?? 'us-east-1';
const regionBundle = certificates(rdsCaPem(region));

const rounds = Number(process.env.ROUNDS ?? 20);
const time = (ca: string[]) => {
  for (let i = 0; i < 3; i++) createSecureContext({ ca });
  const start = performance.now();
  for (let i = 0; i < rounds; i++) createSecureContext({ ca });
  return (performance.now() - start) / rounds;
};
const all = time([...rdsCaBundle]);
const regional = time(regionBundle);
const one = time(rdsCaBundle.slice(0, 1));
console.log(`secure context, ${rounds} rounds each (mean):`);
console.log(
  `  ${rdsCaBundle.length} RDS CAs: ${all.toFixed(2)} ms; 1 CA: ${one.toFixed(2)} ms; ratio ${(all / one).toFixed(1)}`,
);
console.log(
  `  ${regionBundle.length} CAs of ${region} (what a packaged function ships): ${regional.toFixed(2)} ms; ratio to 1 CA ${(regional / one).toFixed(1)}`,
);
