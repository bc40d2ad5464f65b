#!/usr/bin/env bash
# Runs every fast-check test file (the contract fuzz over HTTP, the handler
# fuzz, the unit properties) once per seed, each with CATS_FUZZ_SEED set, and
# says which seeds failed. Proof that the fuzz is green whatever the seed, and
# the way to replay a seed a run printed:
#
#   bash scripts/fuzz-seeds.sh 20             # 20 new random seeds
#   bash scripts/fuzz-seeds.sh 15211735 42    # these seeds
#
# A single number below 1000 is a count of random seeds. Output of each run:
# $TMPDIR/cats-fuzz-seed-<seed>.log.
set -uo pipefail
cd "$(dirname "$0")/.."
files=(test/e2e/contract-fuzz.test.ts test/integration/fuzz.test.ts test/unit/schema.test.ts test/unit/query-cache.test.ts)
if [ $# -eq 1 ] && [ "$1" -lt 1000 ] 2>/dev/null; then
  seeds=()
  for _ in $(seq "$1"); do seeds+=("$(node -p 'Math.floor(Math.random() * 2 ** 31)')"); done
else
  seeds=("${@:-15211735}")
fi
failed=()
for seed in "${seeds[@]}"; do
  log="${TMPDIR:-/tmp}/cats-fuzz-seed-$seed.log"
  if CATS_FUZZ_SEED="$seed" npm test -- "${files[@]}" >"$log" 2>&1; then
    echo "seed $seed: passed ($(grep -m1 '^Tests:' "$log"))"
  else
    echo "seed $seed: FAILED ($(grep -m1 '^Tests:' "$log")); see $log"
    failed+=("$seed")
  fi
done
echo "${#seeds[@]} seeds, ${#failed[@]} failed${failed:+: ${failed[*]}}"
[ ${#failed[@]} -eq 0 ]
