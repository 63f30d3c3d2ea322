/**
 * `-l`: kubectl's label selector grammar and meaning.
 */
import { describe, expect, it } from "vitest";
import { labelMatches, parseLabelSelector } from "../../src/views/select.js";

const matchAll = (selector: string, labels: Record<string, string>) =>
  parseLabelSelector([selector]).every((req) => labelMatches(labels, req));

describe("label selectors", () => {
  it("reads every kubectl form, commas inside parentheses included", () => {
    expect(
      parseLabelSelector([
        "a=1,b==2",
        "c!=3,d in (x, y),e notin (z),f,!g",
        "app.kubernetes.io/name=x",
      ]),
    ).toEqual([
      { key: "a", op: "=", values: ["1"] },
      { key: "b", op: "=", values: ["2"] },
      { key: "c", op: "!=", values: ["3"] },
      { key: "d", op: "in", values: ["x", "y"] },
      { key: "e", op: "notin", values: ["z"] },
      { key: "f", op: "exists", values: [] },
      { key: "g", op: "!exists", values: [] },
      { key: "app.kubernetes.io/name", op: "=", values: ["x"] },
    ]);
  });

  it("matches as kubectl: != and notin hold when the label is unset", () => {
    const labels = { tier: "web", env: "prod" };
    expect(matchAll("tier=web", labels)).toBe(true);
    expect(matchAll("tier!=web", labels)).toBe(false);
    expect(matchAll("tier!=db", labels)).toBe(true);
    expect(matchAll("missing!=x", labels)).toBe(true);
    expect(matchAll("env in (dev,prod)", labels)).toBe(true);
    expect(matchAll("env in (dev)", labels)).toBe(false);
    expect(matchAll("env notin (prod)", labels)).toBe(false);
    expect(matchAll("missing notin (prod)", labels)).toBe(true);
    expect(matchAll("tier", labels)).toBe(true);
    expect(matchAll("!tier", labels)).toBe(false);
    expect(matchAll("!missing,tier=web", labels)).toBe(true);
    expect(matchAll("missing in (x)", labels)).toBe(false);
  });

  it("refuses what it cannot read, naming it", () => {
    expect(() => parseLabelSelector(["a>1"])).toThrow(/"a>1": the < and > operators/);
    expect(() => parseLabelSelector(["a b"])).toThrow(/"a b": expected key=value/);
    expect(() => parseLabelSelector(["-bad=x"])).toThrow(/"-bad" is not a valid label key/);
    expect(() => parseLabelSelector(["a=b c"])).toThrow(/"b c" is not a valid label value/);
    expect(() => parseLabelSelector(["a in (x"])).toThrow(/label selector "a in \(x"/);
  });
});
