#!/usr/bin/env bash
# Real Apache Kafka (KRaft, single node), Elasticsearch and a schema registry (Apicurio,
# see registry.sh) for integration tests, without a Docker engine. All three come from
# Maven Central (see pom.xml).
#
#   services.sh up | down | status | env | fetch
#               es-stop | es-start | es-pid | kafka-stop | kafka-start
#               registry-stop | registry-start | registry-pid
#
# See test/infra/README.md. Only ever binds/talks to 127.0.0.1.
set -euo pipefail

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

KAFKA_VERSION="${KAFKA_VERSION:-3.9.1}"
ES_VERSION="${ES_VERSION:-8.19.21}"
KES_CACHE_DIR="${KES_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-es-transfer}"
KES_RUN_DIR="${KES_RUN_DIR:-$KES_CACHE_DIR/run}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
ES_PORT="${ES_PORT:-9200}"
ES_TRANSPORT_PORT="${ES_TRANSPORT_PORT:-$((ES_PORT + 100))}"
ES_HEAP="${ES_HEAP:-1g}"
KAFKA_HEAP="${KAFKA_HEAP:-512m}"
KES_START_TIMEOUT="${KES_START_TIMEOUT:-180}"   # seconds, per server
KES_STOP_TIMEOUT="${KES_STOP_TIMEOUT:-30}"      # seconds before SIGKILL
KES_MAVEN_REPO="${KES_MAVEN_REPO:-}"             # optional -Dmaven.repo.local
KES_WITH_REGISTRY="${KES_WITH_REGISTRY:-1}"      # 0: up/down/status leave the schema registry out
# test-only Elasticsearch plugins (directories beside this script) the node runs with
ES_TEST_PLUGINS="${ES_TEST_PLUGINS-es-ingest-plugin}"
MVN="${MVN:-mvn}"
HOST=127.0.0.1

KAFKA_HOME="$KES_CACHE_DIR/kafka-$KAFKA_VERSION"
ES_HOME="$KES_CACHE_DIR/elasticsearch-$ES_VERSION"
ES_DIST_HOME="$ES_HOME"
KRUN="$KES_RUN_DIR/kafka"
ERUN="$KES_RUN_DIR/es"
ES_MAJOR="${ES_VERSION%%.*}"
KAFKA_MAJOR="${KAFKA_VERSION%%.*}"
# shellcheck source=registry.sh
source "$INFRA_DIR/registry.sh"

log() { printf '%s\n' "services.sh: $*" >&2; }
die() { printf '%s\n' "services.sh: ERROR: $*" >&2; exit 1; }
show_tail() { # file [lines]
  local f="$1" n="${2:-40}"
  if [[ -s "$f" ]]; then
    printf -- '----- last %s lines of %s -----\n' "$n" "$f" >&2
    tail -n "$n" "$f" >&2
    printf -- '-----\n' >&2
  fi
}

# ---------------------------------------------------------------- helpers
port_open() { timeout 2 bash -c ": </dev/tcp/$HOST/$1" 2>/dev/null; }

pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

read_pid() { [[ -s "$1" ]] && tr -dc '0-9' <"$1" || true; }

# pids whose command line contains the fixed string $1 (our own run-dir paths
# only, so this never matches somebody else's server)
pids_with() {
  local marker="$1" p cmd
  for p in /proc/[0-9]*; do
    p="${p#/proc/}"
    [[ "$p" == "$$" || "$p" == "$BASHPID" ]] && continue
    cmd="$( { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null || true)"
    [[ "$cmd" == *java* && "$cmd" == *"$marker"* ]] && echo "$p"
  done
  return 0
}

# stop_pids NAME PID... : SIGTERM, wait KES_STOP_TIMEOUT, then SIGKILL
stop_pids() {
  local name="$1"; shift
  local pids=() p
  for p in "$@"; do pid_alive "$p" && pids+=("$p"); done
  ((${#pids[@]})) || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  local deadline=$((SECONDS + KES_STOP_TIMEOUT)) left
  while :; do
    left=()
    for p in "${pids[@]}"; do pid_alive "$p" && left+=("$p"); done
    ((${#left[@]})) || break
    if ((SECONDS >= deadline)); then
      log "$name did not stop within ${KES_STOP_TIMEOUT}s, sending SIGKILL to ${left[*]}"
      kill -KILL "${left[@]}" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.3
  done
}

# find_jdk MIN_MAJOR [PREFERRED_HOME...] -> prints a JAVA_HOME with major >= MIN
jdk_major() { # home
  local v
  [[ -x "$1/bin/java" ]] || return 1
  if [[ -f "$1/release" ]]; then
    v="$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release")"
  fi
  if [[ -z "${v:-}" ]]; then
    v="$("$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)"
  fi
  [[ "$v" == 1 ]] && v=8
  echo "${v:-0}"
}
find_jdk() {
  local min="$1"; shift
  local h m best="" bestm=999
  for h in "$@"; do
    [[ -n "$h" ]] || continue
    m="$(jdk_major "$h" 2>/dev/null || echo 0)"
    if ((m >= min)); then echo "$h"; return 0; fi
  done
  # otherwise the lowest JDK in /usr/lib/jvm that is new enough
  for h in /usr/lib/jvm/*/; do
    h="${h%/}"
    [[ -L "$h" ]] && continue
    m="$(jdk_major "$h" 2>/dev/null || echo 0)"
    if ((m >= min && m < bestm)); then best="$h"; bestm="$m"; fi
  done
  if [[ -z "$best" ]] && command -v java >/dev/null; then
    h="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
    m="$(jdk_major "$h" 2>/dev/null || echo 0)"
    ((m >= min)) && best="$h"
  fi
  [[ -n "$best" ]] || return 1
  echo "$best"
}

# ---------------------------------------------------------------- fetching
mvn_run() { # logfile args...
  local logf="$1"; shift
  local repo=()
  [[ -n "$KES_MAVEN_REPO" ]] && repo=("-Dmaven.repo.local=$KES_MAVEN_REPO")
  command -v "$MVN" >/dev/null || die "maven ('$MVN') not found; install maven or set MVN"
  if ! (cd "$KES_CACHE_DIR" && "$MVN" -B -q -Dstyle.color=never "${repo[@]}" \
          -f "$INFRA_DIR/pom.xml" "$@") >"$logf" 2>&1; then
    show_tail "$logf" 30
    return 1
  fi
}

fetch_lock() {
  mkdir -p "$KES_CACHE_DIR"
  exec 8>"$KES_CACHE_DIR/.fetch.lock"
  flock -w 900 8 || die "timed out waiting for $KES_CACHE_DIR/.fetch.lock"
}
fetch_unlock() { flock -u 8; exec 8>&-; }

ensure_kafka_dist() {
  [[ -f "$KAFKA_HOME/.complete" ]] && return 0
  fetch_lock
  if [[ ! -f "$KAFKA_HOME/.complete" ]]; then
    log "fetching Apache Kafka $KAFKA_VERSION from Maven Central ..."
    local tmp="$KAFKA_HOME.tmp.$$" logging=()
    rm -rf "$tmp"; mkdir -p "$tmp"
    ((KAFKA_MAJOR >= 4)) && logging=("-Dkafka.logging=log4j2")
    mvn_run "$KES_CACHE_DIR/fetch-kafka-$KAFKA_VERSION.log" "-Dkafka.version=$KAFKA_VERSION" \
        "${logging[@]}" dependency:copy-dependencies -DincludeScope=runtime \
        "-DoutputDirectory=$tmp/libs" \
      || { rm -rf "$tmp"; die "could not fetch Kafka $KAFKA_VERSION (see $KES_CACHE_DIR/fetch-kafka-$KAFKA_VERSION.log)"; }
    [[ -f "$tmp/libs/kafka_2.13-$KAFKA_VERSION.jar" ]] || { rm -rf "$tmp"; die "Kafka jar missing after fetch"; }
    echo "$KAFKA_VERSION" >"$tmp/.complete"
    rm -rf "$KAFKA_HOME"; mv "$tmp" "$KAFKA_HOME"
  fi
  fetch_unlock
}

ensure_es_dist() {
  [[ -f "$ES_DIST_HOME/.complete" ]] && return 0
  fetch_lock
  if [[ ! -f "$ES_DIST_HOME/.complete" ]]; then
    log "fetching Elasticsearch $ES_VERSION (integ-test-zip) from Maven Central ..."
    local tmp="$ES_DIST_HOME.tmp.$$" zip
    rm -rf "$tmp"; mkdir -p "$tmp/zip"
    mvn_run "$KES_CACHE_DIR/fetch-es-$ES_VERSION.log" dependency:copy \
        "-Dartifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip" \
        "-DoutputDirectory=$tmp/zip" \
      || { rm -rf "$tmp"; die "could not fetch Elasticsearch $ES_VERSION (see $KES_CACHE_DIR/fetch-es-$ES_VERSION.log)"; }
    zip="$tmp/zip/elasticsearch-$ES_VERSION.zip"
    [[ -f "$zip" ]] || { rm -rf "$tmp"; die "Elasticsearch zip missing after fetch"; }
    (
      umask 022
      if command -v unzip >/dev/null; then
        unzip -q "$zip" -d "$tmp/x"
      else
        python3 -m zipfile -e "$zip" "$tmp/x"
        chmod -R a+rX "$tmp/x"; chmod a+x "$tmp"/x/*/bin/*
      fi
    ) || { rm -rf "$tmp"; die "could not unpack $zip"; }
    rm -rf "$ES_DIST_HOME"
    mv "$tmp/x/elasticsearch-$ES_VERSION" "$ES_DIST_HOME"
    rm -rf "$tmp"
    chmod -R a+rX "$ES_DIST_HOME"
    echo "$ES_VERSION" >"$ES_DIST_HOME/.complete"
  fi
  fetch_unlock
}

# ---------------------------------------------------------------- test plugins
# build_es_plugin DIR: compiles the test-only plugin in DIR (a plugin-descriptor.properties,
# Java sources: src/ for every version, src/es<major>/ only for that major, and the files
# of resources/ put into the jar as they are) against
# this distribution's own jars, once per source change (cached); prints where it is.
build_es_plugin() {
  local src="$1" name stamp out
  name="$(sed -n 's/^name=//p' "$src/plugin-descriptor.properties")"
  [[ -n "$name" ]] || die "no name= in $src/plugin-descriptor.properties"
  stamp="$(find "$src" -type f | sort | xargs cat | sha256sum | cut -c1-16)"
  out="$KES_CACHE_DIR/$name-$ES_VERSION"
  if [[ "$(cat "$out/.complete" 2>/dev/null)" != "$stamp" ]]; then
    log "building the test plugin $name for Elasticsearch $ES_VERSION"
    local tmp="$out.tmp.$$" jdk sources
    jdk="$(es_java_home)"
    mapfile -t sources < <(find "$src/src" -name '*.java' \( -path "$src/src/es$ES_MAJOR/*" -o ! -path "$src/src/es[0-9]*" \) | sort)
    rm -rf "$tmp"; mkdir -p "$tmp/classes"
    "$jdk/bin/javac" --release 17 -nowarn -cp "$ES_DIST_HOME/lib/*" -d "$tmp/classes" "${sources[@]}" \
      || { rm -rf "$tmp"; die "could not compile the test plugin $name"; }
    [[ -d "$src/resources" ]] && cp -R "$src/resources/." "$tmp/classes/"
    "$jdk/bin/jar" --create --file "$tmp/$name.jar" -C "$tmp/classes" . || { rm -rf "$tmp"; die "jar failed for $name"; }
    rm -rf "$tmp/classes"
    sed -e "s/@ES_VERSION@/$ES_VERSION/" "$src/plugin-descriptor.properties" >"$tmp/plugin-descriptor.properties"
    echo "$stamp" >"$tmp/.complete"
    rm -rf "$out"; mv "$tmp" "$out"
  fi
  echo "$out"
}

# Plugins are read from ES_HOME/plugins, and the cached distribution is shared by every
# run dir and checkout: the node runs from a copy of it made of hard links (no extra
# space) whose plugins/ holds the ES_TEST_PLUGINS, rebuilt when a plugin changes.
use_test_plugins() {
  [[ -n "$ES_TEST_PLUGINS" && "$ES_HOME" == "$ES_DIST_HOME" ]] || return 0
  ensure_es_dist
  fetch_lock
  local builds=() dir names=() stamp home
  local built
  for dir in $ES_TEST_PLUGINS; do
    built="$(build_es_plugin "$INFRA_DIR/$dir")" || exit 1
    builds+=("$built")
  done
  for dir in "${builds[@]}"; do names+=("$(basename "$dir" "-$ES_VERSION")"); done
  stamp="$(for dir in "${builds[@]}"; do cat "$dir/.complete"; done | sha256sum | cut -c1-16)"
  home="$ES_DIST_HOME-with-$(IFS=+; echo "${names[*]}")"
  if [[ "$(cat "$home/.plugins" 2>/dev/null)" != "$stamp" ]]; then
    local tmp="$home.tmp.$$"
    rm -rf "$tmp"
    cp -al "$ES_DIST_HOME" "$tmp" 2>/dev/null || cp -R "$ES_DIST_HOME" "$tmp"
    rm -rf "$tmp/plugins"; mkdir -p "$tmp/plugins"
    for dir in "${builds[@]}"; do cp -R "$dir" "$tmp/plugins/$(basename "$dir" "-$ES_VERSION")"; done
    chmod -R a+rX "$tmp/plugins"
    echo "$stamp" >"$tmp/.plugins"
    rm -rf "$home"; mv "$tmp" "$home"
  fi
  fetch_unlock
  ES_HOME="$home"
}

# ---------------------------------------------------------------- Kafka
kafka_pid() {
  local p; p="$(read_pid "$KRUN/kafka.pid")"
  if pid_alive "$p" && { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | grep -q 'kafka\.Kafka'; then
    echo "$p"
  fi
}
kafka_healthy() { [[ -n "$(kafka_pid)" ]] && port_open "$KAFKA_PORT"; }
kafka_running_version() { cat "$KRUN/version" 2>/dev/null || echo "?"; }

kafka_java() {
  local h
  h="$(find_jdk 17 "${KAFKA_JAVA_HOME:-}" "${JAVA_HOME:-}" /usr/lib/jvm/java-17-openjdk-amd64)" \
    || die "no JDK >= 17 found for Kafka (set KAFKA_JAVA_HOME)"
  echo "$h/bin/java"
}

# data dir, one partition, replication 1 everywhere, no rebalance delay, retention checked
# every 2 s (tests of retention.ms need not wait the default 5 min; secured.sh uses it too)
# and off unless a topic sets retention.ms: many tests date their records months back,
# and the 2 s check would delete them (past the 7-day default) before the worker reads them.
kafka_single_node_settings() {
  cat <<EOF
log.dirs=$KRUN/data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.check.interval.ms=2000
log.retention.ms=-1
EOF
}

# what kafka_write_config adds to the listeners; cluster.sh replaces it with its replicated settings
kafka_broker_settings() { kafka_single_node_settings; }

# KAFKA_NODE_ID and KAFKA_VOTERS: cluster.sh's nodes (one node, id 1, by default)
kafka_write_config() {
  mkdir -p "$KRUN/data" "$KRUN/logs"
  cat >"$KRUN/server.properties" <<EOF
# generated by test/infra/services.sh
process.roles=broker,controller
node.id=${KAFKA_NODE_ID:-1}
controller.quorum.voters=${KAFKA_VOTERS:-1@$HOST:$KAFKA_CONTROLLER_PORT}
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
$(kafka_broker_settings)
auto.create.topics.enable=true
delete.topic.enable=true
EOF
  kafka_write_logging
}

# log4j (3.x) or log4j2 (4.x) to $KRUN/logs/server.log; secured.sh uses it too
kafka_write_logging() {
  if ((KAFKA_MAJOR >= 4)); then
    cat >"$KRUN/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $KRUN/logs/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.state.name = state.change.logger
logger.state.level = WARN
EOF
  else
    cat >"$KRUN/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$KRUN/logs/server.log
log4j.appender.file.Append=true
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.state.change.logger=WARN
EOF
  fi
}

kafka_jvm_args() {
  local a=(-Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
           "-Dkafka.logs.dir=$KRUN/logs")
  if ((KAFKA_MAJOR >= 4)); then
    a+=("-Dlog4j2.configurationFile=$KRUN/log4j2.properties")
  else
    a+=("-Dlog4j.configuration=file:$KRUN/log4j.properties")
  fi
  a+=(-cp "$KAFKA_HOME/libs/*")
  printf '%s\n' "${a[@]}"
}

kafka_preflight() {
  [[ -z "$(kafka_pid)" ]] || return 0
  local stray; stray="$(pids_with "$KRUN/server.properties")"
  [[ -z "$stray" ]] || stop_pids kafka $stray
  port_open "$KAFKA_PORT" && die "port $HOST:$KAFKA_PORT is in use by a process that is not our Kafka"
  port_open "$KAFKA_CONTROLLER_PORT" && die "port $HOST:$KAFKA_CONTROLLER_PORT is in use by a process that is not our Kafka"
  return 0
}

# starts the broker in the background; kafka_wait checks readiness
kafka_launch() {
  if [[ -n "$(kafka_pid)" ]]; then
    local rv; rv="$(kafka_running_version)"
    [[ "$rv" == "$KAFKA_VERSION" ]] || die "Kafka $rv is running (pid $(kafka_pid)); run 'services.sh down' before switching to $KAFKA_VERSION"
    KAFKA_LAUNCHED=0
    return 0
  fi
  # stray broker of ours without pid file?
  kafka_preflight

  ensure_kafka_dist
  # data of another Kafka version is disposable: start afresh
  if [[ -f "$KRUN/version" && "$(cat "$KRUN/version")" != "$KAFKA_VERSION" ]]; then
    log "discarding Kafka data of version $(cat "$KRUN/version")"
    rm -rf "$KRUN/data"
  fi
  kafka_write_config
  echo "$KAFKA_VERSION" >"$KRUN/version"
  [[ -f "$KRUN/logs/server.log" ]] && mv -f "$KRUN/logs/server.log" "$KRUN/logs/server.log.prev"
  : >"$KRUN/logs/server.log"

  local java args
  java="$(kafka_java)"
  mapfile -t args < <(kafka_jvm_args)
  if [[ ! -f "$KRUN/data/meta.properties" ]]; then
    local cid
    cid="$("$java" "${args[@]}" kafka.tools.StorageTool random-uuid 2>"$KRUN/logs/format.log" | tail -1)"
    [[ -n "$cid" ]] || { show_tail "$KRUN/logs/format.log"; die "Kafka StorageTool random-uuid failed"; }
    "$java" "${args[@]}" kafka.tools.StorageTool format -t "$cid" -c "$KRUN/server.properties" \
        ${KAFKA_FORMAT_ARGS[@]+"${KAFKA_FORMAT_ARGS[@]}"} \
        >>"$KRUN/logs/format.log" 2>&1 \
      || { show_tail "$KRUN/logs/format.log"; die "Kafka StorageTool format failed"; }
  fi
  rm -f "$KRUN/kafka.pid"
  # new session, own pid file, no inherited lock fds, quiet terminal
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$KRUN/kafka.pid" \
      "$java" "${args[@]}" kafka.Kafka "$KRUN/server.properties" \
      </dev/null >"$KRUN/logs/stdout.log" 2>&1 8>&- 9>&- &
  KAFKA_LAUNCHED=1

  for _ in $(seq 50); do [[ -s "$KRUN/kafka.pid" ]] && break; sleep 0.1; done
}

kafka_wait() {
  local deadline=$((SECONDS + KES_START_TIMEOUT)) p
  while :; do
    p="$(kafka_pid)"
    if [[ -z "$p" ]]; then
      show_tail "$KRUN/logs/server.log"; show_tail "$KRUN/logs/stdout.log" 20
      die "Kafka $KAFKA_VERSION exited during startup (logs: $KRUN/logs)"
    fi
    if { [[ "${KAFKA_LAUNCHED:-1}" == 0 ]] || grep -q 'Kafka Server started' "$KRUN/logs/server.log"; } \
        && port_open "$KAFKA_PORT"; then
      return 0
    fi
    if ((SECONDS >= deadline)); then
      show_tail "$KRUN/logs/server.log"
      stop_pids kafka "$p"
      die "Kafka $KAFKA_VERSION not ready within ${KES_START_TIMEOUT}s (logs: $KRUN/logs); stopped it"
    fi
    sleep 0.3
  done
}

# stop_ours NAME PID_FILE MARKER PID: our server by its pid, and any stray process of
# ours that lost its pid file (its command line carries MARKER)
stop_ours() {
  # shellcheck disable=SC2046
  stop_pids "$1" $4 $(pids_with "$3")
  rm -f "$2"
}

kafka_stop() { stop_ours kafka "$KRUN/kafka.pid" "$KRUN/server.properties" "$(kafka_pid)"; }

kafka_describe() {
  local v
  v="$(grep -m1 -o 'Kafka version: [^ ]*' "$KRUN/logs/server.log" 2>/dev/null | sed 's/.*: //' || true)"
  echo "kafka: $HOST:$KAFKA_PORT (Apache Kafka ${v:-$(kafka_running_version)}, KRaft, pid $(kafka_pid))"
}

# ---------------------------------------------------------------- Elasticsearch
es_pid() {
  local p; p="$(read_pid "$ERUN/es.pid")"
  if pid_alive "$p" && { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | grep -q 'org\.elasticsearch'; then
    echo "$p"
  fi
}
es_url() { echo "http://$HOST:$ES_PORT"; }
# every request to ES goes through es_curl, so that test/infra/secured.sh can add
# its CA and credentials by redefining it
es_curl() { curl -s "$@"; }
es_answers() { es_curl -m 5 -o /dev/null "$(es_url)/_cluster/health" 2>/dev/null; }
es_health_ok() { # timeout
  local body
  body="$(es_curl -m $(( ${1%s} + 10 )) "$(es_url)/_cluster/health?wait_for_status=yellow&timeout=$1" 2>/dev/null)" || return 1
  [[ "$body" == *'"timed_out":false'* && "$body" =~ \"status\":\"(green|yellow)\" ]]
}
es_healthy() { [[ -n "$(es_pid)" ]] && es_health_ok 1s; }
es_running_version() { cat "$ERUN/version" 2>/dev/null || echo "?"; }

es_java_home() {
  local min=17
  ((ES_MAJOR >= 9)) && min=21
  if [[ -n "${ES_JAVA_HOME:-}" ]]; then echo "$ES_JAVA_HOME"; return 0; fi
  if ((min >= 21)); then
    find_jdk "$min" /usr/lib/jvm/temurin-25-jdk-amd64 || die "Elasticsearch $ES_VERSION needs a JDK >= $min (set ES_JAVA_HOME)"
  else
    find_jdk "$min" /usr/lib/jvm/java-17-openjdk-amd64 "${JAVA_HOME:-}" || die "Elasticsearch $ES_VERSION needs a JDK >= $min (set ES_JAVA_HOME)"
  fi
}

# How to run ES: as ourselves, or, as root (which ES refuses), as an
# unprivileged user:
#  * setpriv to nobody (ES_RUN_USER) when nobody can read the ES home, with
#    the run dir chowned to it;
#  * otherwise (the cache usually lives under /root, mode 700, that nobody
#    cannot traverse) in a user namespace where we are uid ES_NS_UID: ES sees a
#    non-root uid, while the kernel still checks files as the outside root,
#    so nothing needs chown and nothing outside changes.
ES_RUN_AS=()
ES_RUN_MODE=self
es_setup_user() {
  ES_RUN_AS=(); ES_RUN_MODE=self
  [[ "$(id -u)" == 0 ]] || return 0
  local user="${ES_RUN_USER:-nobody}" uid gid
  uid="$(id -u "$user")" || die "user $user not found"
  gid="$(id -g "$user")"
  if setpriv "--reuid=$uid" "--regid=$gid" --clear-groups bash -c \
       'test -r "$1/lib/elasticsearch-$2.jar" && test -x "$3" && test -r "$4/bin/java"' \
       _ "$ES_HOME" "$ES_VERSION" "$ERUN" "$ES_JAVA" 2>/dev/null; then
    chown -R "$uid:$gid" "$ERUN"
    ES_RUN_AS=(setpriv "--reuid=$uid" "--regid=$gid" --clear-groups)
    ES_RUN_MODE="setpriv:$user"
  elif unshare --user --map-user="${ES_NS_UID:-1000}" --map-group="${ES_NS_UID:-1000}" true 2>/dev/null; then
    chown -R 0:0 "$ERUN"
    ES_RUN_AS=(unshare --user --map-user="${ES_NS_UID:-1000}" --map-group="${ES_NS_UID:-1000}")
    ES_RUN_MODE="userns:uid${ES_NS_UID:-1000}"
  else
    die "running as root: Elasticsearch must run unprivileged, but user $user cannot read $ES_HOME and user namespaces are unavailable; set KES_CACHE_DIR to a directory that $user can traverse (e.g. /var/tmp/kafka-es-transfer)"
  fi
}

# before starting: stop a stray ES of ours that lost its pid file, fail on ports
# that somebody else holds
es_preflight() {
  [[ -z "$(es_pid)" ]] || return 0
  local stray; stray="$(pids_with "-Des.path.conf=$ERUN/config")"
  [[ -z "$stray" ]] || stop_pids elasticsearch $stray
  if port_open "$ES_PORT"; then
    es_answers && die "port $HOST:$ES_PORT answers but it is not our Elasticsearch"
    die "port $HOST:$ES_PORT is in use by a process that is not our Elasticsearch"
  fi
  port_open "$ES_TRANSPORT_PORT" && die "port $HOST:$ES_TRANSPORT_PORT is in use by a process that is not our Elasticsearch"
  return 0
}

es_start() {
  if [[ -n "$(es_pid)" ]]; then
    local rv; rv="$(es_running_version)"
    [[ "$rv" == "$ES_VERSION" ]] || die "Elasticsearch $rv is running (pid $(es_pid)); run 'services.sh down' before switching to $ES_VERSION"
    if es_health_ok 1s; then return 0; fi
    log "Elasticsearch (pid $(es_pid)) runs but is not yellow yet; waiting"
    es_health_ok "${KES_START_TIMEOUT}s" && return 0
    show_tail "$ERUN/logs/kes.log"
    die "Elasticsearch (pid $(es_pid)) is running but not healthy; try 'services.sh down'"
  fi
  es_preflight

  ensure_es_dist
  if [[ -f "$ERUN/version" && "$(cat "$ERUN/version")" != "$ES_VERSION" ]]; then
    log "discarding Elasticsearch data of version $(cat "$ERUN/version")"
    rm -rf "$ERUN/data" "$ERUN/config"
  fi
  mkdir -p "$ERUN/data" "$ERUN/logs" "$ERUN/tmp"
  if [[ ! -d "$ERUN/config" ]]; then
    cp -R "$ES_HOME/config" "$ERUN/config"
  fi
  echo "$ES_VERSION" >"$ERUN/version"
  rm -f "$ERUN/es.pid"
  local es_log="$ERUN/logs/kafka-es-transfer-test.log" es_log_start=0
  [[ -f "$es_log" ]] && es_log_start="$(wc -l <"$es_log")"
  [[ -f "$ERUN/logs/cli.log" ]] && mv -f "$ERUN/logs/cli.log" "$ERUN/logs/cli.log.prev"

  ES_JAVA="$(es_java_home)"
  es_setup_user
  echo "$ES_RUN_MODE java=$ES_JAVA" >"$ERUN/runmode"

  # settings that exist only with certain modules are set only when present
  local settings=(
    -E discovery.type=single-node -E "network.host=$HOST"
    -E http.port="$ES_PORT" -E transport.port="$ES_TRANSPORT_PORT"
    -E cluster.name=kafka-es-transfer-test -E node.name=kes-node
    -E cluster.routing.allocation.disk.threshold_enabled=false
    -E action.destructive_requires_name=false
    -E path.data="$ERUN/data" -E path.logs="$ERUN/logs"
  )
  [[ -d "$ES_HOME/modules/x-pack-security" ]] && settings+=(-E "xpack.security.enabled=${ES_SECURITY_ENABLED:-false}")
  [[ -d "$ES_HOME/modules/x-pack-ml" ]] && settings+=(-E xpack.ml.enabled=false)
  [[ -d "$ES_HOME/modules/ingest-geoip" ]] && settings+=(-E ingest.geoip.downloader.enabled=false)

  # -d: the launcher returns once the node has started (or failed) and the
  # server JVM stays behind, detached, writing its pid to es.pid.
  local rc=0
  (
    cd "$ERUN/logs"
    exec env ES_JAVA_HOME="$ES_JAVA" ES_PATH_CONF="$ERUN/config" ES_TMPDIR="$ERUN/tmp" \
      ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP ${ES_EXTRA_JAVA_OPTS:-}" \
      timeout "$KES_START_TIMEOUT" setsid "${ES_RUN_AS[@]}" \
      "$ES_HOME/bin/elasticsearch" -d -p "$ERUN/es.pid" "${settings[@]}" \
      </dev/null >"$ERUN/logs/cli.log" 2>&1 8>&- 9>&-
  ) || rc=$?
  if ((rc != 0)) || ! es_health_ok 60s; then
    show_tail "$ERUN/logs/cli.log" 20
    if [[ -f "$es_log" ]]; then
      tail -n "+$((es_log_start + 1))" "$es_log" >"$ERUN/logs/this-start.log"
      show_tail "$ERUN/logs/this-start.log" 30
    fi
    es_stop >/dev/null 2>&1 || true
    die "Elasticsearch $ES_VERSION did not start (launcher exit $rc; logs: $ERUN/logs)"
  fi
  # the JS client insists on this header
  es_curl -m 5 -D - -o /dev/null "$(es_url)/_cluster/health" | grep -qi '^x-elastic-product: *Elasticsearch' \
    || die "Elasticsearch answers without the x-elastic-product header"
}

es_stop() {
  local p; p="$(es_pid)"
  # shellcheck disable=SC2046
  stop_pids elasticsearch $p $(pids_with "-Des.path.conf=$ERUN/config")
  rm -f "$ERUN/es.pid"
}

es_describe() {
  local v
  # (GET / is not served: the integ-test-zip has no rest-root module)
  v="$(es_curl -m 5 "$(es_url)/_nodes/_local?filter_path=nodes.*.version" | sed -n 's/.*"version" *: *"\([^"]*\)".*/\1/p')"
  echo "elasticsearch: $(es_url) (Elasticsearch ${v:-?}, pid $(es_pid), $(cut -d' ' -f1 "$ERUN/runmode" 2>/dev/null || echo '?'))"
}

# ---------------------------------------------------------------- commands
state_lock() {
  mkdir -p "$KES_RUN_DIR"
  exec 9>"$KES_RUN_DIR/.lock"
  flock -w 900 9 || die "timed out waiting for $KES_RUN_DIR/.lock"
}

# on failure, `up` stops what it started itself (a failed ES start stops ES)
up_cleanup() {
  local rc=$?
  if ((rc != 0)) && [[ "${KAFKA_LAUNCHED:-0}" == 1 ]]; then
    log "stopping the Kafka that this failed 'up' started"
    kafka_stop >/dev/null 2>&1 || true
  fi
}

cmd_up() {
  local t0=$SECONDS
  state_lock
  # fetch both and check ports first, so that such a failure starts nothing
  ensure_kafka_dist
  ensure_es_dist
  if ((KES_WITH_REGISTRY)); then ensure_registry_dist; fi
  use_test_plugins
  kafka_preflight
  es_preflight
  if ((KES_WITH_REGISTRY)); then registry_preflight; fi
  KAFKA_LAUNCHED=0
  trap up_cleanup EXIT
  kafka_launch
  es_start
  if ((KES_WITH_REGISTRY)); then registry_start; fi
  kafka_wait
  trap - EXIT
  kafka_describe
  es_describe
  if ((KES_WITH_REGISTRY)); then registry_describe; fi
  log "ready in $((SECONDS - t0))s (run dir $KES_RUN_DIR)"
}

cmd_down() {
  state_lock
  kafka_stop
  es_stop
  if ((KES_WITH_REGISTRY)); then registry_stop; fi
  rm -rf "$KRUN/data" "$KRUN/version" "$ERUN/data" "$ERUN/config" "$ERUN/tmp" "$ERUN/version" "$RRUN/data"
  echo "kafka: stopped"
  echo "elasticsearch: stopped"
  if ((KES_WITH_REGISTRY)); then echo "schema registry: stopped"; fi
}

cmd_status() {
  local rc=0
  if kafka_healthy; then kafka_describe; else echo "kafka: down"; rc=1; fi
  if es_healthy; then es_describe; else echo "elasticsearch: down"; rc=1; fi
  if ((KES_WITH_REGISTRY)); then
    if registry_healthy; then registry_describe; else echo "schema registry: down"; rc=1; fi
  fi
  return $rc
}

usage() {
  cat <<EOF
usage: $(basename "$0") COMMAND
  up            fetch (first time), start Kafka and Elasticsearch, wait until ready
  down          stop both, delete their data
  status        exit 0 if both are up and answer
  env           print KAFKA_BROKERS=..., ES_URL=... and SCHEMA_REGISTRY_URL=... lines
  fetch         only download/unpack the servers into the cache
  es-stop       stop Elasticsearch, keep its data
  es-start      start Elasticsearch again, wait for yellow
  es-pid        print the pid of the running Elasticsearch (nothing when it is down)
  kafka-stop    stop Kafka, keep its data
  kafka-start   start Kafka again, wait until ready
  registry-stop / registry-start / registry-pid   the schema registry (its schemas are kept until down)
variables: KAFKA_VERSION=$KAFKA_VERSION ES_VERSION=$ES_VERSION
  KES_CACHE_DIR=$KES_CACHE_DIR
  KES_RUN_DIR=$KES_RUN_DIR
  KAFKA_PORT=$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT) ES_PORT=$ES_PORT (transport $ES_TRANSPORT_PORT)
  SCHEMA_REGISTRY_PORT=$SCHEMA_REGISTRY_PORT (management $REGISTRY_MANAGEMENT_PORT) KES_WITH_REGISTRY=$KES_WITH_REGISTRY
EOF
}

# test/infra/secured.sh sources this file for its helpers: run a command only when executed
[[ "${BASH_SOURCE[0]}" == "$0" ]] || return 0
case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
env) echo "KAFKA_BROKERS=$HOST:$KAFKA_PORT"; echo "ES_URL=$(es_url)"; echo "SCHEMA_REGISTRY_URL=$(registry_url)" ;;
  fetch) ensure_kafka_dist; ensure_es_dist; use_test_plugins; ensure_registry_dist; echo "kafka: $KAFKA_HOME"; echo "elasticsearch: $ES_HOME"; echo "schema registry: $REGISTRY_HOME" ;;
  es-stop) state_lock; es_stop; echo "elasticsearch: stopped" ;;
  es-start) state_lock; use_test_plugins; es_start; es_describe ;;
  es-pid) es_pid ;;
  kafka-stop) state_lock; kafka_stop; echo "kafka: stopped" ;;
  kafka-start) state_lock; kafka_launch; kafka_wait; kafka_describe ;;
  registry-stop) state_lock; registry_stop; echo "schema registry: stopped" ;;
  registry-start) state_lock; registry_start; registry_describe ;;
  registry-pid) registry_pid ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
