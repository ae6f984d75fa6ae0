#!/bin/sh
# Installs what the build and the tests need on a Debian machine, the same way for a newcomer and for CI:
# Debian packages (as root through apt-get; otherwise it says what to install) and node_modules (npm ci).
set -eu
cd "$(dirname "$0")/.."

# openssl: throwaway CAs for the HTTPS tests; git: the contract tests; bind9 + bind9-dnsutils: RFC 2136 tests;
# chromium (+ fonts-liberation, only a recommendation of chromium): the release page's browser tests (tests/report),
# driven by playwright-core, which never downloads a browser of its own.
DEB_PACKAGES="openssl git ca-certificates bind9 bind9-dnsutils chromium fonts-liberation"
missing=""
for p in $DEB_PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "prepare: installing Debian packages:$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
  else
    echo "prepare: missing Debian packages:$missing — run: sudo apt-get install -y$missing" >&2
    exit 1
  fi
fi

# node_modules: npm ci when absent or older than the lock file (.npmrc omits peer dependencies)
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "prepare: npm ci"
  npm ci --no-audit --no-fund
fi

# The real mongosh for tests/mongo/real-mongosh.test.ts (the primary scripts run in it), pinned by
# tests/tools/mongosh/package-lock.json; --ignore-scripts: no native add-on is built (mongosh runs without them).
MONGOSH_DIR=node_modules/.cache/stackhub-ha-tools/mongosh
if [ ! -x "$MONGOSH_DIR/node_modules/.bin/mongosh" ] || [ tests/tools/mongosh/package-lock.json -nt "$MONGOSH_DIR/package-lock.json" ]; then
  echo "prepare: real mongosh (tests/tools/mongosh)"
  rm -rf "$MONGOSH_DIR" && mkdir -p "$MONGOSH_DIR"
  cp tests/tools/mongosh/package.json tests/tools/mongosh/package-lock.json "$MONGOSH_DIR/"
  npm ci --prefix "$MONGOSH_DIR" --ignore-scripts --no-audit --no-fund >/dev/null
fi
