#!/usr/bin/env bash
# `make test-image`: install podman and friends when missing, build the stand-in bases
# (once), build the image, then smoke-test the container against the real servers
# (started here when they are not running, and stopped again). Prints each step's time.
#   test-image.sh IMAGE NODE
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
image="$1" node="$2"
started=$SECONDS
step() { # name command...
  local name="$1" t0=$SECONDS; shift
  "$@"
  printf 'test-image: %-28s %4ds\n' "$name" $((SECONDS - t0)) >&2
}
step "tools (apt, when missing)" bash "$here/ensure-tools.sh" podman buildah runc mmdebstrap
step "stand-in bases" bash "$here/podman.sh" bases
step "image build" bash "$here/podman.sh" build "$image"
size="$(bash "$here/podman.sh" podman image inspect --format '{{.Size}}' "$image")"
echo "test-image: image $image is $((size / 1000000)) MB" >&2
step "servers + smoke test" env KES_IMAGE="$image" bash "$here/with-services.sh" "$node" --test --test-concurrency=1 \
  --test-timeout=900000 --test-reporter=spec 'test/image/**/*.test.ts'
echo "test-image: total $((SECONDS - started))s" >&2
