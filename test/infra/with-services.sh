#!/usr/bin/env bash
# Runs a command with Kafka and Elasticsearch up: starts them when they are not
# running, and stops afterwards only what this script started.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# KES_SERVICES_SCRIPT=test/infra/secured.sh runs it with the secured pair instead
services="${KES_SERVICES_SCRIPT:-$here/services.sh}"
started=0
if ! bash "$services" status >/dev/null 2>&1; then
  bash "$services" up
  started=1
fi
cleanup() {
  if [[ $started == 1 ]]; then bash "$services" down; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
"$@"
