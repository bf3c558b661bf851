#!/usr/bin/env bash
# Load test of the job service on loopback only: a private Postgres, `rendc serve`, fake-render workers
# (`rendc worker --fake-render-ms`), and several tenants submitting jobs through the HTTP API.
#
# Prints: HTTP submit latency, queue pickup latency (created_at -> started_at) when workers are idle (the
# LISTEN/NOTIFY path) and under a burst, throughput, and per-tenant fairness while one tenant floods the queue.
#
# Usage: bench/api/load.sh [--jobs 200] [--tenants 4] [--workers 2] [--concurrency 4] [--render-ms 100]
#                          [--tenant-cap 2] [--idle-probes 20]
# Env: RENDC_BIN (default: .build/debug/rendc, built if missing). Bounded: every loop has a count and a deadline.
set -euo pipefail
cd "$(dirname "$0")/../.."

JOBS=200 TENANTS=4 WORKERS=2 CONCURRENCY=4 RENDER_MS=100 TENANT_CAP=2 IDLE_PROBES=20 DEADLINE_S=300
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs) JOBS=$2; shift 2 ;;
    --tenants) TENANTS=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --render-ms) RENDER_MS=$2; shift 2 ;;
    --tenant-cap) TENANT_CAP=$2; shift 2 ;;
    --idle-probes) IDLE_PROBES=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$TENANTS" -ge 2 ] || { echo "--tenants must be at least 2" >&2; exit 2; }

# shellcheck source=common.sh
source bench/api/common.sh load

# --- Postgres ---
start_postgres -c max_connections=200
export RENDC_STORAGE_DIR="$WORK/storage" VIDEO_TEMP_DIR="$WORK/tmp"
export RENDC_URL_SIGNING_SECRET="load-test-secret-$(date +%s%N)"
mkdir -p "$RENDC_STORAGE_DIR" "$VIDEO_TEMP_DIR"
SQL() { psql "$DATABASE_URL" -XAtq -F, -c "$1"; }

"$RENDC_BIN" migrate >/dev/null

# --- tenants ---
KEYS=() TIDS=()
for i in $(seq 1 "$TENANTS"); do
  out=$("$RENDC_BIN" tenant create "load tenant $i" --max-running-jobs "$TENANT_CAP" --json)
  KEYS+=("$(python3 -c 'import json,sys;print(json.load(sys.stdin)["apiKey"])' <<<"$out")")
  TIDS+=("$(python3 -c 'import json,sys;print(json.load(sys.stdin)["tenantId"])' <<<"$out")")
done

# --- server and workers ---
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
"$RENDC_BIN" serve --port "$PORT" --log-level warning >"$WORK/serve.log" 2>&1 &
PIDS+=($!)
for w in $(seq 1 "$WORKERS"); do
  "$RENDC_BIN" worker --concurrency "$CONCURRENCY" --fake-render-ms "$RENDER_MS" --poll-seconds 2 >"$WORK/worker-$w.log" 2>&1 &
  PIDS+=($!)
done
for _ in $(seq 1 100); do curl -sf "$BASE/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "$BASE/readyz" >/dev/null || { echo "server did not become ready"; tail -20 "$WORK/serve.log"; exit 1; }
sleep 1  # let the workers LISTEN

# One image per tenant (a tiny real PNG made here; the fake renderer never decodes it).
python3 - "$WORK/p.png" <<'PY'
import struct, sys, zlib
w, h = 64, 96
raw = b"".join(b"\x00" + bytes([128, 64, 32]) * w for _ in range(h))
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
IMGS=()
for i in $(seq 0 $((TENANTS - 1))); do
  IMGS+=("$(curl -sf -H "Authorization: Bearer ${KEYS[$i]}" -F type=image -F file=@"$WORK/p.png" "$BASE/api/v1/assets" \
    | python3 -c 'import json,sys;print(json.load(sys.stdin)["assetId"])')")
done

# Exported as plain strings: xargs runs submit in child shells, which do not inherit bash arrays.
export KEYS_LIST="${KEYS[*]}" IMGS_LIST="${IMGS[*]}" BASE
submit() {  # tenant-index text -> "HTTP-code seconds" on stdout
  local i=$1 keys imgs
  read -ra keys <<<"$KEYS_LIST"
  read -ra imgs <<<"$IMGS_LIST"
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer ${keys[$i]}" \
    -H 'Content-Type: application/json' \
    -d "{\"imageIds\":[\"${imgs[$i]}\"],\"textOverlay\":\"$2\",\"durationTarget\":5}" "$BASE/api/v1/video/process"
}
export -f submit
wait_drained() {  # until no job is pending/processing, bounded by DEADLINE_S
  local start=$SECONDS
  while [ $((SECONDS - start)) -lt "$DEADLINE_S" ]; do
    left=$(SQL "SELECT count(*) FROM video_processing_jobs WHERE status IN ('pending','processing')")
    [ "$left" = 0 ] && return 0
    sleep 0.2
  done
  echo "timed out with $left jobs unfinished" >&2; return 1
}

# --- phase 1: idle pickup latency (one job at a time, workers idle) ---
for n in $(seq 1 "$IDLE_PROBES"); do
  submit $((n % TENANTS)) "probe" >>"$WORK/probe-http.txt"
  sleep "$(python3 -c "print(max(0.05, $RENDER_MS / 1000 * 1.5 + 0.05))")"
done
wait_drained
SQL "SELECT extract(epoch FROM started_at - created_at) * 1000 FROM video_processing_jobs WHERE text_overlay = 'probe'" >"$WORK/idle.txt"

# --- phase 2: burst; tenant 1 floods with half the jobs first, the others follow ---
FLOOD=$((JOBS / 2))
REST=$(( (JOBS - FLOOD) / (TENANTS - 1) ))
T0=$(date +%s.%N)
{
  for n in $(seq 1 "$FLOOD"); do echo "0"; done
  for n in $(seq 1 "$REST"); do for i in $(seq 1 $((TENANTS - 1))); do echo "$i"; done; done
} | xargs -P 8 -I{} bash -c 'submit {} burst' >>"$WORK/burst-http.txt"
T1=$(date +%s.%N)
wait_drained
SQL "SELECT tenant_id, extract(epoch FROM created_at), extract(epoch FROM started_at), extract(epoch FROM completed_at), status, attempts
     FROM video_processing_jobs WHERE text_overlay = 'burst'" >"$WORK/burst.csv"

failed=$(SQL "SELECT count(*) FROM video_processing_jobs WHERE status <> 'completed'")
if [ "$failed" != 0 ]; then
  echo "WARNING: $failed jobs did not complete; reasons:"
  SQL "SELECT status, left(last_error, 160), count(*) FROM video_processing_jobs WHERE status <> 'completed' GROUP BY 1, 2"
fi

python3 - "$WORK" "$T0" "$T1" "$JOBS" "$TENANTS" "$WORKERS" "$CONCURRENCY" "$RENDER_MS" "$TENANT_CAP" "${TIDS[@]}" <<'PY'
import csv, statistics, sys
work, t0, t1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
jobs, tenants, workers, conc, render_ms, cap = map(int, sys.argv[4:10])
tids = sys.argv[10:]
def pct(xs, p):
    xs = sorted(xs); k = (len(xs) - 1) * p / 100; f = int(k); c = min(f + 1, len(xs) - 1)
    return xs[f] + (xs[c] - xs[f]) * (k - f)
def line(name, xs, unit="ms"):
    print(f"{name:34s} n={len(xs):4d}  p50={pct(xs,50):8.1f}  p90={pct(xs,90):8.1f}  p99={pct(xs,99):8.1f}  max={max(xs):8.1f} {unit}")
def http(path):
    rows = [l.split() for l in open(path) if l.strip()]
    codes = {}
    for c, _ in rows: codes[c] = codes.get(c, 0) + 1
    return [float(t) * 1000 for _, t in rows], codes
print(f"setup: {workers} workers x concurrency {conc} = {workers*conc} slots, fake render {render_ms} ms, "
      f"per-tenant running cap {cap}, {tenants} tenants")
idle = [float(l) for l in open(f"{work}/idle.txt") if l.strip()]
ph, pc = http(f"{work}/probe-http.txt")
line("idle pickup latency (NOTIFY path)", idle)
line("HTTP submit latency (idle)", ph)
rows = list(csv.reader(open(f"{work}/burst.csv")))
bh, bc = http(f"{work}/burst-http.txt")
line("HTTP submit latency (burst, 8 conc.)", bh)
print(f"burst submissions: {len(bh)} in {t1 - t0:.2f} s = {len(bh)/(t1-t0):.1f} req/s; HTTP codes {bc}")
created = [float(r[1]) for r in rows]; started = [float(r[2]) for r in rows]; done = [float(r[3]) for r in rows]
line("queue wait under burst", [(s - c) * 1000 for c, s in zip(created, started)])
span = max(done) - min(created)
statuses = {}
for r in rows: statuses[r[4]] = statuses.get(r[4], 0) + 1
print(f"throughput: {len(rows)} jobs in {span:.2f} s = {len(rows)/span:.1f} jobs/s "
      f"(ideal with {workers*conc} slots and {render_ms} ms renders: {workers*conc*1000/render_ms:.1f} jobs/s); "
      f"statuses {statuses}; max attempts {max(int(r[5]) for r in rows)}")
print("per-tenant (tenant 1 floods first with half the jobs):")
first_other = min(float(r[1]) for r in rows if r[0] != tids[0]) if tenants > 1 else 0
shares = []
for i, t in enumerate(tids):
    mine = [r for r in rows if r[0] == t]
    if not mine: continue
    waits = [(float(r[2]) - float(r[1])) * 1000 for r in mine]
    last = max(float(r[3]) for r in mine) - min(created)
    # Slots this tenant held while every tenant still had work queued (the contention window).
    print(f"  tenant {i+1}: jobs={len(mine):4d}  wait p50={pct(waits,50):8.1f} ms  p90={pct(waits,90):8.1f} ms  "
          f"all done at +{last:6.2f} s")
# Fairness while everyone had work: who started jobs between the first non-flooder submission and the moment the
# first tenant ran out of queued jobs.
ends = []
for t in tids:
    mine = [r for r in rows if r[0] == t]
    if mine: ends.append(max(float(r[2]) for r in mine))
window_end = min(ends)
counts = [sum(1 for r in rows if r[0] == t and first_other <= float(r[2]) <= window_end) for t in tids]
if sum(counts) > 0:
    jain = sum(counts) ** 2 / (len(counts) * sum(c * c for c in counts))
    print(f"jobs started per tenant while all tenants had queued work ({window_end - first_other:.2f} s): {counts}; "
          f"Jain fairness index {jain:.3f} (1.0 = equal shares)")
PY
