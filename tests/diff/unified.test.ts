import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { unifiedDiff } from "../../src/diff/unified.js";

interface Golden {
  a: string[];
  b: string[];
  n: number;
  out: string[];
}

// Recorded from Python 3's difflib.unified_diff(a, b, fromfile="A f", tofile="B f", n=n)
// on random YAML-like line lists (some over 200 lines, where autojunk applies).
const golden = JSON.parse(
  readFileSync(new URL("./fixtures/python-difflib.json", import.meta.url), "utf8"),
) as Golden[];

describe("unifiedDiff", () => {
  it("matches Python's difflib.unified_diff byte for byte", () => {
    expect(golden.length).toBeGreaterThan(100);
    for (const c of golden) {
      expect(unifiedDiff(c.a, c.b, { fromfile: "A f", tofile: "B f", context: c.n })).toEqual(
        c.out,
      );
    }
  });

  it("is empty for equal inputs and uses 0,0 ranges for a removed object", () => {
    expect(unifiedDiff(["x"], ["x"], { fromfile: "a", tofile: "b" })).toEqual([]);
    expect(unifiedDiff(["---", "x: 1", ""], [], { fromfile: "a", tofile: "a" })).toEqual([
      "--- a\n",
      "+++ a\n",
      "@@ -1,3 +0,0 @@\n",
      "----",
      "-x: 1",
      "-",
    ]);
  });
});
