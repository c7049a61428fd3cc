#!/usr/bin/env bash
# Runs one libFuzzer target of IPCScopeFuzz (docs/fuzzing.md) for a time or a number of runs, from the
# repository's seed corpus, and prints libFuzzer's final figures (executions, coverage, time).
#
#   Scripts/fuzz.sh TARGET [--time SECONDS | --runs N] [--jobs J]
#   TARGET: frames schema trace filter index decode theme
#
# The instrumented build lives in .build-fuzz (ignored by git); the working corpus in fuzz-corpus/TARGET
# (also ignored), seeded from the repository on first use. A finding is left as crash-* / timeout-* in
# fuzz-corpus/ and the script exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:?usage: Scripts/fuzz.sh TARGET [--time SECONDS | --runs N]}
shift
limit=(-max_total_time=300)
while [ $# -gt 0 ]; do
    case "$1" in
        --time) limit=(-max_total_time="$2"); shift 2 ;;
        --runs) limit=(-runs="$2"); shift 2 ;;
        *) echo "fuzz.sh: unknown option $1" >&2; exit 64 ;;
    esac
done

extra=()
seeds=()
asan=${ASAN_OPTIONS:-}
case "$target" in
    frames) ;;
    schema) seeds=(Tests/IPCWireTests/Fixtures/*.ipc); extra=(-dict=Tests/IPCWireTests/Fixtures/ipc.dict) ;;
    trace) seeds=(Traces/*.ipctrace); extra=(-max_len=65536) ;;
    filter) seeds=(Tests/TraceAnalysisTests/Fixtures/filter-seeds/*); extra=(-dict=Tests/TraceAnalysisTests/Fixtures/filter.dict) ;;
    index) seeds=(Tests/FuzzSeeds/index/*); extra=(-max_len=131072) ;;
    decode) seeds=(Tests/FuzzSeeds/decode/*); extra=(-max_len=16384) ;;
    # TOMLKit 0.6.0 leaks the key list of every table it enumerates (docs/fuzzing.md): leaks are not findings
    # here, and the leaked memory grows past libFuzzer's default 2 GiB RSS limit in about 25 minutes.
    theme) seeds=(Themes/*.toml); extra=(-max_len=8192 -detect_leaks=0 -rss_limit_mb=8192); asan=detect_leaks=0 ;;
    *) echo "fuzz.sh: unknown target $target (frames schema trace filter index decode theme)" >&2; exit 64 ;;
esac

swift build -c debug --scratch-path .build-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --product IPCScopeFuzz 2>&1 |
    grep -v "Cannot export local symbol" | tail -3

corpus=fuzz-corpus/$target
mkdir -p "$corpus"
if [ ${#seeds[@]} -gt 0 ] && [ -z "$(ls -A "$corpus")" ]; then cp "${seeds[@]}" "$corpus/"; fi

cd fuzz-corpus
status=0
ASAN_OPTIONS=$asan SWIFT_BACKTRACE=enable=no IPCSCOPE_FUZZ_TARGET=$target \
    ../.build-fuzz/debug/IPCScopeFuzz "${limit[@]}" "${extra[@]/#-dict=/-dict=../}" -print_final_stats=1 "$target" \
    > "$target.log" 2>&1 || status=$?
grep -E "^(#[0-9]+ +DONE|stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|Done [0-9]+ runs|==[0-9]+==ERROR|SUMMARY)" "$target.log" || true
echo "fuzz.sh: $target: exit $status (log: fuzz-corpus/$target.log)"
exit "$status"
