/**
 * `npm run bundle-sizes`: records each function's bundle size, and what it is
 * made of, in test/bundle-sizes.json. test/unit/bundle.test.ts fails when a
 * bundle grows past its record by more than a small tolerance, and says which
 * package or file the bytes came from; run this when the growth is intended,
 * and commit the file with the change that caused it.
 */
import { writeFileSync } from 'node:fs';
import { buildFunction, deployedFunctions, root } from '../test/support/bundle.js';

const sorted = (record: Record<string, number>) =>
  Object.fromEntries(Object.entries(record).sort(([, a], [, b]) => b - a));

const sizes: Record<string, { bytes: number; composition: Record<string, number> }> = {};
for (const name of deployedFunctions().sort()) {
  const { code, composition } = await buildFunction(name);
  sizes[name] = { bytes: Buffer.byteLength(code), composition: sorted(composition) };
  console.log(`${name}: ${(sizes[name].bytes / 1024).toFixed(1)} KB`);
}
writeFileSync(`${root}test/bundle-sizes.json`, `${JSON.stringify(sizes, null, 2)}\n`);
console.log('written to test/bundle-sizes.json');
