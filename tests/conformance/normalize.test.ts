import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { caseName, matchesFilter, type ConformanceCase } from "../../tools/conformance/cases.js";
import { DELIBERATE, deliberateEntry } from "../../tools/conformance/deliberate.js";
import {
  applyReplacements,
  compareContains,
  compareDocuments,
  compareParsed,
  compareText,
  comparisonFor,
  decodePythonString,
  deepEqual,
  diffDocuments,
  documentKey,
  expectedText,
  fieldDiff,
  normalizeDocument,
  outputFormat,
  textDiff,
} from "../../tools/conformance/normalize.js";
import { caseLine, countResults, summaryLines } from "../../tools/conformance/report.js";
import { effectiveArgv, type CaseResult } from "../../tools/conformance/run-case.js";

const configMap = (name: string, data: Record<string, string>, annotations?: object) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "default", ...(annotations ? { annotations } : {}) },
  data,
});

describe("choosing the comparison", () => {
  it.each([
    [["build", "all", "tests/testdata/cluster/"], "documents"],
    [["build", "ks", "apps", "--path=x", "-o", "yaml"], "documents"],
    [["get", "cluster", "--path", "x", "-o", "yaml"], "yaml-value"],
    [["get", "cluster", "--path", "x", "--output=json"], "json-value"],
    [["get", "cluster", "-ojson"], "json-value"],
    [["diff", "ks", "apps", "-o", "yaml"], "yaml-value"],
    [["get", "ks", "-o", "wide"], "text"],
    [["get", "hr", "-A"], "text"],
  ])("%j -> %s", (argv, expected) => {
    expect(comparisonFor(argv)).toBe(expected);
  });

  it("reads the last -o value and stops at --", () => {
    expect(outputFormat(["-o", "yaml", "--output", "json"])).toBe("json");
    expect(outputFormat(["--", "-o", "yaml"])).toBeUndefined();
  });

  it("runs the -new commands as the plain ones", () => {
    expect(effectiveArgv(["get", "ks-new", "--path", "x"])).toEqual(["get", "ks", "--path", "x"]);
    expect(effectiveArgv(["build", "hr-new", "podinfo"])).toEqual(["build", "hr", "podinfo"]);
    expect(effectiveArgv(["get", "ks", "ks-new"])).toEqual(["get", "ks", "ks-new"]);
  });
});

describe("expected files", () => {
  it("takes str-multiline files as they are", () => {
    expect(expectedText("a  \nb\n", "str-multiline")).toBe("a  \nb\n");
  });

  it("takes an empty str-repr file as an empty stdout", () => {
    expect(expectedText("", "str-repr")).toBe("");
  });

  it("decodes a str-repr file that still holds the Python repr", () => {
    expect(expectedText("''\n", "str-repr")).toBe("");
    expect(expectedText("'a\\nb\\t\\'c\\''", "str-repr")).toBe("a\nb\t'c'");
  });

  it("decodes Python escapes", () => {
    expect(decodePythonString(`"it's \\x00\\u00e9\\U0001F600\\\\"`)).toBe("it's \0é😀\\");
    expect(decodePythonString("'\\q'")).toBe("\\q");
    expect(() => decodePythonString("abc")).toThrow();
  });

  it("applies output replacements everywhere", () => {
    expect(
      applyReplacements("/tmp/x/example.yaml: bad; /tmp/x/example.yaml", [
        ["/tmp/x/example.yaml", "<<TEST_FILE>>"],
      ]),
    ).toBe("<<TEST_FILE>>: bad; <<TEST_FILE>>");
  });
});

describe("values", () => {
  it("ignores mapping key order but not list order", () => {
    expect(deepEqual({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toBe(true);
    expect(deepEqual({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(deepEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(deepEqual(null, {})).toBe(false);
  });

  it("lists field-level differences with paths", () => {
    expect(
      fieldDiff(
        { spec: { hosts: [{ host: "a" }], x: 1, "a.b/c": "v" } },
        { spec: { hosts: [{ host: "b" }, { host: "c" }], y: 2, "a.b/c": "v" } },
      ),
    ).toEqual([
      'spec.hosts[0].host: expected "a", got "b"',
      'spec.hosts[1]: unexpected {"host":"c"}',
      "spec.x: missing (expected 1)",
      "spec.y: unexpected 2",
    ]);
  });

  it("caps the number of lines", () => {
    const a = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`k${i}`, i]));
    const lines = fieldDiff(a, {}, 10);
    expect(lines).toHaveLength(11);
    expect(lines[10]).toBe("... and 5 more");
  });

  it("compares -o yaml outputs as parsed values", () => {
    expect(
      compareParsed("---\nclusters:\n- path: x\n", "clusters:\n  - path: x\n", "yaml").equal,
    ).toBe(true);
    const diff = compareParsed('{"a": [1]}', '{"a": [2]}', "json");
    expect(diff.equal).toBe(false);
    expect(diff.details).toEqual(["a[0]: expected 1, got 2"]);
  });

  it("reports stdout that does not parse", () => {
    const result = compareParsed("{}", "not json", "json");
    expect(result.equal).toBe(false);
    expect(result.summary).toMatch(/^stdout is not valid json/);
  });
});

describe("build outputs", () => {
  it("drops kustomize's index annotations and an annotations map left empty", () => {
    const doc = configMap(
      "a",
      {},
      {
        "config.kubernetes.io/index": "0",
        "internal.config.kubernetes.io/index": "0",
        "internal.config.kubernetes.io/annotations-migration-resource-id": "0",
      },
    );
    expect(normalizeDocument(doc)).toEqual(configMap("a", {}));
    const kept = configMap("a", {}, { "config.kubernetes.io/index": "0", team: "x" });
    expect(normalizeDocument(kept)).toEqual(configMap("a", {}, { team: "x" }));
    // config.kubernetes.io/* other than index is kept.
    const other = configMap("a", {}, { "config.kubernetes.io/path": "a.yaml" });
    expect(normalizeDocument(other)).toEqual(other);
  });

  it("keys documents by apiVersion, kind, namespace and name", () => {
    expect(documentKey(configMap("a", {}))).toBe("v1 ConfigMap default/a");
    expect(documentKey({ apiVersion: "v1", kind: "Namespace", metadata: { name: "n" } })).toBe(
      "v1 Namespace n",
    );
  });

  it("ignores document order and empty documents", () => {
    const expected =
      "---\nkind: A\nmetadata:\n  name: a\n---\nkind: B\nmetadata:\n  name: b\n---\n";
    const actual = "---\nkind: B\nmetadata:\n  name: b\n---\nkind: A\nmetadata:\n  name: a\n";
    expect(compareDocuments(expected, actual).equal).toBe(true);
  });

  it("compares with the index annotations on one side only", () => {
    const expected =
      "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n" +
      "    config.kubernetes.io/index: '0'\n    internal.config.kubernetes.io/index: '0'\n";
    const actual = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n";
    expect(compareDocuments(expected, actual).equal).toBe(true);
  });

  it("reports missing, extra and different documents", () => {
    const diff = diffDocuments(
      [configMap("a", { k: "1" }), configMap("b", {}), configMap("dup", {}), configMap("dup", {})],
      [configMap("a", { k: "2" }), configMap("c", {}), configMap("dup", {})],
    );
    expect(diff.missing).toEqual(["v1 ConfigMap default/b", "v1 ConfigMap default/dup"]);
    expect(diff.extra).toEqual(["v1 ConfigMap default/c"]);
    expect(diff.different).toEqual([
      { key: "v1 ConfigMap default/a", fields: ['data.k: expected "1", got "2"'] },
    ]);
  });

  it("matches duplicates by content before pairing the rest", () => {
    const diff = diffDocuments(
      [configMap("a", { v: "1" }), configMap("a", { v: "2" })],
      [configMap("a", { v: "2" }), configMap("a", { v: "3" })],
    );
    expect(diff.different).toEqual([
      { key: "v1 ConfigMap default/a", fields: ['data.v: expected "1", got "3"'] },
    ]);
    expect(diff.missing).toEqual([]);
    expect(diff.extra).toEqual([]);
  });

  it("summarizes and details a difference", () => {
    const result = compareDocuments(
      "kind: A\nmetadata:\n  name: a\n---\nkind: B\nmetadata:\n  name: b\n",
      "kind: A\nmetadata:\n  name: a\nspec: 1\n",
    );
    expect(result.summary).toBe("documents differ: 1 missing, 1 different");
    expect(result.details).toEqual([
      "documents: expected 2, got 1",
      "missing: B b",
      "different: A a",
      "    spec: unexpected 1",
    ]);
  });
});

describe("text", () => {
  it("is exact, trailing spaces included", () => {
    expect(compareText("NAME    \na    \n", "NAME    \na    \n").equal).toBe(true);
    const result = compareText("NAME    \na    \n", "NAME\na\n");
    expect(result.equal).toBe(false);
    expect(result.summary).toBe("output differs only in trailing spaces");
  });

  it("notices a missing final newline and empty outputs", () => {
    expect(compareText("a\n", "a").summary).toBe("output differs only in trailing whitespace");
    expect(compareText("", "x\n").summary).toBe("stdout should be empty");
    expect(compareText("x\n", "").summary).toBe("stdout is empty");
  });

  it("shows a line diff with quoted lines", () => {
    expect(textDiff("a\nb\nc\n", "a\nB\nc\n", 1)).toEqual([
      "@@ line 1 (- expected, + actual)",
      '  "a"',
      '- "b"',
      '+ "B"',
      '  "c"',
    ]);
  });

  it("checks expected_contains", () => {
    expect(compareContains("passed", "3 passed in 1s\n").equal).toBe(true);
    expect(compareContains("passed", "2 failed\n").summary).toBe(
      'stdout does not contain "passed"',
    );
  });
});

describe("report", () => {
  const result = (status: CaseResult["status"], name = "t[x]"): CaseResult => ({
    name,
    status,
    reason: status === "PASS" ? "matches (exact text)" : "why",
    details: [],
  });

  it("prints one line per case", () => {
    expect(caseLine(result("PASS", "test_get_ks[cluster]"))).toBe(
      "PASS  test_get_ks[cluster]  matches (exact text)",
    );
  });

  it("counts DELIBERATE as passed and says how many", () => {
    const results = [
      result("PASS"),
      result("DELIBERATE"),
      result("FAIL"),
      result("SKIP"),
      result("SKIP"),
    ];
    expect(countResults(results)).toEqual({ passed: 2, failed: 1, skipped: 2, deliberate: 1 });
    expect(summaryLines(results)).toEqual(["(1 deliberate)", "2 passed, 1 failed, 2 skipped"]);
  });
});

describe("cases and deliberate entries", () => {
  const c = { test: "test_get_ks", id: "cluster", nodeid: "n", argv: ["get", "ks"] };

  it("filters on name, node id and argv", () => {
    const kase = c as unknown as ConformanceCase;
    expect(caseName(kase)).toBe("test_get_ks[cluster]");
    expect(matchesFilter(kase, [])).toBe(true);
    expect(matchesFilter(kase, ["get_ks[clu"])).toBe(true);
    expect(matchesFilter(kase, ["get ks"])).toBe(true);
    expect(matchesFilter(kase, ["hr"])).toBe(false);
  });

  it("has one entry per case, each with a reason", () => {
    const names = DELIBERATE.map(caseName);
    expect(new Set(names).size).toBe(names.length);
    for (const d of DELIBERATE) expect(d.reason.length).toBeGreaterThan(40);
    expect(deliberateEntry("test_get_ks", "cluster2")).toBeDefined();
    expect(deliberateEntry("test_get_ks", "cluster")).toBeUndefined();
    // flux-local's --sources restriction is ours too: cluster3 (--sources cluster) matches.
    expect(deliberateEntry("test_get_ks", "cluster3")).toBeUndefined();
  });

  const dataDir = path.resolve(
    process.env.FLUX_LOCAL_CONFORMANCE_DIR ||
      path.join(import.meta.dirname, "..", "..", "..", "shared", "conformance", "flux-local"),
  );
  it.skipIf(!existsSync(path.join(dataDir, "cases.json")))("names only cases that exist", () => {
    const cases = JSON.parse(readFileSync(path.join(dataDir, "cases.json"), "utf8")) as Array<{
      test: string;
      id: string;
    }>;
    const known = new Set(cases.map(caseName));
    expect(DELIBERATE.map(caseName).filter((n) => !known.has(n))).toEqual([]);
  });
});
