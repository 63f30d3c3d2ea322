import { describe, expect, it } from "vitest";
import {
  blankOptionalSyntax,
  checkHealthCheckExpr,
  checkReadyExpr,
  expressionProblems,
} from "../../src/flux/cel.js";

describe("CEL expressions of Flux objects", () => {
  it("accepts the readyExpr forms Flux documents", () => {
    for (const expr of [
      "self.metadata.annotations['app/version'] == dep.metadata.annotations['app/version']",
      "dep.status.conditions.filter(c, c.type == 'Ready').all(c, c.status == 'True')",
      "has(dep.status.lastAppliedRevision) && dep.status.lastAppliedRevision.startsWith('main@')",
      "dep.status.conditions.exists(e, e.type == 'Ready') && dep.spec.replicas > 1",
      // Optional syntax (Flux enables cel.OptionalTypes).
      "dep.status.?observedGeneration.orValue(0) == dep.metadata.generation",
      "{'a': 1}[?'a'].orValue(2) == 1 && [?optional.none(), 1].size() == 1",
      "sets.contains([1, 2], [1]) && base64.encode(b'x') != ''",
    ]) {
      expect(checkReadyExpr(expr), expr).toBeUndefined();
    }
  });

  it("rejects what Flux would not compile, saying where and why", () => {
    expect(checkReadyExpr("this is ((( not cel")).toBe(
      "invalid CEL: at 1:6: found i but expecting end of input",
    );
    expect(checkReadyExpr("dep.status.x ==")).toMatch(/^invalid CEL: at 1:/);
    expect(checkReadyExpr("")).toBe("invalid CEL: the expression is empty");
    expect(checkReadyExpr("status.ready == true")).toBe(
      "undeclared reference to 'status' (readyExpr sees only self and dep)",
    );
    expect(checkReadyExpr("'ready'")).toBe("readyExpr must evaluate to a bool, not a string");
    expect(checkReadyExpr("[dep]")).toBe("readyExpr must evaluate to a bool, not a list");
  });

  it("blanks only the optional-syntax question marks, keeping positions", () => {
    expect(blankOptionalSyntax("a.?b ? '.?' : c[?d]")).toBe("a. b ? '.?' : c[ d]");
    expect(blankOptionalSyntax('{?"k": v, ?"l": w}')).toBe('{ "k": v,  "l": w}');
    expect(blankOptionalSyntax("x ? y : z")).toBe("x ? y : z");
  });

  it("parses healthCheckExprs without declaring variables", () => {
    expect(checkHealthCheckExpr("status.conditions.exists(c, c.type == 'Ready')")).toBeUndefined();
    expect(checkHealthCheckExpr("status.phase == ")).toMatch(/^invalid CEL/);
  });

  it("finds every invalid expression of a Kustomization with its field", () => {
    const problems = expressionProblems({
      apiVersion: "kustomize.toolkit.fluxcd.io/v1",
      kind: "Kustomization",
      metadata: { name: "apps" },
      spec: {
        dependsOn: [
          { name: "a", readyExpr: "dep.ok" },
          { name: "b", readyExpr: "not ((" },
        ],
        healthCheckExprs: [
          { apiVersion: "x/v1", kind: "X", current: "status.ok", failed: "((" },
          { apiVersion: "y/v1", kind: "Y", inProgress: "true" },
        ],
      },
    });
    expect(problems.map((p) => [p.field, p.message.slice(0, 20)])).toEqual([
      ["spec.dependsOn[1].readyExpr", "invalid CEL: at 1:5:"],
      ["spec.healthCheckExprs[0].failed", "invalid CEL: at 1:3:"],
      ["spec.healthCheckExprs[1]", "the expression `curr"],
    ]);
    expect(problems[0]?.path).toEqual(["spec", "dependsOn", 1, "readyExpr"]);
  });

  it("checks a ResourceSet's readyExpr as the Flux Operator does: parsed, only with ready: true", () => {
    const problems = expressionProblems({
      apiVersion: "fluxcd.controlplane.io/v1",
      kind: "ResourceSet",
      metadata: { name: "apps" },
      spec: {
        dependsOn: [
          { kind: "Kustomization", name: "a", ready: true, readyExpr: "status.anything == 1" },
          { kind: "Kustomization", name: "b", ready: true, readyExpr: "not ((" },
          { kind: "Kustomization", name: "c", readyExpr: "ignored ((" },
        ],
      },
    });
    expect(problems.map((p) => [p.field, p.message.slice(0, 20)])).toEqual([
      ["spec.dependsOn[1].readyExpr", "invalid CEL: at 1:5:"],
    ]);
  });
});
