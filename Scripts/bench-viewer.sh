#!/usr/bin/env bash
# Viewer benchmark: the viewer's model (TraceViewer, what `ipcscope view` runs) on generated traces of 10 k,
# 1 M and 10 M events — time to first screen, keystroke-to-frame (PgDn, G/g, applying a filter) median and
# p99, the background work's slices — side by side, with the targets of issue 12 (docs/benchmarks.md,
# "The viewer").
#
#   Scripts/bench-viewer.sh                               # release build; traces in /dev/shm (else /tmp)
#   Scripts/bench-viewer.sh --events 10000,1000000        # anything after the script goes to `TraceIndexBench viewer`
#   Scripts/bench-viewer.sh --dir /var/tmp --keep         # another directory; keep the traces and stored indexes
#   SCRATCH=.build-bench Scripts/bench-viewer.sh          # build into another scratch path
#
# Needs about 3 GiB free in the trace directory for 10 M events (the trace and its stored index).
set -euo pipefail
cd "$(dirname "$0")/.."

scratch_args=()
if [[ -n "${SCRATCH:-}" ]]; then scratch_args=(--scratch-path "$SCRATCH"); fi

echo "building (release)…" >&2
swift build -c release "${scratch_args[@]}" --product TraceIndexBench >&2
bin_dir="$(swift build -c release "${scratch_args[@]}" --show-bin-path)"
exec "$bin_dir/TraceIndexBench" viewer "$@"
