#!/usr/bin/env bash
# Set up everything flux-local needs to build and test, on a fresh machine too:
# npm packages, kustomize, helm and the Flux Operator CLI (built with `go install`
# into a cache outside the checkout, linked into .tools/bin), flux-local's
# kustomize worker (worker/, built with `go build` into the same cache, keyed by
# a hash of its source), the docker-registry used by the tests, and the compiled
# CLI. Safe to run again: each step is skipped when done.
set -euo pipefail

cd "$(dirname "$0")/.."

# The kustomize version lives in one place: worker/go.mod (the worker links the
# kustomize packages of exactly that release; the binary is built from it too).
# Bump both with: cd worker && go get -tool sigs.k8s.io/kustomize/kustomize/v5@vX.Y.Z && go mod tidy
KUSTOMIZE_VERSION="$(awk '$1 == "sigs.k8s.io/kustomize/kustomize/v5" { print $2 }' worker/go.mod)"
[ -n "$KUSTOMIZE_VERSION" ] || { echo "[setup] worker/go.mod does not require sigs.k8s.io/kustomize/kustomize/v5" >&2; exit 1; }
# The helm version lives in worker/helm/go.mod likewise (the helm worker links
# helm's packages of that release; the helm binary is built from it too). Bump:
# cd worker/helm && go get -tool helm.sh/helm/v4/cmd/helm@vX.Y.Z && go mod tidy
HELM_VERSION="$(awk '$1 == "helm.sh/helm/v4" { print $2 } $1 == "require" && $2 == "helm.sh/helm/v4" { print $3 }' worker/helm/go.mod)"
[ -n "$HELM_VERSION" ] || { echo "[setup] worker/helm/go.mod does not require helm.sh/helm/v4" >&2; exit 1; }
# Renders ResourceSets (`flux-operator build resourceset`). Needs Go 1.27: the
# go command fetches that toolchain itself (GOTOOLCHAIN below). ~5 min to build.
FLUX_OPERATOR_VERSION="${FLUX_OPERATOR_VERSION:-v0.59.0}"
FLUX_OPERATOR_GOTOOLCHAIN="${FLUX_OPERATOR_GOTOOLCHAIN:-go1.27.3}"
CACHE="${FLUX_LOCAL_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flux-local-tools}"

log() { printf '[setup] %s\n' "$*" >&2; }

command -v git >/dev/null 2>&1 || { log "git is required (and its git-http-backend for the tests)"; exit 1; }

# 1. npm packages, at the lockfile's versions. (`npm install`, not `npm ci`: the
# npm here writes lockfiles without other platforms' optional packages, which
# its own `npm ci` then rejects.)
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages"
  npm install --no-audit --no-fund --loglevel=error
fi

# 2. kustomize, helm, flux-operator: reuse $CACHE/<tool>-<version>, else go
# install into it. `binary` is the name go install gives (flux-operator's
# module builds `cli`); the tool is linked as `name`.
install_tool() {
  local name="$1" module="$2" version="$3" binary="${4:-$1}" toolchain="${5:-}"
  local dir="$CACHE/$name-$version"
  if [ ! -x "$dir/$name" ]; then
    if ! command -v go >/dev/null 2>&1; then
      log "go is not installed: cannot build $name $version (install $name yourself, on PATH)"
      return 1
    fi
    log "building $name $version with go install (cached in $dir)"
    local tmp
    tmp="$(mktemp -d "$CACHE/.$name-XXXXXX")"
    # Explicit checks: callers may run this under `if`, where `set -e` is off.
    if ! env ${toolchain:+GOTOOLCHAIN=$toolchain} GOBIN="$tmp" GOFLAGS="-trimpath" \
      go install "$module@$version"; then
      rm -rf "$tmp"
      return 1
    fi
    mkdir -p "$dir" && mv "$tmp/$binary" "$dir/$name.new" && mv "$dir/$name.new" "$dir/$name" \
      || { rm -rf "$tmp"; return 1; }
    rm -rf "$tmp"
  fi
  mkdir -p .tools/bin
  ln -sfn "$dir/$name" ".tools/bin/$name"
}
mkdir -p "$CACHE"
install_tool kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"
install_tool helm helm.sh/helm/v4/cmd/helm "$HELM_VERSION"
log "kustomize $(.tools/bin/kustomize version), helm $(.tools/bin/helm version --short)"
install_tool flux-operator github.com/controlplaneio-fluxcd/flux-operator/cmd/cli \
  "$FLUX_OPERATOR_VERSION" cli "$FLUX_OPERATOR_GOTOOLCHAIN"
log "flux-operator $FLUX_OPERATOR_VERSION ($CACHE/flux-operator-$FLUX_OPERATOR_VERSION)"

# 2b. The workers: one long-lived kustomize, and one long-lived helm, per
# concurrency slot (see README, "The workers"). Each is cached by a hash of its
# source; without Go, flux-local falls back to one process per build (slower).
# build_worker NAME DIR WHAT [LDFLAGS]
build_worker() {
  local name="$1" src="$2" what="$3" ldflags="${4:-}"
  local hash dir tmp
  hash="$( (cd "$src" && cat go.mod go.sum ./*.go) | sha256sum | cut -c1-16)"
  dir="$CACHE/$name-$hash"
  if [ ! -x "$dir/$name" ]; then
    if command -v go >/dev/null 2>&1; then
      log "building the $what worker (cached in $dir)"
      tmp="$(mktemp -d "$CACHE/.$name-XXXXXX")"
      if ! (cd "$src" && go build -trimpath -ldflags "-s -w $ldflags" -o "$tmp/$name" .); then
        rm -rf "$tmp"
        return 1
      fi
      mkdir -p "$dir" && mv "$tmp/$name" "$dir/$name"
      rm -rf "$tmp"
    else
      log "go is not installed: no $what worker, one $what process per build (slower)"
    fi
  fi
  if [ -x "$dir/$name" ]; then
    ln -sfn "$dir/$name" ".tools/bin/$name"
  else
    rm -f ".tools/bin/$name"
  fi
}
build_worker flux-local-kustomize-worker worker kustomize \
  "-X sigs.k8s.io/kustomize/api/provenance.version=$KUSTOMIZE_VERSION"
build_worker flux-local-helm-worker worker/helm helm

# 3. The OCI registry the tests start on loopback (Debian's docker-registry).
if [ ! -x /usr/bin/docker-registry ] && ! command -v docker-registry >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing docker-registry (Debian package)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null
  else
    log "docker-registry is missing: the registry tests need it (sudo apt-get install docker-registry)"
  fi
fi
# The package starts a service on :5000 where an init system runs; tests use their own.

# 4. Compile the CLI.
log "compiling"
npm run --silent build
log "ready: node bin/flux-local.js --help"
