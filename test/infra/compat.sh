#!/usr/bin/env bash
# Runs a command (by default the integration suite) once against the newest servers
# users install today: Apache Kafka 4.1 and Elasticsearch 9 (which needs Java 21+: the
# Temurin JDK in /usr/lib/jvm, found by services.sh). Its own ports and run directory,
# so that it never meets the default pair; CI runs it after the default pair stopped,
# not beside it, to save memory.
#
#   compat.sh [COMMAND...]
# variables: COMPAT_KAFKA_VERSION, COMPAT_ES_VERSION, COMPAT_KAFKA_PORT, COMPAT_ES_PORT, COMPAT_REGISTRY_PORT,
#            KES_COMPAT_RUN_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${KES_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-es-transfer}"

export KAFKA_VERSION="${COMPAT_KAFKA_VERSION:-4.1.0}"
# The newest 9.x integ-test-zip on Maven Central when this was written (checked with mvn).
export ES_VERSION="${COMPAT_ES_VERSION:-9.2.4}"
export KAFKA_PORT="${COMPAT_KAFKA_PORT:-9192}"
export ES_PORT="${COMPAT_ES_PORT:-9210}"
export KES_RUN_DIR="${KES_COMPAT_RUN_DIR:-$cache/run-compat}"
export SCHEMA_REGISTRY_PORT="${COMPAT_REGISTRY_PORT:-$((ES_PORT + 60))}"
export SCHEMA_REGISTRY_URL="http://127.0.0.1:$SCHEMA_REGISTRY_PORT/apis/ccompat/v7"
export KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
export ES_NODE="http://127.0.0.1:$ES_PORT"
# The fault proxy of the integration suite, inside the same port neighbourhood.
export KES_FAULT_PROXY_PORT="${COMPAT_FAULT_PROXY_PORT:-$((ES_PORT + 50))}"
unset KAFKA_CONTROLLER_PORT ES_TRANSPORT_PORT REGISTRY_MANAGEMENT_PORT

# The suites left out by default, to keep within about 6 minutes: they exercise our own
# handling of outages and crashes (Elasticsearch stopped and restarted, workers
# SIGKILLed), which takes minutes of waiting and says little about the servers'
# protocols; `make test` runs them on the default pair and `make test-faults` goes
# further. Everything else runs (COMPAT_SKIP="" runs all).
COMPAT_SKIP="${COMPAT_SKIP-es-outage lag crash-recovery}"
if (($# == 0)); then
  tests=()
  for file in "$root"/test/integration/*.test.ts; do
    name="$(basename "$file" .test.ts)"
    [[ " $COMPAT_SKIP " == *" $name "* ]] || tests+=("$file")
  done
  set -- "$root/node_modules/.bin/node" --test --test-concurrency=1 --test-timeout=900000 --test-reporter=spec "${tests[@]}"
fi
echo "compat: Kafka $KAFKA_VERSION on $KAFKA_BROKERS, Elasticsearch $ES_VERSION on $ES_NODE (run dir $KES_RUN_DIR)"
start=$SECONDS
bash "$here/with-services.sh" "$@"
echo "compat: passed in $((SECONDS - start)) s"
