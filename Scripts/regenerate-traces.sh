#!/usr/bin/env bash
# Regenerates the sample traces in Traces/ by recording real runs of the built-in demo.
# Usage: Scripts/regenerate-traces.sh   (from anywhere; builds ipcscope first)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product ipcscope
bin="$(swift build --show-bin-path)/ipcscope"
"$bin" demo -o Traces/demo.ipctrace --messages 300 --seed 1 > /dev/null
"$bin" demo -o Traces/demo-misbehave.ipctrace --misbehave --messages 300 --seed 1 > /dev/null
"$bin" check Traces/demo.ipctrace Traces/demo-misbehave.ipctrace
