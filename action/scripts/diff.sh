#!/usr/bin/env bash
# The diff step of action/diff: `flux-local diff -o markdown --exit-code` with
# the action's inputs (passed as environment variables, never pasted into the
# script), the Markdown kept in a file and in the `diff` output (empty when
# nothing changes), the exit code in `exit-code`. Exit 3 (a render failed) is
# reported after the comment is posted; anything else unexpected fails now.
set -uo pipefail

args=(diff "$RESOURCE" --path "pr/$INPUT_PATH" --path-orig "live/$INPUT_PATH"
  --all-namespaces --unified "$DIFF_LINES" --limit-bytes "$LIMIT_BYTES" -o markdown --exit-code)
if [ "$SKIP_CRDS" = true ]; then args+=(--skip-crds); else args+=(--no-skip-crds); fi
if [ "$SKIP_SECRETS" = true ]; then args+=(--skip-secrets); else args+=(--no-skip-secrets); fi
if [ -n "$STRIP_ATTRS" ]; then args+=(--strip-attrs "$STRIP_ATTRS"); fi
if [ -n "$SOURCES" ]; then args+=(--sources "$SOURCES"); fi
case "$RESOURCE" in
  helmrelease | helmreleases | hr) args+=(--api-versions "$API_VERSIONS") ;;
  all) if [ "$ENABLE_HELM" = true ]; then args+=(--enable-helm --api-versions "$API_VERSIONS"); fi ;;
esac
if [ "$DEBUG" = true ]; then args+=(--verbose); fi
if [ -n "$KUSTOMIZE_BUILD_FLAGS" ]; then
  echo "::warning::flux-local (TypeScript) has no kustomize-build-flags; ignored: $KUSTOMIZE_BUILD_FLAGS"
fi

out="$(mktemp "${RUNNER_TEMP:-/tmp}/flux-local-diff.XXXXXX")"
flux-local "${args[@]}" > "$out"
code=$?
case "$code" in
  0) : > "$out" ;;   # no differences: an empty diff
  1 | 3) ;;          # differences; or a failed render, shown in the Markdown and failed later
  *) echo "::error::flux-local diff exited with code $code"; exit "$code" ;;
esac
delimiter="flux-local-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
{
  echo "file=$out"
  echo "exit-code=$code"
  echo "diff<<$delimiter"
  cat "$out"
  echo "$delimiter"
} >> "$GITHUB_OUTPUT"
