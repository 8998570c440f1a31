#!/usr/bin/env bash
# Builds the fuzz targets (libFuzzer) and runs each for a bounded time.
#
#   Fuzz/run.sh [seconds per target, default 60]
#
# Exits non-zero when a target crashes; the crashing input is left in .build-fuzz/crashes/<target>/
# (replay it with `.build-fuzz/debug/<target> <file>`). Inputs that once crashed live in
# Fuzz/Regressions/<target>/ and are replayed before fuzzing starts.
set -euo pipefail
seconds="${1:-60}"
here="$(cd "$(dirname "$0")" && pwd)"
scratch="$(dirname "$here")/.build-fuzz"
targets=(FuzzFrames FuzzHandshake)
# Let libFuzzer, not Swift's backtracer, handle a trap: it saves the crashing input.
export SWIFT_BACKTRACE=enable=no

# libFuzzer only: with SwiftPM 6.3 `--sanitize=fuzzer --sanitize=address` reaches swiftc as two
# flags and the Swift code comes out with AddressSanitizer but no coverage counters (blind fuzzing).
build=(swift build --package-path "$here" --scratch-path "$scratch" -c debug --sanitize=fuzzer)
started=$(date +%s)
"${build[@]}"
echo "fuzz build: $(( $(date +%s) - started )) s"
bin="$("${build[@]}" --show-bin-path)"

python3 "$here/seeds.py" "$scratch/seeds"
for target in "${targets[@]}"; do
    corpus="$scratch/corpus/$target"
    crashes="$scratch/crashes/$target"
    mkdir -p "$corpus" "$crashes"
    regressions=("$here/Regressions/$target"/*)
    if [[ -e "${regressions[0]}" ]]; then
        echo "== $target: replaying ${#regressions[@]} regression input(s)"
        "$bin/$target" "${regressions[@]}"
    fi
    echo "== $target: fuzzing for ${seconds} s"
    # The first folder collects new inputs; the seeds are read only.
    "$bin/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=4096 \
        -print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" "$scratch/seeds/$target" 2>&1 | tee "$scratch/$target.log"
    # A build without coverage instrumentation would fuzz blindly and still "pass".
    if ! grep -q "INITED cov: [1-9]" "$scratch/$target.log"; then
        echo "$target reported no coverage: the fuzz build is not instrumented" >&2
        exit 1
    fi
done
echo "fuzzing found no crash"
