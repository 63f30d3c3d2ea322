import { describe, expect, it } from "vitest";
import { fieldChanges, formatFieldChange } from "../../src/diff/changes.js";
import { diffLines, diffStructure, TRUNCATED } from "../../src/diff/flux-format.js";
import {
  compareSides,
  DEFAULT_STRIP_ATTRS,
  stripAttributes,
  type Group,
  type Owner,
  type Side,
} from "../../src/diff/model.js";
import {
  COMMENT_LIMIT,
  changesDocument,
  markdownComment,
  planText,
} from "../../src/diff/report.js";
import type { KubeObject } from "../../src/flux/objects.js";

const ks = (name: string, path = `apps/${name}`): Owner => ({
  kind: "Kustomization",
  namespace: "flux-system",
  name,
  path,
});

function cm(name: string, data: Record<string, string>, namespace = "default"): KubeObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace }, data };
}

function side(...groups: Group[]): Side {
  return new Map(groups.map((g) => [`${g.owner.kind}/${g.owner.namespace}/${g.owner.name}`, g]));
}

describe("compareSides", () => {
  it("matches groups by owner and objects by kind, namespace and name", () => {
    const before = side({ owner: ks("apps"), objects: [cm("a", { x: "1" }), cm("b", { y: "1" })] });
    const after = side({ owner: ks("apps"), objects: [cm("b", { y: "2" }), cm("c", { z: "1" })] });
    const [group] = compareSides(before, after);
    expect(group?.status).toBe("changed");
    expect(group?.changes.map((c) => [c.type, c.id.name])).toEqual([
      ["removed", "a"],
      ["changed", "b"],
      ["added", "c"],
    ]);
  });

  it("reports a Kustomization added or removed entirely, and one whose path changed as one group", () => {
    const before = side(
      { owner: ks("old"), objects: [cm("a", {})] },
      { owner: ks("apps"), objects: [] },
    );
    const after = side(
      { owner: ks("new"), objects: [cm("b", {})] },
      { owner: ks("apps", "apps/v2"), objects: [] },
    );
    const groups = compareSides(before, after);
    expect(groups.map((g) => [g.owner.name, g.status])).toEqual([
      ["apps", "unchanged"],
      ["new", "added"],
      ["old", "removed"],
    ]);
    expect(groups[0]?.ownerBefore?.path).toBe("apps/apps");
  });

  it("shows an object that moved between Kustomizations as a move, not a delete and an add", () => {
    const before = side(
      { owner: ks("a"), objects: [cm("shared", { k: "v" })] },
      { owner: ks("b"), objects: [] },
    );
    const after = side(
      { owner: ks("a"), objects: [] },
      { owner: ks("b"), objects: [cm("shared", { k: "v" })] },
    );
    const groups = compareSides(before, after);
    expect(groups.find((g) => g.owner.name === "a")?.changes).toEqual([]);
    const moved = groups.find((g) => g.owner.name === "b")?.changes[0];
    expect(moved?.type).toBe("moved");
    expect(moved?.from?.name).toBe("a");
    const lines = diffLines(groups, { context: 3, limitBytes: 0 });
    expect(lines[0]).toBe("--- apps/a Kustomization: flux-system/a ConfigMap: default/shared\n");
    expect(lines[1]).toBe("+++ apps/b Kustomization: flux-system/b ConfigMap: default/shared\n");
    expect(planText(groups)).toContain(
      "→ ConfigMap default/shared (moved from Kustomization flux-system/a)",
    );
  });

  it("withholds the diff of an owner that failed on one side", () => {
    const before = side({ owner: ks("apps"), objects: [cm("a", {})] });
    const after = side({
      owner: ks("apps"),
      objects: [],
      failure: { reason: "BuildFailed", message: "boom" },
    });
    const [group] = compareSides(before, after);
    expect(group?.status).toBe("failed");
    expect(group?.changes).toEqual([]);
    expect(group?.failures?.after?.reason).toBe("BuildFailed");
  });

  it("strips chart noise by default list, on the pod template too", () => {
    const deploy: KubeObject = {
      kind: "Deployment",
      metadata: { name: "d", labels: { "helm.sh/chart": "x-1.0", app: "d" } },
      spec: { template: { metadata: { annotations: { "checksum/config": "abc" } } } },
    };
    const stripped = stripAttributes(deploy, DEFAULT_STRIP_ATTRS);
    expect(stripped.metadata?.labels).toEqual({ app: "d" });
    expect((stripped.spec as { template: { metadata: unknown } }).template.metadata).toEqual({});
    expect(deploy.metadata?.labels?.["helm.sh/chart"]).toBe("x-1.0");
  });
});

describe("flux-local formats", () => {
  it("truncates an object's diff past --limit-bytes with the notice", () => {
    const groups = compareSides(
      side({ owner: ks("apps"), objects: [cm("a", { x: "1".repeat(100) })] }),
      side(),
    );
    const lines = diffLines(groups, { context: 3, limitBytes: 40 });
    expect(lines.at(-1)).toBe(TRUNCATED);
    const [entry] = diffStructure(groups, { context: 3, limitBytes: 40 });
    expect(entry?.diffs[0]?.diff.endsWith(`\n${TRUNCATED}`)).toBe(true);
  });
});

describe("path-keyed changes", () => {
  const pod = (containers: unknown[]) => ({ spec: { template: { spec: { containers } } } });

  it("keys named list entries by name", () => {
    const changes = fieldChanges(
      pod([{ name: "app", image: "podinfo:6.5.3" }]),
      pod([{ name: "app", image: "podinfo:6.5.4" }]),
    );
    expect(changes.map(formatFieldChange)).toEqual([
      "spec.template.spec.containers[name=app].image: podinfo:6.5.3 → podinfo:6.5.4",
    ]);
  });

  it("shows a reorder as a reorder, not a delete plus an add", () => {
    const a = { name: "a", image: "x" };
    const b = { name: "b", image: "y" };
    const changes = fieldChanges(pod([a, b]), pod([b, a]));
    expect(changes).toEqual([
      {
        path: "spec.template.spec.containers",
        type: "reordered",
        before: ["a", "b"],
        after: ["b", "a"],
      },
    ]);
  });

  it("quotes keys with dots and slashes, and compares other lists by index", () => {
    const changes = fieldChanges(
      { metadata: { annotations: { "example.com/x": "1" } }, args: ["a", "b"] },
      { metadata: { annotations: { "example.com/x": "2" } }, args: ["a"] },
    );
    expect(changes.map(formatFieldChange)).toEqual([
      'metadata.annotations["example.com/x"]: 1 → 2',
      "args[1]: - b",
    ]);
  });

  it("lists every changed object with its owner in the JSON form", () => {
    const groups = compareSides(
      side({ owner: ks("apps"), objects: [cm("a", { x: "1" })] }),
      side({ owner: ks("apps"), objects: [cm("a", { x: "2" })] }),
    );
    const doc = changesDocument(groups);
    expect(doc.objects).toEqual([
      {
        kind: "ConfigMap",
        namespace: "default",
        name: "a",
        owner: { kind: "Kustomization", namespace: "flux-system", name: "apps" },
        change: "changed",
        changes: [{ path: "data.x", type: "changed", before: "1", after: "2" }],
      },
    ]);
  });
});

describe("markdown comment", () => {
  it("has a summary table and one details block per object", () => {
    const groups = compareSides(
      side({ owner: ks("apps"), objects: [cm("a", { x: "1" })] }),
      side({ owner: ks("apps"), objects: [cm("a", { x: "2" })] }),
    );
    groups[0]!.causes = [{ input: "file apps/a.yaml", change: "changed" }];
    const md = markdownComment(groups, { context: 3 });
    expect(md).toContain(
      "| Kustomization: flux-system/apps | 0 | 1 | 0 | file apps/a.yaml changed |",
    );
    expect(md).toContain(
      "<details><summary>~ Kustomization flux-system/apps: ConfigMap default/a</summary>",
    );
    expect(md).toContain(
      "```diff\n--- apps/apps Kustomization: flux-system/apps ConfigMap: default/a\n",
    );
  });

  it("stays under GitHub's limit with an explicit notice", () => {
    const objects = Array.from({ length: 400 }, (_, i) => cm(`cm-${i}`, { v: "x".repeat(300) }));
    const groups = compareSides(side(), side({ owner: ks("apps"), objects }));
    const md = markdownComment(groups, { context: 3 });
    expect(md.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(md).toMatch(/\*\*Truncated:\*\* \d+ more changed objects not shown/);
  });
});
