import { describe, expect, it } from "vitest";
import { formatTable } from "../../src/cli/format/table.js";
import { parseInputMappings, parseSources } from "../../src/cli/options.js";

describe("formatTable", () => {
  it("pads every cell to the widest plus four spaces, as flux-local did", () => {
    expect(
      formatTable(
        ["NAME", "PATH"],
        [
          ["apps", "a/b"],
          ["flux-system", "c"],
        ],
      ),
    ).toBe("NAME           PATH    \napps           a/b     \nflux-system    c       \n");
  });
});

describe("parseSources", () => {
  it("accepts repeated and comma separated mappings", () => {
    expect(parseSources(["a=/x,ns/b=y", "OCIRepository/ns/c=z"])).toEqual([
      { selector: "a", path: "/x" },
      { selector: "ns/b", path: "y" },
      { selector: "OCIRepository/ns/c", path: "z" },
    ]);
  });
  it("ignores an empty mapping (flux-local accepted --sources '')", () => {
    expect(parseSources(["''", ""])).toEqual([]);
  });
  it("accepts a bare NAME or NAMESPACE/NAME (flux-local: a source the run is restricted to)", () => {
    expect(parseSources(["flux-system,apps/cluster=path"])).toEqual([
      { selector: "flux-system" },
      { selector: "apps/cluster", path: "path" },
    ]);
  });
  it("rejects a mapping with an empty name or path", () => {
    expect(() => parseSources(["name="])).toThrow(/expected NAME, NAME=PATH/);
    expect(() => parseSources(["=path"])).toThrow(/expected NAME, NAME=PATH/);
  });
  it("keeps --rset-inputs to NAME=FILE (a bare name has no inputs to give)", () => {
    expect(parseInputMappings(["ns/a=in.yaml"])).toEqual([{ selector: "ns/a", path: "in.yaml" }]);
    expect(() => parseInputMappings(["previews"])).toThrow(
      /--rset-inputs previews: expected NAME=PATH/,
    );
  });
});
