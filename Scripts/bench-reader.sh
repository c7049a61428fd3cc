#!/usr/bin/env bash
# Reader benchmark: generated traces of 1 M and 10 M events; first events, full index, reopen with the
# stored index, time-ordered iteration, memory; then the real commands on the same traces — `ipcscope
# stats` (when this build has it), `show`, `export --format jsonl` — and `jq -c .` over the same JSONL as a
# baseline, side by side, with the targets of issue 11 (docs/benchmarks.md, "Reading traces").
#
#   Scripts/bench-reader.sh                          # release build; traces in /dev/shm (else /tmp)
#   Scripts/bench-reader.sh --dir /var/tmp           # anything after the script goes to TraceIndexBench
#   Scripts/bench-reader.sh --events 1000000 --keep  # one size; keep the traces and stored indexes
#   Scripts/bench-reader.sh --no-commands            # the reader only
#   SCRATCH=.build-bench Scripts/bench-reader.sh     # build into another scratch path
#
# Needs about 6 GiB free in the trace directory for 10 M events: the trace (1.6 GiB), its stored index and
# the JSONL export jq reads (3.6 GiB). jq is used when it is on PATH (apt-get install jq).
set -euo pipefail
cd "$(dirname "$0")/.."

scratch_args=()
if [[ -n "${SCRATCH:-}" ]]; then scratch_args=(--scratch-path "$SCRATCH"); fi

echo "building (release)…" >&2
swift build -c release "${scratch_args[@]}" --product TraceIndexBench >&2
swift build -c release "${scratch_args[@]}" --product ipcscope >&2
bin_dir="$(swift build -c release "${scratch_args[@]}" --show-bin-path)"
if ! command -v jq >/dev/null; then
    echo "jq is not on PATH: no baseline (apt-get install jq)" >&2
fi
exec "$bin_dir/TraceIndexBench" --ipcscope "$bin_dir/ipcscope" "$@"
