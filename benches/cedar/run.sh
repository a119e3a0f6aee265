#!/usr/bin/env bash
# policy-sim against Cedar on the same workload (benches/README.md, "Against Cedar").
#
#   CEDAR=/path/to/cedar benches/cedar/run.sh [POLICIES] [DIR]
#
# CEDAR: the Cedar CLI, `cargo install cedar-policy-cli --version =4.14.1 --locked` (default: `cedar` on PATH).
# 1. builds policy-sim, the workload generator (examples/cedar_workload.rs) and the Cedar harness
#    (benches/cedar/harness, its own Cargo project, built into target/cedar-harness);
# 2. writes the benches' POLICIES-policy OVHcloud set (default 10000) for both engines into DIR
#    (default target/policy-sim-bench/cedar) with 1,000, 10,000 and 100,000 requests;
# 3. checks that the two engines agree on the 1,000 requests: the harness's decisions (whole set, and
#    sliced per principal), and `cedar run-tests` expecting policy-sim's decisions;
# 4. prints the commands that time them end to end (hyperfine).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-10000}
DIR=${2:-target/policy-sim-bench/cedar}
CEDAR=${CEDAR:-cedar}

cargo build --release --bin policy-sim --example cedar_workload
CARGO_TARGET_DIR="$PWD/target/cedar-harness" cargo build --release \
    --manifest-path benches/cedar/harness/Cargo.toml
HARNESS=target/cedar-harness/release/cedar-harness
"$CEDAR" --version

target/release/examples/cedar_workload "$N" "$DIR" 1000 10000 100000

PS="target/release/policy-sim check --policies $DIR/policies.json --account $DIR/account.json"
$PS --requests "$DIR/requests-1000.jsonl" --format json > "$DIR/answers-policy-sim-1000.jsonl" || true
"$HARNESS" "$DIR/policies.cedar" "$DIR/entities.json" "$DIR/cedar-requests-1000.jsonl" \
    > "$DIR/answers-cedar-1000.jsonl"
python3 benches/cedar/compare.py decisions "$DIR/answers-policy-sim-1000.jsonl" "$DIR/answers-cedar-1000.jsonl"
"$HARNESS" "$DIR/policies.cedar" "$DIR/entities.json" "$DIR/cedar-requests-1000.jsonl" --slice \
    > "$DIR/answers-cedar-sliced-1000.jsonl"
python3 benches/cedar/compare.py decisions "$DIR/answers-policy-sim-1000.jsonl" "$DIR/answers-cedar-sliced-1000.jsonl"

python3 benches/cedar/compare.py tests "$DIR/answers-policy-sim-1000.jsonl" \
    "$DIR/cedar-requests-1000.jsonl" > "$DIR/cedar-tests-1000.json"
"$CEDAR" run-tests --policies "$DIR/policies.cedar" --tests "$DIR/cedar-tests-1000.json" \
    > "$DIR/run-tests-1000.txt" || true
echo "cedar run-tests, expecting policy-sim's decisions: $(grep -c ' ok$' "$DIR/run-tests-1000.txt") ok," \
    "$(grep -c '\.\.\. fail' "$DIR/run-tests-1000.txt") failed (of 1000)"

cat <<TIMING
Time end to end (whole processes), e.g. for 10,000 requests:
  hyperfine --warmup 1 \\
    '$PS --requests $DIR/requests-10000.jsonl --format json > /dev/null' \\
    '$PS --requests $DIR/requests-10000.jsonl > /dev/null' \\
    '$HARNESS $DIR/policies.cedar $DIR/entities.json $DIR/cedar-requests-10000.jsonl --slice > /dev/null' \\
    '$HARNESS $DIR/policies.cedar $DIR/entities.json $DIR/cedar-requests-10000.jsonl > /dev/null' \\
    '$CEDAR run-tests --policies $DIR/policies.cedar --tests $DIR/cedar-tests-10000.json > /dev/null'
(cedar-tests-10000.json: python3 benches/cedar/compare.py tests ANSWERS-10000.jsonl $DIR/cedar-requests-10000.jsonl)
TIMING
