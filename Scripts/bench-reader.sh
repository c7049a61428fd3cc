#!/usr/bin/env bash
# Reader benchmark: generated traces of 1 M and 10 M events; first events, full index, reopen with the
# stored index, time-ordered iteration, memory (docs/benchmarks.md, "Reading traces").
#
#   Scripts/bench-reader.sh                          # release build; traces in /dev/shm (else /tmp)
#   Scripts/bench-reader.sh --dir /var/tmp           # anything after the script goes to TraceIndexBench
#   Scripts/bench-reader.sh --events 1000000 --keep  # one size; keep the traces and stored indexes
#   SCRATCH=.build-bench Scripts/bench-reader.sh     # build into another scratch path
#
# Needs about 2 GiB free in the trace directory for the 10 M trace (1.5 GiB) and its stored index.
set -euo pipefail
cd "$(dirname "$0")/.."

scratch_args=()
if [[ -n "${SCRATCH:-}" ]]; then scratch_args=(--scratch-path "$SCRATCH"); fi

echo "building (release)…" >&2
swift build -c release "${scratch_args[@]}" --product TraceIndexBench >&2
bin_dir="$(swift build -c release "${scratch_args[@]}" --show-bin-path)"
exec "$bin_dir/TraceIndexBench" "$@"
