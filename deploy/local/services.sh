#!/usr/bin/env bash
# Start, stop or list the services that exist in this checkout, as local processes.
# Usage: deploy/local/services.sh start|stop|status
# A service exists when services/NAME/src/bansos_NAME/__main__.py does. Each runs in one
# process (API, outbox relay and consumer: role `all`) with its log in .local/logs/NAME.log.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RUN=$ROOT/.local/run
LOGS=$ROOT/.local/logs
PY=$ROOT/.venv/bin/python
declare -A PORTS=([registry]=8101 [objections]=8102 [eligibility]=8103 [payout]=8104)

usage() { echo "usage: $0 start|stop|status" >&2; exit 2; }

services() {  # the services that exist, in the order data flows
  local name
  for name in registry objections eligibility payout; do
    [[ -f $ROOT/services/$name/src/bansos_$name/__main__.py ]] && echo "$name"
  done
  return 0
}

pid_of() {  # pid of a running service, if any
  local f=$RUN/$1.pid p
  [[ -f $f ]] && p=$(<"$f") && kill -0 "$p" 2>/dev/null && echo "$p"
}

port_of() { local v="BANSOS_${1^^}_PORT"; echo "${!v:-${PORTS[$1]}}"; }

start() {
  mkdir -p "$RUN" "$LOGS"
  local name port
  for name in $(services); do
    port=$(port_of "$name")
    if pid_of "$name" >/dev/null; then echo "$name: already running"; continue; fi
    BANSOS_HTTP_PORT=$port nohup "$PY" -m "bansos_$name" all >>"$LOGS/$name.log" 2>&1 &
    echo $! >"$RUN/$name.pid"
  done
  for name in $(services); do
    port=$(port_of "$name")
    "$PY" "$HERE/wait_ready.py" http "http://127.0.0.1:$port/health/ready" \
      --timeout "${SERVICE_START_TIMEOUT:-60}" --pid "$(<"$RUN/$name.pid")" >/dev/null \
      || { echo "$name did not become ready; last lines of $LOGS/$name.log:" >&2
           tail -n 20 "$LOGS/$name.log" >&2; exit 1; }
    echo "$name: ready on http://127.0.0.1:$port"
  done
}

stop() {
  local name p
  for name in $(services); do
    if p=$(pid_of "$name"); then
      kill -TERM "$p"
      for _ in $(seq 1 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
      kill -0 "$p" 2>/dev/null && kill -KILL "$p"
      echo "$name: stopped"
    fi
    rm -f "$RUN/$name.pid"
  done
}

status() {
  local name rc=0
  for name in $(services); do
    if p=$(pid_of "$name"); then echo "$name: running (pid $p, port $(port_of "$name"))"
    else echo "$name: not running"; rc=1; fi
  done
  return $rc
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
