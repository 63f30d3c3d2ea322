import { describe, expect, it } from "vitest";
import {
  parseInto,
  setPathValue,
  StrvalsError,
  typedValue,
} from "../../src/render/helm/strvals.js";
import {
  composeValues,
  mergeValues,
  readValues,
  serializeValues,
  ValuesError,
} from "../../src/render/helm/values.js";

describe("helm --set paths (strvals)", () => {
  const set = (
    line: string,
    into: Record<string, unknown> = {},
    mode?: "typed" | "string" | "literal",
  ) => {
    parseInto(line, into, mode);
    return into;
  };

  it("sets nested keys, escaped dots and list indexes", () => {
    expect(set("outer.inner=value")).toEqual({ outer: { inner: "value" } });
    expect(set("nodeSelector.kubernetes\\.io/role=master")).toEqual({
      nodeSelector: { "kubernetes.io/role": "master" },
    });
    expect(set("list[2]=c")).toEqual({ list: [null, null, "c"] });
    expect(set("list[0].name=a,list[0].port=80")).toEqual({ list: [{ name: "a", port: 80 }] });
    expect(set("m[0][1]=x")).toEqual({ m: [[null, "x"]] });
    expect(set("a=1,b=2")).toEqual({ a: 1, b: 2 });
  });

  it("types values as helm does", () => {
    expect(typedValue("true")).toBe(true);
    expect(typedValue("FALSE")).toBe(false);
    expect(typedValue("null")).toBeNull();
    expect(typedValue("0")).toBe(0);
    expect(typedValue("42")).toBe(42);
    expect(typedValue("-7")).toBe(-7);
    expect(typedValue("007")).toBe("007");
    expect(typedValue("1.5")).toBe("1.5");
    expect(typedValue("9223372036854775807")).toBe(9223372036854775807n);
    expect(typedValue("99999999999999999999")).toBe("99999999999999999999");
    expect(set("a=true", {}, "string")).toEqual({ a: "true" });
  });

  it("reads {a,b} lists and backslash escapes in values", () => {
    expect(set("name={a,b,c}")).toEqual({ name: ["a", "b", "c"] });
    expect(set("name=value1\\,value2")).toEqual({ name: "value1,value2" });
  });

  it("keeps the rest of the line verbatim in literal mode", () => {
    expect(set("a.b=x,y=z\\n", {}, "literal")).toEqual({ a: { b: "x,y=z\\n" } });
  });

  it("edits existing values in place and overrides list items", () => {
    const values = { nested: { configuration: ["one", "two", "three"], keep: true } };
    set("nested.configuration[1]=foo", values);
    expect(values).toEqual({ nested: { configuration: ["one", "foo", "three"], keep: true } });
  });

  it("reports bad lines", () => {
    expect(() => set("a")).toThrow(/key "a" has no value/);
    expect(() => set("a,b=1")).toThrow(/cannot end with ,/);
    expect(() => set("a[x]=1")).toThrow(StrvalsError);
    expect(() => set("a[-1]=1")).toThrow(/negative/);
    expect(() => set("a.b=1", { a: "scalar" })).toThrow(/not a map/);
    expect(() => set("a={x,y")).toThrow(/terminate with '}'/);
    expect(() => set("a[70000]=1")).toThrow(/maximum supported index/);
  });

  it("sets a quoted value as a string, as Flux does for targetPath", () => {
    const values: Record<string, unknown> = {};
    setPathValue(values, "a", '"true"');
    setPathValue(values, "b", "true");
    setPathValue(values, "c", "'123'");
    expect(values).toEqual({ a: "true", b: true, c: "123" });
  });
});

describe("values documents", () => {
  it("reads YAML the way Go does (YAML 1.1)", () => {
    expect(readValues('a: yes\nb: on\nc: 0777\nd: 2001-12-14\ne: 1:30\nf: "yes"\n')).toEqual({
      a: true,
      b: true,
      c: 511,
      d: "2001-12-14",
      e: "1:30",
      f: "yes",
    });
    expect(readValues("")).toEqual({});
    expect(readValues("# only a comment\n")).toEqual({});
  });

  it("refuses documents that are not a map of values", () => {
    expect(() => readValues("- a\n- b\n")).toThrow(/must be a map, found a list/);
    expect(() => readValues("just a string")).toThrow(ValuesError);
    expect(() => readValues("a: [1, 2\n")).toThrow(/not valid YAML/);
    expect(() => readValues("a: 1\na: 2\n")).toThrow(ValuesError);
  });

  it("merges maps deeply and replaces lists and scalars", () => {
    const a = { m: { x: 1, y: [1, 2] }, s: "a", keep: { k: 1 } };
    const b = { m: { y: [3], z: 2 }, s: { now: "a map" } };
    expect(mergeValues(a, b)).toEqual({
      m: { x: 1, y: [3], z: 2 },
      s: { now: "a map" },
      keep: { k: 1 },
    });
    expect(a).toEqual({ m: { x: 1, y: [1, 2] }, s: "a", keep: { k: 1 } }); // not modified
  });

  it("serializes with types intact (JSON, big integers in full)", () => {
    const text = serializeValues({
      s: "yes",
      n: 1e3,
      b: false,
      big: 9223372036854775807n,
      l: [null],
    });
    expect(text).toBe('{"s":"yes","n":1000,"b":false,"big":9223372036854775807,"l":[null]}\n');
    expect(() => serializeValues({ inf: Infinity })).toThrow(/inf/);
  });
});

describe("composeValues (helm-controller's order)", () => {
  it("merges valuesFrom in order, then spec.values", () => {
    // fluxcd/pkg chartutil "merges" case.
    const values = composeValues(
      [
        { kind: "document", values: { flat: "value", nested: { configuration: "value" } } },
        { kind: "document", values: { flat: { nested: "value" }, nested: "value" } },
      ],
      { other: "values" },
    );
    expect(values).toEqual({ flat: { nested: "value" }, nested: "value", other: "values" });
  });

  it("gives targetPath precedence over all (fluxcd/pkg's case)", () => {
    const values = composeValues(
      [
        { kind: "path", targetPath: "nested.configuration[0]", value: "value" },
        {
          kind: "document",
          values: { flat: "value", nested: { configuration: ["one", "two", "three"] } },
        },
      ],
      { nested: { configuration: ["list", "item", "option"] } },
    );
    expect(values).toEqual({
      flat: "value",
      nested: { configuration: ["value", "item", "option"] },
    });
  });

  it("sets a list item over a document list", () => {
    const values = composeValues(
      [
        {
          kind: "document",
          values: { flat: "value", nested: { configuration: ["list", "item", "option"] } },
        },
        { kind: "path", targetPath: "nested.configuration[1]", value: "foo" },
      ],
      { other: "values" },
    );
    expect(values).toEqual({
      flat: "value",
      nested: { configuration: ["list", "foo", "option"] },
      other: "values",
    });
  });

  it("never modifies spec.values", () => {
    const spec = { a: { b: ["x"] } };
    composeValues([{ kind: "path", targetPath: "a.b[0]", value: "y" }], spec);
    expect(spec).toEqual({ a: { b: ["x"] } });
  });

  it("reports a targetPath that cannot be set", () => {
    expect(() =>
      composeValues([{ kind: "path", targetPath: "a.b", value: "1" }], { a: "scalar" }),
    ).toThrow(/targetPath a.b: unable to parse key/);
  });
});
