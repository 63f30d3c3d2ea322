#!/usr/bin/env bash
# Installs kustomize and helm release binaries into $TOOLS_DIR (kept between
# workflow runs by actions/cache, keyed on the versions) and puts the folder
# on the job's PATH. Env: KUSTOMIZE_VERSION, HELM_VERSION, TOOLS_DIR,
# RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_PATH.
set -euo pipefail

case "${RUNNER_OS:-Linux}" in
  Linux) os=linux ;;
  macOS) os=darwin ;;
  *) echo "::error::flux-local action: runner OS ${RUNNER_OS} is not supported (Linux or macOS)"; exit 1 ;;
esac
case "${RUNNER_ARCH:-X64}" in
  X64) arch=amd64 ;;
  ARM64) arch=arm64 ;;
  *) echo "::error::flux-local action: runner architecture ${RUNNER_ARCH} is not supported (X64 or ARM64)"; exit 1 ;;
esac

mkdir -p "$TOOLS_DIR"
tmp="$(mktemp -d "${RUNNER_TEMP:-/tmp}/flux-local-tools.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$TOOLS_DIR/kustomize" ]; then
  echo "installing kustomize ${KUSTOMIZE_VERSION}"
  curl -fsSL --retry 3 -o "$tmp/kustomize.tgz" \
    "https://github.com/kubernetes-sigs/kustomize/releases/download/kustomize%2F${KUSTOMIZE_VERSION}/kustomize_${KUSTOMIZE_VERSION}_${os}_${arch}.tar.gz"
  tar -xzf "$tmp/kustomize.tgz" -C "$tmp" kustomize
  install -m 0755 "$tmp/kustomize" "$TOOLS_DIR/kustomize"
fi
if [ ! -x "$TOOLS_DIR/helm" ]; then
  echo "installing helm ${HELM_VERSION}"
  curl -fsSL --retry 3 -o "$tmp/helm.tgz" "https://get.helm.sh/helm-${HELM_VERSION}-${os}-${arch}.tar.gz"
  tar -xzf "$tmp/helm.tgz" -C "$tmp" "${os}-${arch}/helm"
  install -m 0755 "$tmp/${os}-${arch}/helm" "$TOOLS_DIR/helm"
fi
echo "$TOOLS_DIR" >> "$GITHUB_PATH"
