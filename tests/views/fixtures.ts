/**
 * A small finished run for report tests: a store with objects in every state,
 * built through the store's own API (no rendering).
 */
import type { Issue, RenderResult } from "../../src/run.js";
import { Store } from "../../src/store/store.js";
import type { Status } from "../../src/store/status.js";

export const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

function ks(name: string) {
  return {
    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
    kind: "Kustomization",
    metadata: { name, namespace: "flux-system" },
    spec: { path: `./${name}`, sourceRef: { kind: "GitRepository", name: "flux-system" } },
  };
}

export function finishedRun(cwd: string, issues: Issue[] = []): RenderResult {
  const store = new Store();
  const put = (
    kind: string,
    namespace: string,
    name: string,
    status: Status,
    origin: { file?: string; line?: number; producer?: string },
  ) => {
    const ref = { kind, namespace, name };
    store.put(
      ref,
      kind === "Kustomization" ? ks(name) : { kind, metadata: { name, namespace } },
      origin,
    );
    store.setStatus(ref, status);
  };
  put(
    "Kustomization",
    "flux-system",
    "apps",
    {
      phase: "Ready",
      reason: "ReconciliationSucceeded",
      message: "",
      startedAt: T0,
      finishedAt: T0 + 1500,
    },
    {
      file: `${cwd}/clusters/prod/apps.yaml`,
      line: 2,
      producer: "Kustomization/flux-system/flux-system",
    },
  );
  put(
    "OCIRepository",
    "flux-system",
    "remote",
    {
      phase: "Failed",
      reason: "ArtifactFailed",
      message: 'pull failed: <unauthorized> & "denied"',
    },
    { file: `${cwd}/clusters/prod/remote.yaml`, line: 7 },
  );
  put(
    "Kustomization",
    "flux-system",
    "infra",
    {
      phase: "Failed",
      reason: "DependencyNotReady",
      message: "dependency OCIRepository flux-system/remote is failed",
      rootCause: "OCIRepository/flux-system/remote",
      startedAt: T0,
      finishedAt: T0 + 250,
    },
    { file: `${cwd}/clusters/prod/infra.yaml`, line: 12 },
  );
  put(
    "Kustomization",
    "flux-system",
    "later",
    { phase: "Suspended", reason: "Suspended", message: "spec.suspend is true" },
    { file: `${cwd}/clusters/prod/later.yaml`, line: 1 },
  );
  put(
    "HelmRelease",
    "podinfo",
    "podinfo",
    { phase: "Pending", reason: "Progressing", message: "" },
    { file: `${cwd}/apps/podinfo.yaml`, line: 3, producer: "Kustomization/flux-system/apps" },
  );
  return { store, issues } as unknown as RenderResult;
}
