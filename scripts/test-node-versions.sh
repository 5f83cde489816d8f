#!/usr/bin/env bash
# Runs the test suite (on the packages already built) on other Node.js versions, e.g.
#   bash scripts/test-node-versions.sh 22.23.5 24.22.3
# Each version comes from the npm registry as the node-linux-<arch> package, installed once
# into .cache/node-<version>/ (git-ignored); its bin folder goes first on PATH, so the tests'
# child processes run on it too.
set -euo pipefail
cd "$(dirname "$0")/.."
arch="$(node -p process.arch)"
for version in "$@"; do
  dir=".cache/node-$version"
  bin="$PWD/$dir/node_modules/node-linux-$arch/bin"
  if [ ! -x "$bin/node" ]; then
    npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
      "node-linux-$arch@$version" >/dev/null
  fi
  echo "== the tests on Node.js $("$bin/node" --version)"
  start=$(date +%s)
  PATH="$bin:$PATH" "$bin/node" node_modules/vitest/vitest.mjs run
  echo "== Node.js $version: $(($(date +%s) - start)) s"
done
