/**
 * `npm run measure:ca-bundle`: what parsing the bundled RDS CA certificates
 * costs (a TLS secure context with all of them, against one with a single
 * CA), which is why lib/db/credentials.ts builds it once per container.
 */

import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { rdsCaFile } from '../lib/db/credentials.js';

const rdsCaBundle =
  readFileSync(rdsCaFile(), 'utf8').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];

const rounds = Number(process.env.ROUNDS ?? 20);
const time = (ca: string[]) => {
  for (let i = 0; i < 3; i++) createSecureContext({ ca });
  const start = performance.now();
  for (let i = 0; i < rounds; i++) createSecureContext({ ca });
  return (performance.now() - start) / rounds;
};
const all = time([...rdsCaBundle]);
const one = time(rdsCaBundle.slice(0, 1));
console.log(`secure context, ${rounds} rounds each (mean):`);
console.log(
  `  ${rdsCaBundle.length} RDS CAs: ${all.toFixed(2)} ms; 1 CA: ${one.toFixed(2)} ms; ratio ${(all / one).toFixed(1)}`,
);
