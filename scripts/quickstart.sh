#!/usr/bin/env bash
# Fresh machine → a built example image: installs host tools and dependencies,
# makes the busybox base image, builds examples/hello and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-host.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent
bash scripts/make-busybox-base.sh "$@"
./bin/tsbuild.mjs "$@" build -t hello:latest examples/hello
./bin/tsbuild.mjs "$@" run --rm hello:latest
