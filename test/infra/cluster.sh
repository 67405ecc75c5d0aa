#!/usr/bin/env bash
# A three-broker Apache Kafka cluster (KRaft, each process broker and controller: three
# voters) plus one Elasticsearch, for the cluster fault scenarios (test/cluster). Same
# cached distributions as services.sh, whose functions it sources: each node is
# services.sh's single broker with its own run dir, ports and node id.
#
#   cluster.sh up | down | status | env
#              broker-stop N | broker-start N | broker-kill N | broker-freeze N | broker-thaw N
#              broker-pid N | controller-leader
#
# Node N (1..3) listens on CLUSTER_BASE_PORT+N-1 (clients) and CLUSTER_BASE_PORT+N+2
# (controller). Only ever binds/talks to 127.0.0.1.
set -euo pipefail

CLUSTER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CLUSTER_BASE_PORT="${CLUSTER_BASE_PORT:-59090}"
CLUSTER_NODES=3
# services.sh reads these when sourced: the cluster's Elasticsearch and run dir, no registry,
# no test plugins (the scenarios index plain documents)
export KES_RUN_DIR="${KES_RUN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-es-transfer/run-cluster}"
export ES_PORT="${ES_PORT:-59200}"
export KES_WITH_REGISTRY=0
export ES_TEST_PLUGINS="${CLUSTER_ES_PLUGINS:-}"
# three brokers and ES share the machine with other suites
export KAFKA_HEAP="${KAFKA_HEAP:-384m}"
export KAFKA_PORT="$CLUSTER_BASE_PORT"
# shellcheck source=services.sh
source "$CLUSTER_DIR/services.sh"

log() { printf '%s\n' "cluster.sh: $*" >&2; }
die() { printf '%s\n' "cluster.sh: ERROR: $*" >&2; exit 1; }

client_port() { echo $((CLUSTER_BASE_PORT + $1 - 1)); }
controller_port() { echo $((CLUSTER_BASE_PORT + CLUSTER_NODES + $1 - 1)); }

# node_select N: points services.sh's Kafka functions (KRUN, ports) at node N
node_select() {
  [[ "$1" =~ ^[1-3]$ ]] || die "no such node '$1' (1..$CLUSTER_NODES)"
  KAFKA_NODE_ID="$1"
  KAFKA_VOTERS="$(voters_list)"
  KRUN="$KES_RUN_DIR/kafka-$1"
  KAFKA_PORT="$(client_port "$1")"
  KAFKA_CONTROLLER_PORT="$(controller_port "$1")"
}

brokers_list() {
  local n out=()
  for n in $(seq "$CLUSTER_NODES"); do out+=("$HOST:$(client_port "$n")"); done
  (IFS=,; echo "${out[*]}")
}

voters_list() {
  local n out=()
  for n in $(seq "$CLUSTER_NODES"); do out+=("$n@$HOST:$(controller_port "$n")"); done
  (IFS=,; echo "${out[*]}")
}

# replication 3 with min.insync.replicas 2: one broker may be down and writes with
# acks=all still succeed; internal topics likewise
cluster_settings() {
  kafka_single_node_settings | grep -v -E '^(num.partitions|default.replication.factor|min.insync.replicas|offsets.topic|transaction.state.log|share.coordinator)'
  cat <<EOF
num.partitions=3
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
transaction.state.log.num.partitions=3
unclean.leader.election.enable=false
EOF
}

# services.sh's kafka_write_config (which kafka_launch calls) writes the node's file with these
kafka_broker_settings() { cluster_settings; }

# formats every node that has no storage yet with the cluster's one id (kafka_launch
# would give each node its own id)
cluster_format() {
  local id_file="$KES_RUN_DIR/cluster-id" java args n
  java="$(kafka_java)"
  if [[ ! -s "$id_file" ]]; then
    node_select 1; mkdir -p "$KRUN/logs"
    mapfile -t args < <(kafka_jvm_args)
    "$java" "${args[@]}" kafka.tools.StorageTool random-uuid 2>"$KRUN/logs/format.log" | tail -1 >"$id_file"
    [[ -s "$id_file" ]] || die "Kafka StorageTool random-uuid failed"
  fi
  for n in $(seq "$CLUSTER_NODES"); do
    node_select "$n"
    [[ -f "$KRUN/data/meta.properties" ]] && continue
    kafka_write_config
    mapfile -t args < <(kafka_jvm_args)
    "$java" "${args[@]}" kafka.tools.StorageTool format -t "$(cat "$id_file")" -c "$KRUN/server.properties" \
        >"$KRUN/logs/format.log" 2>&1 || { show_tail "$KRUN/logs/format.log"; die "formatting node $n failed"; }
  done
}

# on failure, `up` stops the nodes it started
cluster_up_cleanup() {
  local rc=$? n
  ((rc == 0)) && return 0
  log "stopping the nodes this failed 'up' started"
  for n in $(seq "$CLUSTER_NODES"); do node_select "$n"; kafka_stop >/dev/null 2>&1 || true; done
}

cmd_cluster_up() {
  local t0=$SECONDS n
  state_lock
  ensure_kafka_dist
  ensure_es_dist
  use_test_plugins
  for n in $(seq "$CLUSTER_NODES"); do node_select "$n"; kafka_preflight; done
  es_preflight
  trap cluster_up_cleanup EXIT
  cluster_format
  # all three before waiting: a node finishes starting only once the quorum has a leader
  for n in $(seq "$CLUSTER_NODES"); do node_select "$n"; kafka_launch; done
  es_start
  for n in $(seq "$CLUSTER_NODES"); do node_select "$n"; kafka_wait; done
  trap - EXIT
  cmd_cluster_status
  log "ready in $((SECONDS - t0))s (run dir $KES_RUN_DIR)"
}

cmd_cluster_down() {
  local n pids=()
  state_lock
  # all nodes at once: stopped one by one, the last ones wait for a controller quorum
  # that is gone, until SIGKILL
  for n in $(seq "$CLUSTER_NODES"); do
    node_select "$n"
    # a frozen node ignores SIGTERM until thawed
    [[ -n "$(kafka_pid)" ]] && kill -CONT "$(kafka_pid)" 2>/dev/null
    # shellcheck disable=SC2207
    pids+=($(kafka_pid) $(pids_with "$KRUN/server.properties"))
  done
  stop_pids kafka ${pids[@]+"${pids[@]}"}
  for n in $(seq "$CLUSTER_NODES"); do
    node_select "$n"
    rm -rf "$KRUN/kafka.pid" "$KRUN/data" "$KRUN/version"
  done
  es_stop
  rm -rf "$KES_RUN_DIR/cluster-id" "$ERUN/data" "$ERUN/config" "$ERUN/tmp" "$ERUN/version"
  echo "kafka cluster: stopped"
  echo "elasticsearch: stopped"
}

cmd_cluster_status() {
  local rc=0 n
  for n in $(seq "$CLUSTER_NODES"); do
    node_select "$n"
    if kafka_healthy; then echo "kafka node $n: $HOST:$KAFKA_PORT (pid $(kafka_pid))"; else echo "kafka node $n: down"; rc=1; fi
  done
  if es_healthy; then es_describe; else echo "elasticsearch: down"; rc=1; fi
  return $rc
}

# the active controller: the leader of the highest raft epoch any running node reports
# in its log ("Completed transition to Leader(localId=N, epoch=E" or
# "FollowerState(..., epoch=E, leader=N"); the distribution has no quorum tool
cmd_controller_leader() {
  local n line epoch leader best_epoch=-1 best=""
  for n in $(seq "$CLUSTER_NODES"); do
    node_select "$n"
    [[ -n "$(kafka_pid)" ]] || continue
    line="$(grep -o 'Completed transition to [A-Za-z]*(.*' "$KRUN/logs/server.log" 2>/dev/null | tail -1 || true)"
    epoch="$(sed -n 's/.*[(, ]epoch=\([0-9]*\).*/\1/p' <<<"$line")"
    leader="$(sed -n -e 's/.*Leader(localId=\([0-9]*\).*/\1/p' -e 's/.*[(, ]leader\(Id\)\{0,1\}=\([0-9]*\).*/\2/p' <<<"$line" | head -1)"
    [[ "$line" == *"Completed transition to Leader("* ]] && leader="$n"
    [[ -n "$epoch" && -n "$leader" ]] || continue
    if ((epoch > best_epoch)); then best_epoch=$epoch; best=$leader; fi
  done
  [[ -n "$best" ]] || die "no running node knows a controller leader"
  echo "$best"
}

node_cmd() { # command N
  node_select "$2"
  case "$1" in
    broker-stop) state_lock; kill -CONT "$(kafka_pid)" 2>/dev/null || true; kafka_stop; echo "kafka node $2: stopped" ;;
    broker-start) state_lock; kafka_launch; kafka_wait; echo "kafka node $2: $HOST:$KAFKA_PORT (pid $(kafka_pid))" ;;
    broker-kill) [[ -n "$(kafka_pid)" ]] || die "node $2 is not running"; kill -KILL "$(kafka_pid)"; echo "kafka node $2: killed" ;;
    broker-freeze) [[ -n "$(kafka_pid)" ]] || die "node $2 is not running"; kill -STOP "$(kafka_pid)"; echo "kafka node $2: frozen" ;;
    broker-thaw) [[ -n "$(kafka_pid)" ]] || die "node $2 is not running"; kill -CONT "$(kafka_pid)"; echo "kafka node $2: thawed" ;;
    broker-pid) kafka_pid ;;
  esac
}

cluster_usage() {
  cat <<EOF
usage: $(basename "$0") COMMAND
  up                 start three Kafka nodes (KRaft, each broker+controller) and Elasticsearch
  down               stop all, delete their data
  status             exit 0 if every node and Elasticsearch answer
  env                print KAFKA_BROKERS=... and ES_URL=... lines
  broker-stop N      stop node N (SIGTERM), keep its data; broker-start N starts it again
  broker-kill N      SIGKILL node N (broker-start N brings it back)
  broker-freeze N    SIGSTOP node N; broker-thaw N sends SIGCONT
  broker-pid N       the pid of node N (nothing when it is down)
  controller-leader  the node id of the active controller
variables: KES_RUN_DIR=$KES_RUN_DIR CLUSTER_BASE_PORT=$CLUSTER_BASE_PORT ES_PORT=$ES_PORT
  nodes: clients $(brokers_list), controllers $(voters_list)
EOF
}

case "${1:-}" in
  up) cmd_cluster_up ;;
  down) cmd_cluster_down ;;
  status) cmd_cluster_status ;;
  env) echo "KAFKA_BROKERS=$(brokers_list)"; echo "ES_URL=$(es_url)" ;;
  broker-stop|broker-start|broker-kill|broker-freeze|broker-thaw|broker-pid)
    [[ $# -eq 2 ]] || die "usage: $1 N"; node_cmd "$1" "$2" ;;
  controller-leader) cmd_controller_leader ;;
  -h|--help|help) cluster_usage ;;
  *) cluster_usage >&2; exit 2 ;;
esac
