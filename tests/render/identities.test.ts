/**
 * Reading what the documents of a resource file define without the YAML
 * parser (src/render/kustomize/identities.ts): it answers for the usual
 * shapes of manifests, and whenever it answers, the YAML parser agrees.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseYamlDocuments } from "../../src/discovery/yaml.js";
import { documentIdentities, isAmbiguous } from "../../src/render/kustomize/identities.js";
import { isAmbiguousPlainString } from "../../src/util/yaml.js";

const id = (apiVersion: string, kind: string, name: string) => ({ apiVersion, kind, name });

describe("documentIdentities", () => {
  it("reads the usual shapes of manifests", () => {
    expect(
      documentIdentities(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  labels:\n    name: not-this\ndata:\n  a: b\n",
      ),
    ).toEqual([id("v1", "ConfigMap", "settings")]);
    expect(
      documentIdentities(
        '# a comment\n---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: flux-system, namespace: flux-system}\nspec: {url: https://example.com/x.git}\n---\n# nothing\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  namespace: flux-system\n  name: "apps" # quoted\nspec:\n  path: ./apps\n',
      ),
    ).toEqual([
      id("source.toolkit.fluxcd.io/v1", "GitRepository", "flux-system"),
      id("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "apps"),
    ]);
    expect(
      documentIdentities(
        "apiVersion: helm.toolkit.fluxcd.io/v2\r\nkind: HelmRelease\r\nmetadata:\r\n  name: ${APP}\r\nspec:\r\n  values: |\r\n    kind: Other\r\n",
      ),
    ).toEqual([id("helm.toolkit.fluxcd.io/v2", "HelmRelease", "${APP}")]);
    // Anchors on the name, aliases elsewhere (home-ops repositories' habit).
    expect(
      documentIdentities(
        "---\n# yaml-language-server: $schema=https://example.com/ks.json\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: &app echo\nspec:\n  commonMetadata:\n    labels:\n      app.kubernetes.io/name: *app\n",
      ),
    ).toEqual([id("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "echo")]);
    expect(documentIdentities("")).toEqual([]);
    expect(documentIdentities("# only a comment\n")).toEqual([]);
  });

  it.each([
    ["an anchored mapping", "apiVersion: v1\nkind: ConfigMap\nmetadata: &m\n  name: a\n"],
    ["an alias", "apiVersion: v1\nkind: ConfigMap\nmetadata: *m\n"],
    ["a merge key", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  <<: *m\n  name: a\n"],
    ["a tag", "apiVersion: v1\nkind: !!str ConfigMap\nmetadata:\n  name: a\n"],
    ["a quoted key", 'apiVersion: v1\n"kind": ConfigMap\nmetadata:\n  name: a\n'],
    ["a key twice", "apiVersion: v1\nkind: ConfigMap\nkind: Secret\nmetadata:\n  name: a\n"],
    ["a name twice", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n"],
    ["a name going on", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n    b\n"],
    ["a block name", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: |\n    a\n"],
    ["no name", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: a\n"],
    ["no kind", "apiVersion: v1\nmetadata:\n  name: a\n"],
    ["a list", "apiVersion: v1\nkind: ConfigMapList\nitems: []\nmetadata:\n  name: a\n"],
    ["a number as name", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: 0123\n"],
    ["a YAML 1.1 boolean", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: yes\n"],
    ["an indented root", "  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n"],
    ["a flow root", "{apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"],
    ["a directive", "%YAML 1.2\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"],
    ["a document end", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n...\n"],
    [
      "a quoted scalar running on",
      'apiVersion: v1\nkind: ConfigMap\ndata:\n  a: "x\nkind: Secret"\nmetadata:\n  name: a\n',
    ],
    [
      "a flow mapping running on",
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a,\n  x: y}\n",
    ],
    [
      "nested flow metadata",
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: {b: c}}\n",
    ],
    ["a byte order mark", "\uFEFFapiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"],
    ["a tab", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: a\n"],
  ])("does not read %s", (_what, text) => {
    expect(documentIdentities(text)).toBeUndefined();
  });

  it("tells plain strings from other scalars as the YAML writer does", () => {
    const words = fc.constantFrom(
      "y",
      "Yes",
      "NO",
      "on",
      "Off",
      "true",
      "FALSE",
      "null",
      "Null",
      "yEs",
    );
    const chars = fc.constantFrom(..."abexyzABEXYZ019._/-+:".split(""));
    const value = fc.oneof(
      words,
      fc
        .tuple(fc.constantFrom(..."aeExXnNoOyYtTfF".split("")), fc.array(chars, { maxLength: 8 }))
        .map(([first, rest]) => first + rest.join("")),
    );
    fc.assert(
      fc.property(value, (v) => {
        // Conservative: never a string the writer would quote, and the same for the library's cases.
        if (isAmbiguousPlainString(v)) expect(isAmbiguous(v)).toBe(true);
        else if (
          !["yes", "no", "on", "off", "true", "false", "null", "y", "n"].includes(v.toLowerCase())
        )
          expect(isAmbiguous(v)).toBe(false);
      }),
      { numRuns: Number(process.env.IDS_RUNS ?? 5000) },
    );
  });

  it("agrees with the YAML parser whenever it answers", () => {
    const scalar = fc.constantFrom(
      "a",
      "web-1",
      "${APP}",
      '"quoted"',
      "'single'",
      "x # comment",
      "yes",
      "0123",
      "1.0",
      "a:b",
      "a: b",
      "&x a",
      "*x",
      "!!str a",
      '"a\\"b"',
      "'a''b'",
      "a#b",
      "",
      "|\n    block",
      ">-\n    folded",
      "[a, b]",
      "{a: b}",
      "a\n    continued",
      '"open\n  close"',
    );
    const line = (key: string) => scalar.map((v) => `${key}: ${v}`);
    const metadata = fc.oneof(
      fc
        .array(
          fc.oneof(
            line("  name"),
            line("  namespace"),
            fc.constant("  labels:\n    name: inner"),
            fc.constant("  # comment"),
            fc.constant("  <<: {name: merged}"),
            fc.constant("    deeper: x"),
            fc.constant(" name: shallow"),
          ),
          { maxLength: 4 },
        )
        .map((lines) => ["metadata:", ...lines].join("\n")),
      fc.constantFrom(
        "metadata: {name: a}",
        "metadata: {name: a, namespace: b}",
        "metadata: {namespace: b}",
        "metadata: {name: ${APP}}",
        'metadata: {name: "q"}',
        "metadata: {}",
        "metadata:",
        "metadata: null",
        "metadata: {name: a} # c",
      ),
    );
    const topLine = fc.oneof(
      line("apiVersion"),
      line("kind"),
      metadata,
      fc.constantFrom(
        "apiVersion: v1",
        "kind: ConfigMap",
        "kind: SecretList",
        "data:\n  a: b",
        "data: {a: b}",
        "spec: |\n  kind: Inner\n  metadata:\n    name: inner",
        '"kind": Quoted',
        "? kind\n: Explicit",
        "# comment",
        "",
        "  indented: x",
        "- item",
        "x: [a,\n  b]",
      ),
    );
    const doc = fc.array(topLine, { maxLength: 6 }).map((lines) => lines.join("\n"));
    const text = fc
      .tuple(fc.array(doc, { minLength: 1, maxLength: 3 }), fc.constantFrom("---", "--- ", "..."))
      .map(([docs, sep]) => docs.join(`\n${sep}\n`) + "\n");
    fc.assert(
      fc.property(text, (t) => {
        const read = documentIdentities(t);
        if (read === undefined) return;
        const parsed = parseYamlDocuments(t);
        // kustomize refuses such a file (duplicate keys too): no object comes from it.
        if (parsed.errors.length > 0 || parsed.documents.some((d) => d.duplicateKey)) return;
        expect(
          parsed.documents.map((d) => ({
            apiVersion: d.object.apiVersion,
            kind: d.object.kind,
            name: d.object.metadata?.name,
          })),
        ).toEqual(read);
      }),
      { numRuns: Number(process.env.IDS_RUNS ?? 3000) },
    );
  });
});
