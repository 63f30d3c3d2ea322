#!/usr/bin/env bash
# Installs the flux-local command: the npm package named by $PACKAGE (e.g.
# `flux-local@0.1.0`, or a tarball URL), else this action's own checkout,
# packed (prepack builds dist/) and installed like a user would.
# Env: PACKAGE, ACTION_PATH, RUNNER_TEMP.
set -euo pipefail

if [ -n "${PACKAGE:-}" ]; then
  npm install --global --no-audit --no-fund --loglevel=error "$PACKAGE"
else
  root="$(cd "$ACTION_PATH/../.." && pwd)"
  dest="$(mktemp -d "${RUNNER_TEMP:-/tmp}/flux-local-pack.XXXXXX")"
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error && npm pack --pack-destination "$dest" --loglevel=error)
  npm install --global --no-audit --no-fund --loglevel=error "$dest"/flux-local-*.tgz
fi
flux-local --version
