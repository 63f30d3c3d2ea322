import { describe, expect, it } from "vitest";
import { findInputsMapping, selects } from "../../src/controllers/resourceset/controller.js";

describe("ResourceSet input selection", () => {
  it("matches label selectors as Kubernetes does", () => {
    const labels = { tenants: "true", tier: "gold" };
    expect(selects({ matchLabels: { tenants: "true" } }, labels)).toBe(true);
    expect(selects({ matchLabels: { tenants: "false" } }, labels)).toBe(false);
    expect(
      selects({ matchExpressions: [{ key: "tier", operator: "In", values: ["gold"] }] }, labels),
    ).toBe(true);
    expect(
      selects({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["gold"] }] }, labels),
    ).toBe(false);
    expect(selects({ matchExpressions: [{ key: "x", operator: "Exists" }] }, labels)).toBe(false);
    expect(selects({ matchExpressions: [{ key: "x", operator: "DoesNotExist" }] }, labels)).toBe(
      true,
    );
    expect(selects({}, {})).toBe(true);
  });

  it("finds --rset-inputs by name or namespace/name", () => {
    const m = [
      { selector: "apps/previews", path: "/a" },
      { selector: "other", path: "/b" },
    ];
    expect(findInputsMapping(m, "apps", "previews")?.path).toBe("/a");
    expect(findInputsMapping(m, "flux-system", "previews")).toBeUndefined();
    expect(findInputsMapping(m, "x", "other")?.path).toBe("/b");
  });
});
