#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, broker+controller) assembled from Maven Central.
# Usage: deploy/local/kafka.sh install|start|stop|status|logs [-f]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
K=$ROOT/.local/kafka
POM=$HERE/kafka/pom.xml
LIBS=$K/libs
PIDFILE=$K/broker.pid
LOG=$K/broker.log
PORT=${KAFKA_PORT:-9092}
CPORT=${KAFKA_CONTROLLER_PORT:-9093}
BOOTSTRAP=127.0.0.1:$PORT
PY=$ROOT/.venv/bin/python
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java

usage() { echo "usage: $0 install|start|stop|status|logs [-f]" >&2; exit 2; }

alive() { [[ -r /proc/$1/stat && $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]; }  # zombies are dead

pid() {  # prints the broker's pid if it is running
  local p
  [[ -f $PIDFILE ]] && p=$(<"$PIDFILE") && alive "$p" && grep -qa 'kafka\.Kafka' "/proc/$p/cmdline" && echo "$p"
}

install() {
  local sum; sum=$(sha256sum "$POM" | cut -d' ' -f1)
  if [[ -f $K/libs.sha256 && $(<"$K/libs.sha256") == "$sum" ]] && compgen -G "$LIBS/kafka_2.13-*.jar" >/dev/null; then
    echo "kafka: libs up to date ($LIBS)"; return
  fi
  echo "kafka: resolving broker jars with Maven into $LIBS"
  mkdir -p "$K"; rm -rf "$LIBS.tmp"
  local out  # quiet on success (Debian's Maven 3.8 prints stray colour codes even with -q)
  out=$(mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$LIBS.tmp" 2>&1) || { echo "$out" >&2; exit 1; }
  rm -rf "$LIBS"; mv "$LIBS.tmp" "$LIBS"; echo "$sum" >"$K/libs.sha256"
  echo "kafka: $(ls "$LIBS" | wc -l) jars installed"
}

write_config() {
  cat >"$K/server.properties" <<PROPS
# Written by deploy/local/kafka.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$K/data
num.partitions=${KAFKA_PARTITIONS:-6}
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=${KAFKA_OFFSETS_PARTITIONS:-6}
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=16777216
PROPS
  cat >"$K/log4j2.xml" <<XML
<Configuration status="warn" shutdownHook="disable">
  <Appenders><Console name="out" target="SYSTEM_OUT"><PatternLayout pattern="[%d] %p %m (%c)%n"/></Console></Appenders>
  <Loggers>
    <Logger name="kafka.request.logger" level="warn"/>
    <Logger name="state.change.logger" level="warn"/>
    <Root level="${KAFKA_LOG_LEVEL:-info}"><AppenderRef ref="out"/></Root>
  </Loggers>
</Configuration>
XML
}

start() {
  local p
  if p=$(pid); then echo "kafka: already running (pid $p) on $BOOTSTRAP"; return; fi
  local port
  for port in "$PORT" "$CPORT"; do  # another process there would answer our readiness probe
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "kafka: port $port is already in use by another process" >&2; exit 1
    fi
  done
  install
  write_config
  local cp="$LIBS/*" jvm=(-Djava.awt.headless=true -Dlog4j2.configurationFile="$K/log4j2.xml")
  if [[ ! -f $K/data/meta.properties ]]; then
    echo "kafka: formatting storage in $K/data"
    "$JAVA" "${jvm[@]}" -cp "$cp" kafka.tools.StorageTool format --standalone -c "$K/server.properties" \
      -t "$("$JAVA" -cp "$cp" kafka.tools.StorageTool random-uuid)" >"$K/format.log" 2>&1 \
      || { tail -n 30 "$K/format.log" >&2; exit 1; }
  fi
  echo "kafka: starting on $BOOTSTRAP (log: $LOG)"
  if [[ -f $LOG && $(stat -c %s "$LOG") -gt 50000000 ]]; then mv "$LOG" "$LOG.1"; fi
  cd "$K"
  setsid nohup "$JAVA" -Xms"${KAFKA_HEAP:-512m}" -Xmx"${KAFKA_HEAP:-512m}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent "${jvm[@]}" \
    -cp "$cp" kafka.Kafka "$K/server.properties" >>"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  if ! "$PY" "$HERE/wait_ready.py" kafka "$BOOTSTRAP" --timeout "${KAFKA_START_TIMEOUT:-90}" --pid "$!"; then
    echo "kafka: failed to start; last lines of $LOG:" >&2; tail -n 30 "$LOG" >&2; exit 1
  fi
}

stop() {
  local p i
  if ! p=$(pid); then echo "kafka: not running"; rm -f "$PIDFILE"; return; fi
  echo "kafka: stopping pid $p"
  kill -TERM "$p"
  for ((i = 0; i < ${KAFKA_STOP_TIMEOUT:-30} * 10; i++)); do
    alive "$p" || { rm -f "$PIDFILE"; echo "kafka: stopped"; return; }
    sleep 0.1
  done
  echo "kafka: still alive after ${KAFKA_STOP_TIMEOUT:-30}s, sending SIGKILL" >&2
  kill -KILL "$p" 2>/dev/null || true; rm -f "$PIDFILE"
}

status() {
  local p
  if p=$(pid); then echo "kafka: running (pid $p) on $BOOTSTRAP"; else echo "kafka: not running ($BOOTSTRAP)"; exit 1; fi
}

case ${1:-} in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  logs) if [[ ${2:-} == -f ]]; then tail -n 100 -F "$LOG"; else tail -n 200 "$LOG"; fi ;;
  *) usage ;;
esac
