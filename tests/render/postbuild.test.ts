/**
 * Post-build substitution's shortcut (each `$` string substituted alone) against
 * the round trip it stands for (the object printed as YAML, substituted as
 * text, read back): the same object or the same error, for awkward values,
 * variables and places.
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/flux/objects.js";
import { substituteByRoundTrip, substituteObject } from "../../src/render/substitute/postbuild.js";

function outcome(fn: () => KubeObject): { value?: KubeObject; error?: string } {
  try {
    return { value: fn() };
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

const values = [
  "3",
  "-7",
  "1.5",
  "1e3",
  "0x1F",
  "0o17",
  ".inf",
  "true",
  "False",
  "yes",
  "No",
  "on",
  "~",
  "null",
  "",
  "12:30",
  "1_000",
  "2001-12-14",
  "plain words",
  "a: b",
  "a:b",
  "x #y",
  "x#y",
  "#x",
  " lead",
  "trail ",
  "- item",
  "-item",
  "?",
  "[a]",
  "{a: b}",
  "%dir",
  "@at",
  "`tick",
  "'quote",
  '"dq',
  "---",
  "...x",
  "tab\there",
  "é ü 漢",
  "line\u2028sep",
  "ctl\u0007",
  "$${X}",
  "${X}",
];

const templates = [
  "${V}",
  "pre-${V}-post",
  "${V}.${D}",
  "${MISSING:=dflt}",
  "${MISSING:=${V}}",
  "${V:-x}",
  "${V/a/b}",
  "${#V}",
  "${V^^}",
  "$${V}",
  "$$",
  "cost $5",
  "${MISSING}",
  "${V",
  "${V/}",
  "${=}",
];

function objectWith(template: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "cm", labels: { app: template, [template]: "as a key", "3": "three" } },
    data: { one: template, two: "no dollar", list: [template, { deep: template }] },
    spec: {
      replicas: template,
      nested: [[template]],
      untouched: 5,
      flag: true,
      none: null,
      controllers: { [template]: { image: template }, "example.com": "taken" },
    },
    other: { a: 1, b: ["c"] },
  };
}

describe("post-build substitution shortcut", () => {
  it("gives what the YAML round trip gives, for every value and template", () => {
    let compared = 0;
    for (const strict of [false, true]) {
      for (const value of values) {
        const vars = new Map([
          ["V", value],
          ["D", "example.com"],
        ]);
        for (const template of templates) {
          const obj = objectWith(template);
          const viaShortcut = outcome(() => substituteObject(obj, vars, { strict }));
          const viaRoundTrip = outcome(() => substituteByRoundTrip(obj, vars, { strict }));
          expect({ value, template, strict, ...viaShortcut }).toStrictEqual({
            value,
            template,
            strict,
            ...viaRoundTrip,
          });
          compared++;
        }
      }
    }
    expect(compared).toBe(2 * values.length * templates.length);
  });

  it("takes the round trip for a $ in a key, a quoted string or a block", () => {
    const vars = new Map([
      ["V", "3"],
      ["P", "__proto__"],
    ]);
    for (const obj of [
      { kind: "X", metadata: { name: "k" }, spec: { "${V}": "key", "3": "dup" } },
      { kind: "X", metadata: { name: "p" }, spec: { "${P}": { a: 1 } } },
      { kind: "X", metadata: { name: "q" }, spec: { a: "${V}: quoted" } },
      { kind: "X", metadata: { name: "b" }, spec: { a: "line one\n${V}\n" } },
      { kind: "X", metadata: { name: "y" }, spec: { a: "yes ${V}", b: "${V}" } },
    ] as KubeObject[]) {
      expect(substituteObject(obj, vars, { strict: false })).toStrictEqual(
        substituteByRoundTrip(obj, vars, { strict: false }),
      );
    }
  });

  it("leaves the input unchanged and shares what did not change", () => {
    const obj = objectWith("${V}");
    const before = structuredClone(obj);
    const out = substituteObject(obj, new Map([["V", "x"]]), { strict: false });
    expect(obj).toStrictEqual(before);
    expect((out.spec as { replicas: unknown }).replicas).toBe("x");
    expect(out.apiVersion).toBe("v1");
    // Taken without the round trip: what did not change is the same object.
    expect(out.other).toBe(obj.other);
  });
});
