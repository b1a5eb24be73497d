#!/usr/bin/env bash
# Makes the busybox base image from Debian's busybox-static and imports it as
# busybox:latest (also tagged busybox:local, the name bench scenarios use).
#   scripts/make-busybox-base.sh [TSBUILD_ARGS...]   e.g. --root /tmp/store
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root="$tmp/rootfs"
mkdir -p "$root"/{bin,etc,tmp,root,proc,dev,sys}
chmod 1777 "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
tar --numeric-owner --sort=name --mtime=@0 -C "$root" -cf "$tmp/busybox.tar" .
"$here/bin/tsbuild.mjs" "$@" import "$tmp/busybox.tar" busybox:latest
"$here/bin/tsbuild.mjs" "$@" tag busybox:latest busybox:local 2>/dev/null || "$here/bin/tsbuild.mjs" "$@" import "$tmp/busybox.tar" busybox:local >/dev/null
