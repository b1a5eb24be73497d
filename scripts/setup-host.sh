#!/usr/bin/env bash
# Installs the host tools tsbuild and its tests use (Debian 12, as root), only those missing.
set -euo pipefail
# Node.js >= 20 and npm come with the machine (Debian 12's own nodejs is 18, too old).
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((node_major < 20)); then
  echo "setup-host: tsbuild needs Node.js >= 20 with npm (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
# clang (with libc6-dev, a dependency) also builds test/helpers/escape.c, static, for the escape suite.
pkgs=(runc busybox-static skopeo umoci docker-registry apache2-utils mmdebstrap tmux openssl xz-utils bzip2 zstd docker.io strace clang lld)
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
