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

/**
 * The seeds a long fuzz runs one after the other in one process:
 * CATS_FUZZ_SEEDS=<n> asks for `first` and n - 1 more, each printed;
 * CATS_FUZZ_SEEDS=<seed>,<seed>,... for those; without it, `first` alone.
 */
export function fuzzSeeds(first: number): number[] {
  // A list (CATS_FUZZ_SEEDS=5,-7,9): those seeds, as a long run printed them, to finish or replay it.
  const list = process.env.CATS_FUZZ_SEEDS?.includes(',') ? process.env.CATS_FUZZ_SEEDS.split(',') : undefined;
  if (list) {
    if (!list.every((seed) => /^-?\d+$/.test(seed.trim())))
      throw new Error('CATS_FUZZ_SEEDS: a count, or seeds separated by commas');
    const seeds = list.map(Number);
    console.log(`fast-check seeds ${seeds.join(', ')}; replay one with CATS_FUZZ_SEED=<seed>`);
    return seeds;
  }
  const count = Number(process.env.CATS_FUZZ_SEEDS ?? 1);
  if (!Number.isInteger(count) || count < 1) throw new Error('CATS_FUZZ_SEEDS must be a count of seeds, 1 or more');
  const seeds = [first];
  while (seeds.length < count) seeds.push(Date.now() ^ (Math.random() * 0x100000000));
  if (count > 1) console.log(`fast-check seeds ${seeds.join(', ')}; replay one with CATS_FUZZ_SEED=<seed>`);
  return seeds;
}
