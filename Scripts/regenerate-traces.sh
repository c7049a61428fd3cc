#!/usr/bin/env bash
# Regenerates the sample traces in Traces/ by recording real runs of the built-in demo.
# Usage: Scripts/regenerate-traces.sh   (from anywhere; builds ipcscope and the preload library first)
#
# The traces keep the recorder's command line and the demo processes' command lines. So that they read like
# a user's and not like a build tree's, ipcscope, its preload library and its resources are copied into a
# scratch bin/ directory that goes first on PATH, and the demo is recorded from the repository the way
# `ipcscope demo -o FILE` records it, typed as a user would: `ipcscope record` with the demo's schemas,
# around `ipcscope demo --no-record`.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build --product ipcscope >&2
swift build --product IPCScopePreload >&2
built="$(swift build --show-bin-path)"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/ipcscope.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/bin"
cp "$built/ipcscope" "$built/libIPCScopePreload.so" "$scratch/bin/"
cp -R "$built/ipcscope_DemoPeers.resources" "$scratch/bin/"
export PATH="$scratch/bin:$PATH"

schemas=()
for file in Sources/DemoPeers/Schemas/*.ipc; do schemas+=(--schema "$file"); done
ipcscope record -o Traces/demo.ipctrace --force "${schemas[@]}" -- \
    ipcscope demo --no-record --messages 300 --seed 1 > /dev/null
ipcscope record -o Traces/demo-misbehave.ipctrace --force "${schemas[@]}" -- \
    ipcscope demo --no-record --misbehave --messages 300 --seed 1 > /dev/null
ipcscope check Traces/demo.ipctrace Traces/demo-misbehave.ipctrace
