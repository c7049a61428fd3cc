#!/usr/bin/env bash
# Proxy benchmark: direct socketpair vs `ipcscope record` vs socat, interleaved (docs/benchmarks.md).
#
#   Scripts/bench-proxy.sh                      # release build, all cases, 3 rounds × 1.5 s
#   Scripts/bench-proxy.sh --rounds 5           # anything after the script goes to `IPCBench run`
#   SCRATCH=.build-bench Scripts/bench-proxy.sh # build into another scratch path
#
# Installs socat when it is missing and apt-get can (as root); without it the socat rows are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

scratch_args=()
if [[ -n "${SCRATCH:-}" ]]; then scratch_args=(--scratch-path "$SCRATCH"); fi

echo "building (release)…" >&2
swift build -c release "${scratch_args[@]}" --product ipcscope >&2
swift build -c release "${scratch_args[@]}" --product IPCBench >&2
bin_dir="$(swift build -c release "${scratch_args[@]}" --show-bin-path)"

if ! command -v socat >/dev/null 2>&1; then
    echo "socat not found; trying apt-get install -y socat…" >&2
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        apt-get install -y socat >/dev/null 2>&1 \
            || { apt-get update >/dev/null 2>&1 && apt-get install -y socat >/dev/null 2>&1; } \
            || echo "could not install socat; its rows are skipped" >&2
    else
        echo "not root or no apt-get; socat rows are skipped" >&2
    fi
fi

exec "$bin_dir/IPCBench" run --ipcscope "$bin_dir/ipcscope" "$@"
