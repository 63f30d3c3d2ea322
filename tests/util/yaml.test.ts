/**
 * Every YAML we write reads back identically with a YAML 1.1 reader (PyYAML,
 * the Go YAML library kubectl uses) and a YAML 1.2 reader: strings that look
 * like booleans, numbers, timestamps or nulls to either keep their quotes.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { parse, parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { dumpYamlStream } from "../../src/discovery/yaml.js";
import { toYaml as cliYaml } from "../../src/cli/format/output.js";
import { isAmbiguousPlainString, libraryYaml, plainDocument, toYaml } from "../../src/util/yaml.js";
import { substituteObject } from "../../src/render/substitute/postbuild.js";

/** Strings a YAML 1.1 reader turns into something else when they are printed plain. */
const YAML11_TRAPS = [
  "No",
  "no",
  "NO",
  "n",
  "N",
  "Yes",
  "yes",
  "YES",
  "y",
  "Y",
  "on",
  "On",
  "ON",
  "off",
  "Off",
  "OFF",
  "true",
  "False",
  "12:30",
  "1:20:30",
  "190:20:30.15",
  "1_000",
  "0b1010",
  "010",
  "0x_1F",
  "0o14",
  "2001-12-14",
  "2001-12-14t21:59:43.10-05:00",
  "2001-12-14 21:59:43.10 -5",
  "~",
  "null",
  "",
  ".inf",
  "-.Inf",
  ".NaN",
  "1e3",
  "+12",
  "1.",
  ".5",
  "6.8523015e+5",
  "685.230_15e+03",
  "<<",
];

const read11 = (text: string): unknown => parse(text, { version: "1.1" });
const read12 = (text: string): unknown => parse(text);

function roundTrips(value: unknown): void {
  const text = toYaml(value);
  expect(read11(text)).toEqual(value);
  expect(read12(text)).toEqual(value);
}

describe("YAML output", () => {
  it("keeps the quotes of every known YAML 1.1 trap, as values and as keys", () => {
    for (const s of YAML11_TRAPS) {
      roundTrips({ value: s, list: [s], nested: { [s]: s } });
    }
    expect(toYaml({ allowFirstLastIPs: "No" })).toBe('allowFirstLastIPs: "No"\n');
    expect(toYaml({ on: { push: null } })).toContain('"on":');
  });

  it("escapes NEL, LS and PS, which a YAML 1.1 reader takes for line breaks, as values and keys", () => {
    const value = {
      nel: "v\u0085x",
      ls: "line\u2028sep",
      ps: "p\u2029q",
      "key\u0085": ["a\u2028", { deep: "\u2029" }],
      multi: "one\ntwo\u0085three",
    };
    const text = toYaml(value);
    expect(text).not.toMatch(/[\u0085\u2028\u2029]/);
    expect(text).toContain('nel: "v\\Nx"');
    expect(text).toContain('ls: "line\\Lsep"');
    expect(text).toContain('ps: "p\\Pq"');
    expect(text).toContain('"key\\N":');
    roundTrips(value);
    expect(toYaml({ ...value, plain: "ok" })).toContain("plain: ok\n");
  });

  it("leaves real booleans, numbers and plain words unquoted", () => {
    expect(toYaml({ a: true, b: 3, c: "hello", d: "v1.2.3" })).toBe(
      "a: true\nb: 3\nc: hello\nd: v1.2.3\n",
    );
    expect(isAmbiguousPlainString("nothing")).toBe(false);
  });

  it("reads back identically with YAML 1.1 and 1.2 readers (property)", () => {
    const piece = fc.oneof(
      fc.constantFrom(...YAML11_TRAPS),
      fc.string({ unit: fc.constantFrom(..."0123456789_:.-+eEoOxbnNyYtTfF~ <=".split("")) }),
      fc.string(),
    );
    const scalar = fc.oneof(
      piece,
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: "small" }, scalar, tie("list"), tie("map")),
      list: fc.array(tie("node"), { maxLength: 4 }),
      map: fc.dictionary(piece, tie("node"), { maxKeys: 4 }),
    }));
    fc.assert(
      fc.property(fc.dictionary(piece, value.node, { maxKeys: 6 }), (obj) => {
        const text = toYaml(obj);
        expect(read11(text)).toEqual(obj);
        expect(read12(text)).toEqual(obj);
      }),
      { numRuns: 500 },
    );
  });

  it("every writer uses it: build streams, -o yaml listings, post-build substitution", () => {
    const obj = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "x" },
      data: { a: "No", b: "12:30" },
    };
    for (const doc of parseAllDocuments(dumpYamlStream([obj, obj]), { version: "1.1" })) {
      expect(doc.toJS()).toEqual(obj);
    }
    expect(read11(cliYaml(obj))).toEqual(obj);
    const substituted = substituteObject(
      { ...obj, data: { ...obj.data, c: "${VAR}" } },
      new Map([["VAR", "off"]]),
      { strict: false },
    );
    expect(substituted.data).toEqual({ a: "No", b: "12:30", c: "off" });
  });
});

describe("the direct writer of plain documents", () => {
  const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
  const yamlFiles = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) return yamlFiles(full);
      return /\.ya?ml$/.test(e.name) ? [full] : [];
    });

  it("writes every object of testdata and the fixtures as the library does", () => {
    let direct = 0;
    let total = 0;
    for (const file of [
      ...yamlFiles(path.join(projectRoot, "testdata")),
      ...yamlFiles(path.join(projectRoot, "tests", "fixtures")),
    ]) {
      let docs;
      try {
        docs = parseAllDocuments(readFileSync(file, "utf8"));
      } catch {
        continue;
      }
      for (const doc of docs) {
        if (doc.errors.length > 0) continue;
        const value: unknown = doc.toJS();
        if (typeof value !== "object" || value === null || Array.isArray(value)) continue;
        total++;
        const fast = plainDocument(value);
        if (fast === undefined) continue;
        direct++;
        expect(fast, file).toBe(libraryYaml(value));
      }
    }
    // Most real objects take the direct way.
    expect(direct).toBeGreaterThan(total / 2);
  });

  it("writes what it writes as the library does (property)", () => {
    const word = fc.string({
      unit: fc.constantFrom(..."abcXYZ019_-./:@=+# ,'\"!&*?[]{}|>%`~\t\n".split("")),
      maxLength: 8,
    });
    const piece = fc.oneof(fc.constantFrom(...YAML11_TRAPS), word, fc.string({ maxLength: 6 }));
    const lines = fc
      .array(fc.oneof(word, fc.constantFrom("", " ", "  x", "---", "# c", "a: b", "- x")), {
        minLength: 1,
        maxLength: 4,
      })
      .chain((ls) => fc.constantFrom(ls.join("\n"), `${ls.join("\n")}\n`, `${ls.join("\n")}\n\n`));
    const scalar = fc.oneof(
      piece,
      lines,
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.constantFrom(0, -1, 2 ** 53, -0, 1.5),
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: "small" }, scalar, tie("list"), tie("map")),
      list: fc.array(tie("node"), { maxLength: 4 }),
      map: fc.dictionary(piece, tie("node"), { maxKeys: 4 }),
    }));
    let direct = 0;
    fc.assert(
      fc.property(fc.dictionary(piece, value.node, { maxKeys: 6 }), (obj) => {
        const fast = plainDocument(obj);
        if (fast === undefined) return;
        direct++;
        expect(fast).toBe(libraryYaml(obj));
      }),
      { numRuns: 3000 },
    );
    expect(direct).toBeGreaterThan(300);
  });

  it("writes multi-line values as literal blocks, as the library does", () => {
    for (const value of [
      { patch: "a: 1\nb:\n  c: 2\n" },
      { spec: { patches: [{ patch: "x\n\n  y" }] } },
      { data: { "config.yaml": "one\ntwo" } },
    ]) {
      expect(plainDocument(value)).toBe(libraryYaml(value));
    }
    expect(plainDocument({ patch: "a: 1\nb: 2\n" })).toBe("patch: |\n  a: 1\n  b: 2\n");
  });

  it("leaves to the library what it does not write", () => {
    for (const value of [
      { a: " two\nlines" },
      { a: "two\nlines\n\n" },
      { a: ["two\nlines"] },
      { a: 1.5 },
      { a: [[1]] },
      { a: "tab\there" },
      { a: "---x" },
      { ["k".repeat(1001)]: 1 },
      { a: undefined },
    ]) {
      expect(plainDocument(value)).toBeUndefined();
      expect(toYaml(value)).toBe(libraryYaml(value));
    }
  });
});

describe("one YAML writer", () => {
  it("no module of src/ but util/yaml.ts writes YAML with the yaml package directly", () => {
    const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src");
    const files = readdirSync(src, { recursive: true, encoding: "utf8" }).filter((f) =>
      f.endsWith(".ts"),
    );
    const writers = files.filter((f) => {
      const text = readFileSync(path.join(src, f), "utf8");
      return /import\s*\{[^}]*\b(stringify|Document)\b[^}]*\}\s*from\s*"yaml"/.test(text);
    });
    expect(writers).toEqual([path.join("util", "yaml.ts")]);
  });
});
