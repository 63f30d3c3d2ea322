import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { documentStarts, LineFinder } from "../../src/discovery/lines.js";
import { parseYamlDocuments } from "../../src/discovery/yaml.js";

const projectRoot = path.resolve(import.meta.dirname, "..", "..");

/** Every YAML file under `dir` (no node_modules). */
function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== "node_modules") out.push(...yamlFiles(full));
    else if (entry.isFile() && /\.ya?ml$/.test(entry.name) && statSync(full).size < 1 << 20)
      out.push(full);
  }
  return out;
}

/** The lines the full parser gives. */
const parsedLines = (text: string) => parseYamlDocuments(text).documents.map((d) => d.line);

describe("documentStarts", () => {
  it("gives the parser's lines for every YAML file of testdata and the fixtures", () => {
    const files = [
      ...yamlFiles(path.join(projectRoot, "testdata")),
      ...yamlFiles(path.join(projectRoot, "tests", "fixtures")),
    ];
    expect(files.length).toBeGreaterThan(50);
    let checked = 0;
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      const parsed = parseYamlDocuments(text);
      // Files the parser refuses (chart templates) are not built by kustomize either.
      if (parsed.errors.length > 0) continue;
      const expected = parsed.documents.map((d) => d.line);
      // The shortcut answers only for a single mapping; then it must agree.
      const starts = documentStarts(text).map((d) => d.line);
      if (expected.length === 1) expect(starts, file).toEqual(expected);
      else expect(starts.length, file).toBe(expected.length);
      checked++;
    }
    expect(checked).toBeGreaterThan(50);
  });

  it.each([
    ["plain", "kind: A\nmetadata:\n  name: a\n"],
    ["comments first", "# a comment\n\n  # indented\nkind: A\n"],
    ["a leading ---", "---\n# c\nkind: A\n"],
    ["--- with a comment", "--- # c\nkind: A\n"],
    ["two leading ---", "---\n---\nkind: A\n"],
    ["content on the --- line", "--- {kind: A}\n"],
    ["a trailing ...", "kind: A\n...\n"],
    ["two documents", "kind: A\n---\nkind: B\n"],
    ["a directive", "%YAML 1.2\n---\nkind: A\n"],
    ["a tag first", "!!map\nkind: A\n"],
    ["an anchor first", "&a\nkind: A\n"],
    ["a flow mapping", "{kind: A}\n"],
    ["an indented mapping", "  kind: A\n  x: 1\n"],
    ["a quoted key", '"kind": A\n'],
    ["CRLF", "# c\r\n\r\nkind: A\r\nx: 1\r\n"],
    ["a BOM", "\uFEFFkind: A\n"],
    ["a block scalar with --- inside", "kind: A\ndata:\n  x: |\n    ---\n    y\n"],
    ["a list", "- a\n- b\n"],
    ["a scalar", "just text\n"],
    ["empty", ""],
    ["comments only", "# nothing\n"],
  ])("%s", (_name, text) => {
    expect(documentStarts(text).map((d) => d.line)).toEqual(parsedLines(text));
  });
});

describe("LineFinder", () => {
  const files: Record<string, string> = {
    "one.yaml": "# header\nkind: HelmRelease\nmetadata:\n  name: renamed-by-build\n",
    "many.yaml":
      "kind: HelmRelease\nmetadata:\n  name: a\n---\nkind: HelmRelease\nmetadata:\n  name: b\n---\nkind: Kustomization\nmetadata:\n  name: c\n",
  };
  const reads: string[] = [];
  const finder = new LineFinder((file) => {
    reads.push(file);
    return files[file];
  });
  const object = (kind: string, name: string) => ({ apiVersion: "v1", kind, metadata: { name } });

  it("finds a file's only document whatever the build named its object", () => {
    expect(finder.lineOf("one.yaml", object("HelmRelease", "x"))).toBe(2);
  });

  it("finds by kind and name, else the only one of the kind, else nothing", () => {
    expect(finder.lineOf("many.yaml", object("HelmRelease", "b"))).toBe(5);
    expect(finder.lineOf("many.yaml", object("Kustomization", "renamed"))).toBe(9);
    expect(finder.lineOf("many.yaml", object("HelmRelease", "renamed"))).toBeUndefined();
  });

  it("reads each file once, and an unreadable one gives no line", () => {
    expect(finder.lineOf("missing.yaml", object("HelmRelease", "a"))).toBeUndefined();
    finder.lineOf("many.yaml", object("HelmRelease", "a"));
    expect(reads.filter((f) => f === "many.yaml")).toHaveLength(1);
  });
});
