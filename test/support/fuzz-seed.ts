/**
 * One seed for every fast-check property of a test file, printed on every run
 * (a pass too, not only a failure), so that any run can be replayed:
 *
 *   CATS_FUZZ_SEED=<seed> npm test -- <test file>
 *
 * runs the file's properties with the same generated values, in the same
 * order. Without the variable each run draws a new seed.
 */
import { basename } from 'node:path';
import fc from 'fast-check';

export function useFuzzSeed(file: string): number {
  const given = process.env.CATS_FUZZ_SEED;
  if (given !== undefined && !/^-?\d+$/.test(given)) {
    throw new Error(`CATS_FUZZ_SEED must be an integer (a seed a test run printed), not ${JSON.stringify(given)}`);
  }
  // fast-check's own default: a 32-bit integer from the clock and Math.random.
  const seed = given === undefined ? Date.now() ^ (Math.random() * 0x100000000) : Number(given);
  fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
  console.log(`${basename(file)}: fast-check seed ${seed}; replay with CATS_FUZZ_SEED=${seed}`);
  return seed;
}
