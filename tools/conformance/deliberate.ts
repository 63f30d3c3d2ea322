/**
 * Cases where we differ from flux-local on purpose. A case listed here that
 * differs is reported as DELIBERATE (not a failure); one that matches is
 * reported as PASS with a note that its entry can be removed.
 *
 * An entry is a decision, not a way to make a case pass: if our behaviour is
 * wrong, the case stays a failure until it is fixed.
 */

export interface DeliberateDifference {
  /** The case's `test` in cases.json. */
  test: string;
  /** The case's `id` in cases.json. */
  id: string;
  /** Why we differ, in one paragraph. */
  reason: string;
}

const UNRESOLVED_OCI_SOURCE =
  "Kustomizations whose source cannot be resolved offline (an OCIRepository with no --sources " +
  "mapping it to a local directory) are listed and reported as failures (on stderr, exit code " +
  "1), so a CI run cannot go green while part of the cluster was never rendered; flux-local " +
  "silently dropped them (and exited 0).";

const NO_SPEC_PATH =
  "A Kustomization without spec.path (here controllers/infra-controllers) builds the root of its " +
  "source, as kustomize-controller does; flux-local built the --path directory instead. The " +
  "source here is the bootstrap GitRepository, i.e. the whole checkout, whose root has no " +
  "kustomization.yaml: like Flux we generate one over every manifest below it, which holds the " +
  "same objects several times, so the build fails and is reported (exit code 1) instead of " +
  "listing the releases of tests/testdata/cluster5.";

const NEW_COMMAND_LAYOUT =
  "flux-local's experimental `-new` commands printed paths with a leading `./` and rows in " +
  "discovery order. We run `ks-new`/`hr-new` as the plain commands, which print " +
  "repository-relative paths without `./` and rows sorted by namespace and name, as " +
  "flux-local's stable commands did.";

const NEW_BUILD_IGNORED_NAME =
  "flux-local's experimental `build ks-new NAME` ignored NAME and printed every Kustomization of " +
  "the cluster (its recorded output is identical to `build ks-new` without a name). We run it as " +
  "`build ks NAME`, which prints only that Kustomization's objects, as flux-local's stable " +
  "`build ks NAME` did (test_build_ks[...] with the same arguments passes).";

const DIAGNOSTICS_EXIT_CODE =
  "flux-local's diagnostics printed [DIAGNOSTICS FAIL] lines and still exited 0. We print the " +
  "same lines byte for byte but exit 1 when diagnostics finds an error, so a CI step fails on a " +
  "broken repository.";

const DIAGNOSTICS_NO_SPEC_PATH =
  "cluster5's controllers/infra-controllers has no spec.path, so (as in kustomize-controller) it " +
  "builds the root of its source: the whole checkout, whose generated kustomization holds dozens " +
  "of objects twice. diagnostics reports that duplicate build (exit 1) where flux-local, which " +
  "built --path instead, printed [DIAGNOSTICS OK]. See also the NO_SPEC_PATH entries.";

const DIFF_SOURCES_BOTH_SIDES =
  "flux-local applied --sources to the working tree only: the HEAD side it checked out itself got " +
  "no --sources, so `diff ks apps --sources ''` reported every object of Kustomization apps as " +
  "removed although nothing changed. We apply --sources (here an empty mapping, which maps " +
  "nothing) to both sides, so an unchanged checkout has no differences and prints nothing.";

function entries(test: string, ids: readonly string[], reason: string): DeliberateDifference[] {
  return ids.map((id) => ({ test, id, reason }));
}

export const DELIBERATE: readonly DeliberateDifference[] = [
  // Unresolvable OCIRepository sources: cluster2 and cluster4 (Kustomization flux-system/flux
  // from OCIRepository flux-manifests), cluster3 without --sources (namespaces and tenants).
  ...entries("test_build_all", ["build-cluster2", "build-cluster3"], UNRESOLVED_OCI_SOURCE),
  ...entries(
    "test_get_cluster",
    ["cluster2", "cluster3-no-source", "cluster4"],
    UNRESOLVED_OCI_SOURCE,
  ),
  ...entries("test_get_hr", ["cluster2", "cluster3-no-source", "cluster4"], UNRESOLVED_OCI_SOURCE),
  ...entries("test_get_ks", ["cluster2", "cluster2-wide", "cluster4"], UNRESOLVED_OCI_SOURCE),
  ...entries("test_get_ks_new", ["cluster3"], `${NEW_COMMAND_LAYOUT} ${UNRESOLVED_OCI_SOURCE}`),
  // A Kustomization without spec.path (cluster5).
  ...entries("test_get_cluster", ["cluster5"], NO_SPEC_PATH),
  ...entries("test_get_hr", ["cluster5"], NO_SPEC_PATH),
  ...entries("test_get_ks", ["cluster5", "cluster5-all"], NO_SPEC_PATH),
  // flux-local's experimental -new commands.
  ...entries("test_get_ks_new", ["cluster", "cluster-wide"], NEW_COMMAND_LAYOUT),
  ...entries(
    "test_build_ks_new",
    ["build-ks-single", "build-ks-single-cluster6", "build-ks-single-cluster8"],
    NEW_BUILD_IGNORED_NAME,
  ),
  // diagnostics fails the run on errors.
  ...entries("test_invalid_mapping", ["list", "scalar", "not-yaml"], DIAGNOSTICS_EXIT_CODE),
  ...entries("test_diagnostics", ["test_diagnostics"], DIAGNOSTICS_NO_SPEC_PATH),
  // diff: --sources on both sides.
  ...entries("test_diff_ks", ["yaml-empty-sources"], DIFF_SOURCES_BOTH_SIDES),
];

export function deliberateEntry(test: string, id: string): DeliberateDifference | undefined {
  return DELIBERATE.find((d) => d.test === test && d.id === id);
}
