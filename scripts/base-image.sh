#!/usr/bin/env bash
# Create the Dockerfile's base image locally, for machines that cannot pull from a registry.
#
# debootstraps a minimal Debian 12 with Python 3.11 and venv, imports it into the local
# Docker engine and tags it with the name the Dockerfile's FROM uses, so `docker build`
# pulls nothing. The Debian mirror is read from this machine's apt sources.
# Usage: scripts/base-image.sh [TAG]    (default: the Dockerfile's BASE_IMAGE default)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
TAG=${1:-$(sed -n 's/^ARG BASE_IMAGE=//p' "$here/Dockerfile" | head -n 1)}
[ -n "$TAG" ] || { echo "base image: no tag given and none found in the Dockerfile" >&2; exit 2; }

if docker image inspect "$TAG" >/dev/null 2>&1; then
  echo "base image: $TAG already present"; exit 0
fi

mirror() {
  # deb822 sources first (Debian 12's default), then the one-line format.
  local m
  m=$(awk '/^URIs:/ && !/security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$m" ] || m=$(awk '$1=="deb" && !/security/ {for (i=2;i<=NF;i++) if ($i ~ /^(https?|file):/) {print $i; exit}}' \
                      /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
  echo "$m"
}
MIRROR=${DEBIAN_MIRROR:-$(mirror)}
[ -n "$MIRROR" ] || { echo "base image: no Debian mirror in apt sources; set DEBIAN_MIRROR" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "base image: debootstrap not found (apt-get install debootstrap)" >&2; exit 1; }

root=$(mktemp -d /var/tmp/ganblr-bench-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "base image: debootstrapping Debian bookworm into $root"
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
  bookworm "$root" "$MIRROR" >"$root.log" 2>&1 || { tail -n 30 "$root.log" >&2; exit 1; }
rm -f "$root.log"
# Trim what a container never needs, as the official slim images do.
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' - "$TAG" >/dev/null
echo "base image: created $TAG"
