#!/usr/bin/env bash
# Schemathesis against docs/openapi.yaml, on loopback only: a private Postgres, moto's S3, `rendc serve` and one
# `rendc worker --fake-render-ms` (so jobs reach every documented state), authenticated as a tenant with its API key.
# Every documented operation gets generated requests (valid and invalid); each answer is checked for server errors
# and against the documented status codes, content types, headers and response schemas.
#
# Usage: bench/api/schemathesis.sh [--max-examples 30] [--seed 20261130] [--phases examples,coverage,fuzzing,stateful]
#                                  [--workers 1] [--checks all] [--exclude-checks positive_data_acceptance]
#                                  [extra schemathesis options...]
# positive_data_acceptance is left out by default: it expects every request the schema allows to succeed, and this
# API also refuses, with the documented 4xx, what no schema can say (an image id of no stored asset, a 1x1 picture,
# a PNG sent as audio, a cursor it did not make). Pass `--exclude-checks none` to see those too.
# Env: RENDC_BIN (default: .build/debug/rendc, built if missing); KEEP_WORK=1 keeps the work folder (logs, JUnit
# report). Exit status: schemathesis's (0 = no failure), or 1 when `rendc serve` crashed.
# Needs `schemathesis` and `moto[server]` (scripts/pip.d/api.txt, scripts/pip.d/storage.txt; `make setup`).
set -euo pipefail
cd "$(dirname "$0")/../.."

EXAMPLES=30 SEED=20261130 PHASES=examples,coverage,fuzzing,stateful WORKERS=1 CHECKS=all EXCLUDE=positive_data_acceptance
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --max-examples) EXAMPLES=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --phases) PHASES=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --checks) CHECKS=$2; shift 2 ;;
    --exclude-checks) EXCLUDE=$2; shift 2 ;;
    *) EXTRA+=("$1"); shift ;;
  esac
done

# shellcheck source=common.sh
source bench/api/common.sh schemathesis
SPEC=$(realpath docs/openapi.yaml)
wait_http() {  # URL: until it answers, at most 20 s
  for _ in $(seq 1 200); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "$1 did not answer" >&2; return 1
}

# --- Postgres ---
start_postgres

# --- moto's S3 ---
S3PORT=$(free_port)
python3 -c 'import sys; from moto.server import main; main(["-H", "127.0.0.1", "-p", sys.argv[1]])' "$S3PORT" \
  >"$WORK/moto.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$S3PORT/moto-api/"
export S3_ENDPOINT="http://127.0.0.1:$S3PORT" S3_BUCKET=rendc-schemathesis S3_REGION=us-east-1
export S3_ACCESS_KEY=AKIAIOSFODNN7EXAMPLE S3_SECRET_KEY=moto-does-not-check-this-secret
python3 - <<'PY'
import os, boto3
boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"], region_name="us-east-1",
             aws_access_key_id=os.environ["S3_ACCESS_KEY"],
             aws_secret_access_key=os.environ["S3_SECRET_KEY"]).create_bucket(Bucket=os.environ["S3_BUCKET"])
PY

export RENDC_RATE_LIMIT_PER_MINUTE=0 VIDEO_TEMP_DIR="$WORK/tmp" RENDC_URL_SIGNING_SECRET="schemathesis-secret-$(date +%s%N)"
export RENDC_WEBHOOK_SECRET="schemathesis-webhook-master-$(date +%s%N)"
mkdir -p "$VIDEO_TEMP_DIR"
"$RENDC_BIN" migrate >/dev/null
KEY=$("$RENDC_BIN" tenant create "schemathesis" --json | python3 -c 'import json,sys;print(json.load(sys.stdin)["apiKey"])')

# --- server and a fake-render worker ---
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
"$RENDC_BIN" serve --port "$PORT" --log-level warning >"$WORK/serve.log" 2>&1 &
PIDS+=($!)
"$RENDC_BIN" worker --concurrency 2 --fake-render-ms 100 --poll-seconds 2 >"$WORK/worker.log" 2>&1 &
PIDS+=($!)
wait_http "$BASE/readyz"

set +e
cd "$WORK"  # schemathesis' and hypothesis' folders go there
schemathesis run "$SPEC" --url "$BASE" -H "Authorization: Bearer $KEY" \
  --checks "$CHECKS" ${EXCLUDE:+$([ "$EXCLUDE" = none ] || echo --exclude-checks "$EXCLUDE")} --phases "$PHASES" --max-examples "$EXAMPLES" --seed "$SEED" --workers "$WORKERS" \
  --request-timeout 30 --no-color \
  --report junit --report-dir "$WORK/report" "${EXTRA[@]}"
status=$?
set -e
if grep -q "Fatal\|panic\|Fatal error" "$WORK/serve.log"; then echo "=== rendc serve crashed:"; tail -40 "$WORK/serve.log"; status=1; fi
kill -0 "${PIDS[1]}" 2>/dev/null || { echo "=== rendc serve is gone"; tail -40 "$WORK/serve.log"; status=1; }
exit $status
