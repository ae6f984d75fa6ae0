#!/bin/sh
# `npm run package`: prepares the machine, builds everything, then writes dist/stackhub-ha-<version>.vsix and the
# air-gap kit dist/stackhub-ha-airgap-<version>.tar.gz. Options go to scripts/package.ts (--tools-dir, --signing-key).
set -eu
cd "$(dirname "$0")/.."
sh scripts/prepare-machine.sh
NODE="${npm_node_execpath:-$(command -v node)}"
"$NODE" node_modules/tsx/dist/cli.mjs scripts/package.ts "$@"
