import { describe, expect, it } from "vitest";
import { findCycle } from "../../src/controllers/manager.js";

describe("findCycle", () => {
  it("finds a cycle and only its members", () => {
    const edges = new Map([
      ["d", ["a"]],
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a"]],
    ]);
    expect(findCycle(edges)).toEqual(["a", "b", "c"]);
  });
  it("finds a self-dependency", () => {
    expect(findCycle(new Map([["a", ["a"]]]))).toEqual(["a"]);
  });
  it("returns undefined for a DAG", () => {
    expect(
      findCycle(
        new Map([
          ["a", ["b", "c"]],
          ["b", ["c"]],
        ]),
      ),
    ).toBeUndefined();
  });
});
