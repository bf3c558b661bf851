# Sourced by the bench/api scripts (from the package root): the rendc binary, a work folder removed at exit with
# every background process of the script, and a private Postgres on loopback.
#   source bench/api/common.sh NAME      # NAME: the work folder's and the database's suffix
#   start_postgres [extra server options]  # exports DATABASE_URL (database rendc_NAME)
#   PIDS+=($!)                            # after starting a background process: stopped at exit
# Env: RENDC_BIN (default: .build/debug/rendc, built if missing); KEEP_WORK=1 keeps the work folder.

BENCH_NAME=$1
RENDC_BIN=${RENDC_BIN:-.build/debug/rendc}
if [ ! -x "$RENDC_BIN" ]; then swift build --product rendc >/dev/null; fi
RENDC_BIN=$(realpath "$RENDC_BIN")
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

WORK=$(mktemp -d "/tmp/rendc-$BENCH_NAME-XXXXXX")
chmod 755 "$WORK"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate -w stop >/dev/null 2>&1 || true
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

start_postgres() {
  PGPORT=$(free_port)
  mkdir -p "$WORK/pg"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$WORK/pg"; fi
  as_pg "$PGBIN/initdb" -D "$WORK/pg" -U postgres --auth=trust -E UTF8 --no-sync --locale=C >/dev/null
  as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg/server.log" -w -t 60 \
    -o "-p $PGPORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off $*" start >/dev/null
  psql "postgres://postgres@127.0.0.1:$PGPORT/postgres" -qc "CREATE DATABASE rendc_$BENCH_NAME" >/dev/null
  export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/rendc_$BENCH_NAME?sslmode=disable"
}
