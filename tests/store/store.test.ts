import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/flux/objects.js";
import { Store, type StoreEntry } from "../../src/store/store.js";
import { isSuspended, parseEntry, typed } from "../../src/store/typed.js";

const ref = { kind: "Kustomization", namespace: "flux-system", name: "apps" };
const ks = (path: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "kustomize.toolkit.fluxcd.io/v1",
  kind: "Kustomization",
  metadata: { name: "apps", namespace: "flux-system" },
  spec: { path, sourceRef: { kind: "GitRepository", name: "flux-system" }, ...extra },
});

describe("Store", () => {
  it("adds, ignores an identical definition, and replaces a different one", () => {
    const store = new Store();
    const events: string[] = [];
    store.on("added", (e) => events.push(`added ${e.key}`));
    store.on("updated", (e) => events.push(`updated ${e.key} gen ${e.generation}`));

    expect(store.put(ref, ks("./apps"), { file: "a.yaml", line: 3 })).toBe("added");
    expect(store.put(ref, ks("./apps"), { producer: "Kustomization/flux-system/root" })).toBe(
      "unchanged",
    );
    // The producer is the better origin; the scanned line is kept for the same file.
    expect(store.get(ref)?.origin).toEqual({ producer: "Kustomization/flux-system/root" });

    store.setStatus(ref, { phase: "Ready", reason: "ReconciliationSucceeded", message: "" });
    store.setArtifact(ref, { type: "render", objects: [] });
    expect(store.put(ref, ks("./other"), { file: "a.yaml" })).toBe("updated");
    const entry = store.get(ref)!;
    expect(entry.generation).toBe(2);
    expect(entry.status.phase).toBe("Pending");
    expect(entry.artifact).toBeUndefined();
    expect(events).toEqual([
      "added Kustomization/flux-system/apps",
      "updated Kustomization/flux-system/apps gen 2",
    ]);
  });

  it("does not count the labels builds add as a new definition", () => {
    const store = new Store();
    store.put(ref, ks("./apps"), {});
    const labelled = ks("./apps");
    labelled.metadata = {
      ...labelled.metadata,
      labels: {
        "kustomize.toolkit.fluxcd.io/name": "root",
        "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
      },
    };
    expect(store.put(ref, labelled, {})).toBe("unchanged");
  });

  it("lists by kind in insertion order", () => {
    const store = new Store();
    store.put({ ...ref, name: "b" }, ks("./b"), {});
    store.put({ kind: "GitRepository", namespace: "flux-system", name: "g" }, {}, {});
    store.put({ ...ref, name: "a" }, ks("./a"), {});
    expect(store.list("Kustomization").map((e) => e.ref.name)).toEqual(["b", "a"]);
    expect(store.list()).toHaveLength(3);
  });

  it("resolves waits when the status becomes terminal, and at once when it is", async () => {
    const store = new Store();
    const early = store.waitFor(ref); // before the object exists
    store.put(ref, ks("./apps"), {});
    store.setStatus(ref, { phase: "Reconciling", reason: "Progressing", message: "building" });
    expect(store.awaitedKeys()).toEqual(["Kustomization/flux-system/apps"]);
    store.setStatus(ref, { phase: "Failed", reason: "BuildFailed", message: "boom" });
    await expect(early).resolves.toMatchObject({ phase: "Failed", message: "boom" });
    await expect(store.waitFor(ref)).resolves.toMatchObject({ phase: "Failed" });
    expect(store.awaitedKeys()).toEqual([]);
  });

  it("ends waits on an object that never appears when released", async () => {
    const store = new Store();
    const wait = store.waitFor("Kustomization/flux-system/missing");
    store.release("Kustomization/flux-system/missing", {
      phase: "Failed",
      reason: "DependencyNotFound",
      message: "not found",
    });
    await expect(wait).resolves.toMatchObject({ reason: "DependencyNotFound" });
  });

  it("refuses status for an object it does not hold", () => {
    expect(() =>
      new Store().setStatus(ref, { phase: "Ready", reason: "Progressing", message: "" }),
    ).toThrow(/no object Kustomization\/flux-system\/apps/);
  });
});

describe("typed reads", () => {
  const entry = (object: KubeObject): Pick<StoreEntry, "object" | "ref"> => ({ ref, object });

  it("parses once per definition and hands out the typed object", () => {
    const e = entry(ks("./apps", { suspend: true }));
    const first = parseEntry(e, "Kustomization");
    expect(first.ok && first.object.spec.path).toBe("./apps");
    expect(parseEntry(e, "Kustomization")).toBe(first);
    expect(typed(e, "Kustomization")?.spec.sourceRef.name).toBe("flux-system");
    expect(isSuspended(e)).toBe(true);
  });

  it("says why an object does not parse, and typed() gives undefined", () => {
    const bad = entry({ ...ks("./apps"), spec: { path: 3 } });
    const parsed = parseEntry(bad, "Kustomization");
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toMatch(/spec\.path/);
    expect(typed(bad, "Kustomization")).toBeUndefined();
    expect(typed(entry(ks("./apps")), "HelmRelease")).toBeUndefined(); // another kind
  });
});
