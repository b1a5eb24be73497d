#!/usr/bin/env bash
# Installs the host tools tsbuild and its tests use (Debian 12, as root), only those missing.
set -euo pipefail
pkgs=(runc busybox-static skopeo umoci docker-registry apache2-utils mmdebstrap tmux openssl xz-utils bzip2 zstd docker.io)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup-host: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
