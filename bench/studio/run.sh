#!/usr/bin/env bash
# Speed of `rendc studio` as a designer feels it, on loopback: edit -> lint result (target < 200 ms) and
# edit -> new still on the page (target < 1 s), over a series of real edits to golden-frame.
#
# Usage: bench/studio/run.sh [--edits 20]
# Env: RENDC_BIN (default: .build/release/rendc, built if missing). Prints figures; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
EDITS=20
while [ $# -gt 0 ]; do
  case "$1" in
    --edits) EDITS=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
RENDC_BIN=${RENDC_BIN:-.build/release/rendc}
if [ ! -x "$RENDC_BIN" ]; then swift build -c release --product rendc >/dev/null; fi
WORK=$(mktemp -d /tmp/rendc-bench-studio.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$RENDC_BIN" studio --templates "$WORK/templates" --port "$PORT" > "$WORK/studio.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
python3 bench/studio/measure.py --url "http://127.0.0.1:$PORT" --edits "$EDITS" --binary "$RENDC_BIN"
