#!/bin/sh
# `npm run lint` (and the first step of `npm test`): ESLint with typescript-eslint (eslint.config.mjs) and Prettier's
# check (.prettierrc.json), zero warnings allowed. `npm run format` rewrites the files Prettier would change.
set -eu
cd "$(dirname "$0")/.."
NODE="${npm_node_execpath:-$(command -v node)}"
"$NODE" node_modules/eslint/bin/eslint.js --max-warnings 0 .
if [ -f .prettierrc.json ]; then
  "$NODE" node_modules/prettier/bin/prettier.cjs --check --log-level warn 'src/**/*.ts' 'tests/**/*.ts' 'scripts/**/*.ts' 'tasks/*/index.ts' 'actions/*/index.ts'
fi
