#!/usr/bin/env bash
# Local private PostgreSQL cluster for the services (one database per service).
# Usage: deploy/local/postgres.sh start|stop|status|url [DB]|psql [DB] [psql args...]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
P=$ROOT/.local/postgres
DATA=$P/data
RUN=$P/run
LOG=$P/postgres.log
PORT=${POSTGRES_PORT:-5433}
DBS=(registry objections eligibility payout)
BASE_URL=postgresql://bansos:bansos@127.0.0.1:$PORT

usage() { echo "usage: $0 start|stop|status|url [DB]|psql [DB] [psql args...]" >&2; exit 2; }

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
BIN=$(bindir)

# initdb, pg_ctl and postgres refuse to run as root: run them as the `postgres` user.
as_pg() { if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# A killed postmaster that its parent has not reaped yet (a zombie) still passes kill -0,
# so pg_ctl calls it running and a new postmaster refuses its lock file.
zombie() { local pm; pm=$(head -n 1 "$DATA/postmaster.pid" 2>/dev/null) && [[ $(awk '{print $3}' "/proc/$pm/stat" 2>/dev/null) == Z ]]; }
running() { [[ -n $BIN && -f $DATA/postmaster.pid ]] && ! zombie && as_pg "$BIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1; }

ensure_binaries() {
  [[ -n $BIN && -x $BIN/initdb ]] && return
  echo "postgres: binaries missing, installing the Debian package"
  DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
  BIN=$(bindir)
}

prepare_dirs() {
  mkdir -p "$DATA" "$RUN"
  [[ $EUID -eq 0 ]] || return 0
  chown -R postgres: "$P"
  chmod 700 "$DATA"
  local d=$P  # the postgres user must be able to traverse every parent folder
  while d=$(dirname "$d"); [[ $d != / ]]; do
    runuser -u postgres -- test -x "$d" || { echo "postgres: chmod o+x $d"; chmod o+x "$d"; }
  done
}

write_config() {
  cat >"$DATA/bansos.conf" <<CONF
# Written by deploy/local/postgres.sh on every start; edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$RUN'
max_connections = 200
shared_buffers = 256MB
fsync = on
synchronous_commit = on
log_line_prefix = '%m [%p] %q%u@%d '
CONF
  grep -q "^include_if_exists = 'bansos.conf'" "$DATA/postgresql.conf" \
    || echo "include_if_exists = 'bansos.conf'" >>"$DATA/postgresql.conf"
  [[ $EUID -ne 0 ]] || chown postgres: "$DATA/bansos.conf"
}

provision() {  # role and databases, idempotently, as the superuser over the socket
  as_pg "$BIN/psql" -q -X -v ON_ERROR_STOP=1 -h "$RUN" -p "$PORT" -U postgres -d postgres <<SQL
SELECT 'CREATE ROLE bansos LOGIN CREATEDB PASSWORD ''bansos'''
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bansos') \gexec
$(for db in "${DBS[@]}"; do
  echo "SELECT 'CREATE DATABASE $db OWNER bansos' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$db') \\gexec"
done)
SQL
}

start() {
  local i
  ensure_binaries
  if running; then echo "postgres: already running on 127.0.0.1:$PORT"; return; fi
  prepare_dirs
  if [[ ! -f $DATA/PG_VERSION ]]; then
    echo "postgres: initdb in $DATA"
    as_pg "$BIN/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=peer --auth-host=scram-sha-256 >"$P/initdb.log" 2>&1 || { cat "$P/initdb.log" >&2; exit 1; }
  fi
  write_config
  for ((i = 0; i < 100; i++)); do zombie || break; sleep 0.1; done
  echo "postgres: starting on 127.0.0.1:$PORT (log: $LOG)"
  as_pg "$BIN/pg_ctl" start -w -t "${POSTGRES_START_TIMEOUT:-60}" -D "$DATA" -l "$LOG" >/dev/null \
    || { echo "postgres: failed to start; last lines of $LOG:" >&2; tail -n 30 "$LOG" >&2; exit 1; }
  provision
  "$ROOT/.venv/bin/python" "$HERE/wait_ready.py" postgres 127.0.0.1 "$PORT" --dbname "${DBS[0]}" --timeout 30
}

stop() {
  if ! running; then echo "postgres: not running"; return; fi
  as_pg "$BIN/pg_ctl" stop -w -m fast -t "${POSTGRES_STOP_TIMEOUT:-60}" -D "$DATA" >/dev/null \
    || as_pg "$BIN/pg_ctl" stop -w -m immediate -D "$DATA" >/dev/null
  echo "postgres: stopped"
}

status() {
  if running; then echo "postgres: running on 127.0.0.1:$PORT (databases: ${DBS[*]})"
  else echo "postgres: not running (127.0.0.1:$PORT)"; exit 1; fi
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  url) echo "$BASE_URL${2:+/$2}" ;;
  psql) shift; db=${1:-${DBS[0]}}; shift || true; exec "$BIN/psql" "$BASE_URL/$db" "$@" ;;
  *) usage ;;
esac
