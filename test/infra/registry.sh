# Apicurio Registry (the Confluent-compatible API under /apis/ccompat/v7) for the
# schema-registry tests: sourced by services.sh, which calls these functions from its
# up / down / status and the registry-stop / registry-start / registry-pid commands.
#
# It comes from Maven Central (io.apicurio:apicurio-registry-app, tar.gz, classifier
# `all`: a Quarkus application, `java -jar quarkus-run.jar`), needs Java 21+ (the
# Temurin JDK in /usr/lib/jvm), keeps its schemas in an H2 database file in the run
# dir (so a stopped and restarted registry serves the same ids, as a real one does;
# `down` deletes it), and listens on 127.0.0.1 only: the API on SCHEMA_REGISTRY_PORT and Quarkus'
# management interface (health, metrics) on the next port, both loopback.
# shellcheck shell=bash

REGISTRY_VERSION="${REGISTRY_VERSION:-3.3.3}"
SCHEMA_REGISTRY_PORT="${SCHEMA_REGISTRY_PORT:-8081}"
REGISTRY_MANAGEMENT_PORT="${REGISTRY_MANAGEMENT_PORT:-$((SCHEMA_REGISTRY_PORT + 1))}"
REGISTRY_HEAP="${REGISTRY_HEAP:-256m}"
REGISTRY_HOME="$KES_CACHE_DIR/apicurio-registry-$REGISTRY_VERSION"
RRUN="$KES_RUN_DIR/registry"
REGISTRY_API="/apis/ccompat/v7"

registry_url() { echo "http://$HOST:$SCHEMA_REGISTRY_PORT$REGISTRY_API"; }

ensure_registry_dist() {
  [[ -f "$REGISTRY_HOME/.complete" ]] && return 0
  fetch_lock
  if [[ ! -f "$REGISTRY_HOME/.complete" ]]; then
    log "fetching Apicurio Registry $REGISTRY_VERSION from Maven Central ..."
    local tmp="$REGISTRY_HOME.tmp.$$" logf="$KES_CACHE_DIR/fetch-registry-$REGISTRY_VERSION.log"
    rm -rf "$tmp"; mkdir -p "$tmp"
    mvn_run "$logf" dependency:copy \
        "-Dartifact=io.apicurio:apicurio-registry-app:$REGISTRY_VERSION:tar.gz:all" "-DoutputDirectory=$tmp" \
      || { rm -rf "$tmp"; die "could not fetch Apicurio Registry $REGISTRY_VERSION (see $logf)"; }
    tar -xzf "$tmp/apicurio-registry-app-$REGISTRY_VERSION-all.tar.gz" -C "$tmp" \
      || { rm -rf "$tmp"; die "could not unpack Apicurio Registry $REGISTRY_VERSION"; }
    rm -f "$tmp/apicurio-registry-app-$REGISTRY_VERSION-all.tar.gz"
    [[ -f "$tmp/quarkus-run.jar" ]] || { rm -rf "$tmp"; die "quarkus-run.jar missing after unpacking Apicurio Registry"; }
    echo "$REGISTRY_VERSION" >"$tmp/.complete"
    rm -rf "$REGISTRY_HOME"; mv "$tmp" "$REGISTRY_HOME"
  fi
  fetch_unlock
}

registry_java() {
  local h
  h="$(find_jdk 21 "${REGISTRY_JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64)" \
    || die "Apicurio Registry needs a JDK >= 21 (set REGISTRY_JAVA_HOME)"
  echo "$h/bin/java"
}

# the marker on its command line that says it is ours (pids_with matches it)
registry_marker() { echo "-Dkes.registry.run=$RRUN"; }

registry_pid() {
  local p; p="$(read_pid "$RRUN/registry.pid")"
  if pid_alive "$p" && { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | grep -qF -- "$(registry_marker)"; then
    echo "$p"
  fi
}

registry_answers() {
  [[ "$(curl -s -m 3 -o /dev/null -w '%{http_code}' "$(registry_url)/schemas/types" 2>/dev/null)" == 200 ]]
}
registry_healthy() { [[ -n "$(registry_pid)" ]] && registry_answers; }

registry_preflight() {
  [[ -z "$(registry_pid)" ]] || return 0
  local stray; stray="$(pids_with "$(registry_marker)")"
  [[ -z "$stray" ]] || stop_pids registry $stray
  port_open "$SCHEMA_REGISTRY_PORT" && die "port $HOST:$SCHEMA_REGISTRY_PORT is in use by a process that is not our schema registry"
  port_open "$REGISTRY_MANAGEMENT_PORT" && die "port $HOST:$REGISTRY_MANAGEMENT_PORT is in use by a process that is not our schema registry"
  return 0
}

registry_start() {
  if registry_healthy; then return 0; fi
  if [[ -z "$(registry_pid)" ]]; then
    registry_preflight
    ensure_registry_dist
    mkdir -p "$RRUN"
    [[ -f "$RRUN/registry.log" ]] && mv -f "$RRUN/registry.log" "$RRUN/registry.log.prev"
    local java; java="$(registry_java)"
    # in its own session and directory, without our lock fds; every listener on loopback
    ( cd "$RRUN" && exec setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$RRUN/registry.pid" \
        "$java" "-Xmx$REGISTRY_HEAP" -XX:+UseSerialGC "$(registry_marker)" \
        -Dquarkus.http.host=$HOST "-Dquarkus.http.port=$SCHEMA_REGISTRY_PORT" \
        -Dquarkus.management.host=$HOST "-Dquarkus.management.port=$REGISTRY_MANAGEMENT_PORT" \
        -Dquarkus.otel.sdk.disabled=true "-Dapicurio.datasource.url=jdbc:h2:file:$RRUN/data/registry" \
        -jar "$REGISTRY_HOME/quarkus-run.jar" \
        </dev/null >"$RRUN/registry.log" 2>&1 8>&- 9>&- ) &
    for _ in $(seq 50); do [[ -s "$RRUN/registry.pid" ]] && break; sleep 0.1; done
  fi
  local deadline=$((SECONDS + KES_START_TIMEOUT))
  until registry_answers; do
    if [[ -z "$(registry_pid)" ]]; then
      show_tail "$RRUN/registry.log"
      die "Apicurio Registry exited during startup (log: $RRUN/registry.log)"
    fi
    if ((SECONDS >= deadline)); then
      show_tail "$RRUN/registry.log"
      registry_stop
      die "Apicurio Registry not ready within ${KES_START_TIMEOUT}s (log: $RRUN/registry.log); stopped it"
    fi
    sleep 0.3
  done
}

registry_stop() { stop_ours registry "$RRUN/registry.pid" "$(registry_marker)" "$(registry_pid)"; }

registry_describe() {
  echo "schema registry: $(registry_url) (Apicurio Registry $REGISTRY_VERSION, pid $(registry_pid))"
}
