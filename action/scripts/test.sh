#!/usr/bin/env bash
# The test step of action/test: `flux-local test` with the action's inputs
# (passed as environment variables, never pasted into the script). Failures
# become annotations and a step summary (flux-local does that under GitHub
# Actions); the JUnit report is written also when the run fails.
set -uo pipefail

args=(test --path "$INPUT_PATH")
if [ "$ENABLE_HELM" = true ]; then args+=(--enable-helm --api-versions "$API_VERSIONS"); fi
if [ -n "$SOURCES" ]; then args+=(--sources "$SOURCES"); fi
if [ -n "$JUNIT" ]; then args+=(--junit "$JUNIT"); fi
if [ "$DEBUG" = true ]; then args+=(--verbose); fi
if [ "$ENABLE_KYVERNO" = true ]; then
  echo "::warning::flux-local (TypeScript) does not run kyverno policies; enable-kyverno ignored"
fi
if [ -n "$KUSTOMIZE_BUILD_FLAGS" ]; then
  echo "::warning::flux-local (TypeScript) has no kustomize-build-flags; ignored: $KUSTOMIZE_BUILD_FLAGS"
fi
exec flux-local "${args[@]}"
