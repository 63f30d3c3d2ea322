import { describe, expect, it } from "vitest";
import {
  envsubst,
  isValidVariableName,
  SubstitutionError,
} from "../../src/render/substitute/envsubst.js";

type Vars = Record<string, string>;
type Case = [input: string, vars: Vars, expected: string];

/** Runs `fn` and returns what it threw, failing the test if it did not throw. */
function thrown(fn: () => unknown): SubstitutionError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SubstitutionError);
    return err as SubstitutionError;
  }
  throw new Error("expected a SubstitutionError");
}

describe("plain text and escapes", () => {
  it.each<Case>([
    ["abcdEFGH28ij", {}, "abcdEFGH28ij"],
    ["", {}, ""],
    ["http://github.com", {}, "http://github.com"],
    ["}text{", {}, "}text{"],
    // A bare $var is never substituted.
    ["$var and $HOME", { var: "x", HOME: "/root" }, "$var and $HOME"],
    ["a lone $ sign, $} and a trailing $", {}, "a lone $ sign, $} and a trailing $"],
    // `$$` is an escape for `$` everywhere in plain text, not only before `{`.
    ["$${var01}", { var01: "abcdEFGH28ij" }, "${var01}"],
    ["$$string", {}, "$string"],
    ["cost: $$5", {}, "cost: $5"],
    ["a$$", {}, "a$"],
    ["$$${x}", { x: "v" }, "$v"],
    ["$$$${x}", { x: "v" }, "$${x}"],
    [
      "some text ${var01}$${var$${var01}$var01${var01}",
      { var01: "abcdEFGH28ij" },
      "some text abcdEFGH28ij${var${var01}$var01abcdEFGH28ij",
    ],
    ["something $${var=${default_var}}", { default_var: "foo" }, "something ${var=foo}"],
    // Backslashes are not escapes outside replace arguments.
    ["\\\\.\\pipe\\pipename", {}, "\\\\.\\pipe\\pipename"],
    ["\\\\something ${var=${default_var}}", { default_var: "foo" }, "\\\\something foo"],
    ["\\${x}", { x: "v" }, "\\v"],
  ])("%j -> %j", (input, vars, expected) => {
    expect(envsubst(input, vars)).toBe(expected);
  });
});

describe("${var}", () => {
  it("substitutes from a Map and from a record alike", () => {
    const input = "hello ${name}, welcome to ${place}!";
    expect(
      envsubst(
        input,
        new Map([
          ["name", "Ada"],
          ["place", "Flux"],
        ]),
      ),
    ).toBe("hello Ada, welcome to Flux!");
    expect(envsubst(input, { name: "Ada", place: "Flux" })).toBe("hello Ada, welcome to Flux!");
  });

  it("replaces unknown variables with the empty string outside strict mode", () => {
    expect(envsubst("a${missing}b", {})).toBe("ab");
    expect(envsubst("a${missing}b", {}, { strict: false })).toBe("ab");
  });

  it("inserts values literally, never expanding them again", () => {
    const vars = { a: "${b}", b: "x", c: "$$ and } and ${", d: "\\/" };
    expect(envsubst("${a}|${c}|${d}", vars)).toBe("${b}|$$ and } and ${|\\/");
  });

  it("ignores inherited properties of a record", () => {
    expect(envsubst("[${constructor}${toString}${__proto__}${hasOwnProperty}]", {})).toBe("[]");
    expect(thrown(() => envsubst("${constructor}", {}, { strict: true })).variable).toBe(
      "constructor",
    );
  });

  it("reads names with Unicode letters and leading digits, as upstream's scanner does", () => {
    expect(
      envsubst(
        "${é}-${1abc}",
        new Map([
          ["é", "e"],
          ["1abc", "one"],
        ]),
      ),
    ).toBe("e-one");
  });

  it("substitutes adjacent and repeated expressions", () => {
    expect(envsubst("${a}${b}${a}", { a: "1", b: "2" })).toBe("121");
  });
});

describe("${#var}", () => {
  it.each<Case>([
    ["${#var01}", { var01: "abcdEFGH28ij" }, "12"],
    ["${#missing}", {}, "0"],
    ["hello ${#string} world", { string: "four" }, "hello 4 world"],
    // Go's len() counts UTF-8 bytes.
    ["${#v}", { v: "héllo" }, "6"],
  ])("%j with %j -> %j", (input, vars, expected) => {
    expect(envsubst(input, vars)).toBe(expected);
  });
});

describe("case modification", () => {
  it.each<Case>([
    ["${var01^}", { var01: "abcdEFGH28ij" }, "AbcdEFGH28ij"],
    ["${var01^^}", { var01: "abcdEFGH28ij" }, "ABCDEFGH28IJ"],
    ["${var01,}", { var01: "ABCDEFGH28IJ" }, "aBCDEFGH28IJ"],
    ["${var01,,}", { var01: "ABCDEFGH28IJ" }, "abcdefgh28ij"],
    ["${v^}${v,}${v^^}${v,,}", { v: "" }, ""],
    ["${v^}", { v: "élan" }, "Élan"],
    ["${v,,}", { v: "ÀÉÎ" }, "àéî"],
    // Go maps rune by rune; "ß" has no single-rune upper case.
    ["${v^^}", { v: "straße" }, "STRAßE"],
    ["${v^^}|${v^}", { v: "ᾳﬁ" }, "ᾼﬁ|ᾼﬁ"],
    ["${v,,}|${v,}", { v: "İSTANBUL" }, "istanbul|iSTANBUL"],
    // Mixed operators parse upstream but select no function.
    ["${v^,}|${v,^}", { v: "MiXeD" }, "MiXeD|MiXeD"],
  ])("%j with %j -> %j", (input, vars, expected) => {
    expect(envsubst(input, vars)).toBe(expected);
  });
});

describe("${var:offset} and ${var:offset:length}", () => {
  const path = { path_name: "/home/bozo/ideas/thoughts.for.today" };
  const digits = "123456789123456789";

  it.each<Case>([
    ["${path_name:11}", path, "ideas/thoughts.for.today"],
    ["${path_name:11:5}", path, "ideas"],
    ["${s:0:8}", { s: digits }, "12345678"],
    ["${s:1:8}", { s: digits }, "23456789"],
    ["${s:9}", { s: digits }, "123456789"],
    ["${s:9:50}", { s: digits }, "123456789"],
    ["${s:9:1}", { s: "12345678" }, ""],
    ["${s:3:0}", { s: "abcdef" }, ""],
    ["${s:6}", { s: "abcdef" }, ""],
    // Negative lengths count back from the end.
    ["${s:2:-1}", { s: "hello world" }, "llo worl"],
    ["${s:0:-3}", { s: "hello world" }, "hello wo"],
    ["${s:8:-8}", { s: "hello world" }, ""],
    ["${s:20:-1}", { s: "hello world" }, ""],
    // Negative offsets can only be written through a nested expression: `${s:-3}`
    // is a default and `${s: -3}` is not an integer.
    ["${s:${off}:${len}}", { s: digits, off: "-3", len: "2" }, "78"],
    ["${s:${off}:${len}}", { s: digits, off: "-300", len: "3" }, "123"],
    ["${s:${off}:-1}", { s: "hello world", off: "-4" }, "orl"],
    ["${s:${off}}", { s: "hello world", off: "-5" }, "world"],
    // Anything strconv.Atoi rejects yields the whole value.
    ["${s: -3}", { s: digits }, digits],
    ["${s:abc}", { s: "hello" }, "hello"],
    ["${s:1:x}", { s: "hello" }, "hello"],
    ["${s:1.5}", { s: "hello" }, "hello"],
    ["${s:99999999999999999999}", { s: "hello" }, "hello"],
    ["${s:1:+2}", { s: "hello" }, "el"],
    // `:+` right after the name is the default operator, not a signed offset.
    ["${s:+1}", { s: "hello" }, "hello"],
    ["${s:007}", { s: "hello world" }, "orld"],
    // A run of colons is one separator.
    ["${s:1::2}", { s: "hello" }, "el"],
    ["${s:1:2:3}", { s: "hello" }, "hello"],
    // Offsets are UTF-8 byte offsets.
    ["${s:3}", { s: "héllo" }, "llo"],
    ["${s:1:é}", { s: "hello" }, "hello"],
    ["${missing:1:2}", {}, ""],
    [
      "${string:${stringy:position:length}:${stringz,,}}",
      { string: "hello", stringy: "xx1", position: "", length: "", stringz: "3" },
      "hello",
    ],
    [
      "${string:${stringy:2:1}:${stringz,,}}",
      { string: "hello world", stringy: "xx6", stringz: "3" },
      "wor",
    ],
  ])("%j with %j -> %j", (input, vars, expected) => {
    expect(envsubst(input, vars)).toBe(expected);
  });
});

describe("prefix and suffix removal", () => {
  it.each<Case>([
    ["${filename#*.}", { filename: "bash.string.txt" }, "string.txt"],
    ["${filename##*.}", { filename: "bash.string.txt" }, "txt"],
    ["${filename%.*}", { filename: "bash.string.txt" }, "bash.string"],
    ["${filename%%.*}", { filename: "bash.string.txt" }, "bash"],
    // `*` matches `/` too, unlike Go's path.Match.
    ["${filename#*/}", { filename: "path/to/file" }, "to/file"],
    ["${filename#*/}", { filename: "/path/to/file" }, "path/to/file"],
    ["${filename##*/}", { filename: "path/to/file" }, "file"],
    ["${filename##*/}", { filename: "/path/to/file" }, "file"],
    ["${filename%/*}", { filename: "/path/to/file" }, "/path/to"],
    ["${filename%%/*}", { filename: "path/to/file" }, "path"],
    // The empty prefix is never tried, so a lone `*` still removes one character.
    ["${v#*}|${v##*}|${v%*}|${v%%*}", { v: "abc" }, "bc||ab|"],
    ["${v#?}|${v%??}", { v: "abc" }, "bc|a"],
    ["${v#[a-z]}", { v: "v1.2.3" }, "1.2.3"],
    ["${v#[^0-9]}", { v: "v1.2.3" }, "1.2.3"],
    ["${v##[a-z0-9]*.}", { v: "v1.2.3" }, "3"],
    ["${v#[!v]}", { v: "!x" }, "x"],
    ["${v#\\*}", { v: "*star" }, "star"],
    ["${v#nomatch}|${v%nomatch}", { v: "value" }, "value|value"],
    ["${v#release-}", { v: "release-1.2" }, "1.2"],
    ["${v%-staging}", { v: "app-staging" }, "app"],
    ["${v%%-*}", { v: "app-42-x" }, "app"],
    ["${v%.b}", { v: "a.b" }, "a"],
    // Upstream reverses suffix patterns, which breaks classes and escapes.
    ["${v%[0-9]}", { v: "app-42" }, "app-42"],
    ["${v%\\.b}", { v: "a.b" }, "a.b"],
    // Malformed patterns never match.
    ["${v#[}|${v#a\\}|${v#[]a]}|${v#[a-}", { v: "a]b" }, "a]b|a]b|a]b|a]b"],
    ["${string#${prefix}}", { string: "foo-bar", prefix: "foo-" }, "bar"],
    ["${string#$%:*{}", { string: "$%:abc{rest" }, "rest"],
    ["${v#*}", { v: "" }, ""],
    ["${missing%%.*}", {}, ""],
    ["${v#${empty}}", { v: "abc", empty: "" }, "abc"],
  ])("%j with %j -> %j", (input, vars, expected) => {
    expect(envsubst(input, vars)).toBe(expected);
  });
});

describe("replacement", () => {
  const z = { stringZ: "abcABC123ABCabc" };

  it.each<Case>([
    ["${stringZ/%abc/XYZ}", z, "abcABC123ABCXYZ"],
    ["${stringZ/#abc/XYZ}", z, "XYZABC123ABCabc"],
    ["${stringZ//abc/xyz}", z, "xyzABC123ABCxyz"],
    ["${stringZ/abc/xyz}", z, "xyzABC123ABCabc"],
    ["${stringZ/#nope/XYZ}|${stringZ/%nope/XYZ}", z, `${z.stringZ}|${z.stringZ}`],
    ["${stringZ/\\//-}", { stringZ: "foo/bar" }, "foo-bar"],
    ["${stringZ//\\//-}", { stringZ: "foo/bar/baz" }, "foo-bar-baz"],
    ["${stringZ/./}", { stringZ: "foo.bar" }, "foobar"],
    ["${v//./}", { v: "a.b.c" }, "abc"],
    // The anchored forms leave the value alone when the replacement is missing.
    ["${v/#abc/}|${v/%abc/}", { v: "abcXabc" }, "abcXabc|abcXabc"],
    // Patterns are plain strings, not globs.
    ["${v/*/x}", { v: "a*b" }, "axb"],
    ["${v//?/x}", { v: "abc" }, "abc"],
    // No JavaScript replacement patterns.
    ["${v/a/$&}", { v: "abc" }, "$&bc"],
    ["${v//b/$1}", { v: "abcb" }, "a$1c$1"],
    // Escapes inside replace arguments: `$$`, `\/` and `\\`.
    ["${v/a/$$}", { v: "abc" }, "$bc"],
    ["${v/a/\\\\}", { v: "abc" }, "\\bc"],
    ["${v/a/\\x}", { v: "abc" }, "\\xbc"],
    ["${v/\\\\/\\/}", { v: "a\\b" }, "a/b"],
    ["${v/a/$${x}}", { v: "abc", x: "X" }, "${xbc}"],
    ["${string//${stringy}/${stringz}}", { string: "a-b-c", stringy: "-", stringz: "+" }, "a+b+c"],
    // A pattern that evaluates to "" matches around every character, as Go's
    // strings.Replace does, and at the start or end for the anchored forms.
    ["${v//${e}/-}", { v: "abc", e: "" }, "-a-b-c-"],
    ["${v//${e}/-}", { v: "", e: "" }, "-"],
    ["${v/${e}/-}|${v/#${e}/<}|${v/%${e}/>}", { v: "ab", e: "" }, "-ab|<ab|ab>"],
    // A run of slashes is one separator, so `a//b` means "a" -> "b".
    ["${v/a//b}", { v: "abc" }, "bbc"],
    // The pattern reads up to the next `/`, through any `}`.
    ["${v/a}b/c}", { v: "xa}by" }, "xcy"],
    ["${v//é/e}", { v: "été" }, "ete"],
    ["${missing/a/b}", {}, ""],
    [
      "${SECRET_DOMAIN/./-}",
      { SECRET_DOMAIN: "..PLACEHOLDER_SECRET_DOMAIN3.." },
      "-.PLACEHOLDER_SECRET_DOMAIN3..",
    ],
    [
      "${SECRET_DOMAIN//./-}",
      { SECRET_DOMAIN: "..PLACEHOLDER_SECRET_DOMAIN3.." },
      "--PLACEHOLDER_SECRET_DOMAIN3--",
    ],
  ])("%j with %j -> %j", (input, vars, expected) => {
    expect(envsubst(input, vars)).toBe(expected);
  });
});

describe("defaults", () => {
  it.each<Case>([
    ["${var=xyz}", { var: "abc" }, "abc"],
    ["${var=xyz}", {}, "xyz"],
    ["${var:=xyz}", {}, "xyz"],
    ["${var:-xyz}", {}, "xyz"],
    ["${var:-xyz}", { var: "abc" }, "abc"],
    // Every form, `=` included, also applies to an empty value.
    ["${var=a}|${var:=b}|${var:-c}", { var: "" }, "a|b|c"],
    // `:?` and `:+` are not bash's: they behave as defaults too.
    ["${var:?msg}|${var:+alt}", {}, "msg|alt"],
    ["${var:?msg}|${var:+alt}", { var: "set" }, "set|set"],
    ["${var:-}", {}, ""],
    ["${var:-}", { var: "x" }, "x"],
    ["something ${var=${default_var}}", { default_var: "foo" }, "something foo"],
    ["foo: ${var=${default_var}-suffix}", { default_var: "foo1" }, "foo: foo1-suffix"],
    ["foo: ${var=prefix${default_var}-suffix}", { default_var: "foo1" }, "foo: prefixfoo1-suffix"],
    ["${string=prefix${var} suffix}", { var: "x" }, "prefixx suffix"],
    ["${var=${var01^^}}", { var01: "abcdEFGH28ij" }, "ABCDEFGH28IJ"],
    ["${a:-${b:-${c:-deep}}}", {}, "deep"],
    ["${a:-${b:-${c:-deep}}}", { b: "mid" }, "mid"],
    ["${url:-http://example.com:8080/p?q=1#frag}", {}, "http://example.com:8080/p?q=1#frag"],
    ["${v:-\"quoted\" 'single' spaces}", {}, "\"quoted\" 'single' spaces"],
    // No escapes inside a default; `$${` there is a `$` and then an expression.
    ["${v:-$$}", {}, "$$"],
    ["${v:-$${b}}", { b: "x" }, "$x"],
    ["${v:-a\\/b}", {}, "a\\/b"],
    // A default ends at the first `}`.
    ["${v:-a}b}", {}, "ab}"],
    ["${v:-{x}", {}, "{x"],
    ["${replicas:=1}", {}, "1"],
  ])("%j with %j -> %j", (input, vars, expected) => {
    expect(envsubst(input, vars)).toBe(expected);
  });

  it.each(["${var-default}", "${var+alt}", "${var?msg}"])(
    "rejects %j without a colon, as upstream does",
    (input) => {
      expect(() => envsubst(input, { var: "x" })).toThrow(/^missing closing brace/);
    },
  );
});

describe("strict mode", () => {
  const strict = { strict: true };

  it("fails on an unset variable, naming it", () => {
    const err = thrown(() => envsubst("x: ${missing}", {}, strict));
    expect(err.message).toBe('variable not set (strict mode): "missing"');
    expect(err.variable).toBe("missing");
    expect(err.name).toBe("SubstitutionError");
    expect(err).toBeInstanceOf(Error);
  });

  it("accepts set variables, including empty ones", () => {
    expect(envsubst("${foo}", { foo: "bar" }, strict)).toBe("bar");
    expect(envsubst("[${foo}]", { foo: "" }, strict)).toBe("[]");
    expect(envsubst("[${foo}]", new Map([["foo", ""]]), strict)).toBe("[]");
  });

  it.each([
    "${#missing}",
    "${missing^}",
    "${missing^^}",
    "${missing,}",
    "${missing,,}",
    "${missing:0}",
    "${missing:0:10}",
    "${missing/pattern/replacement}",
    "${missing//pattern/replacement}",
    "${missing/#pattern/replacement}",
    "${missing/%pattern/replacement}",
    "${missing#pattern}",
    "${missing##pattern}",
    "${missing%pattern}",
    "${missing%%pattern}",
  ])("fails on %j", (input) => {
    expect(thrown(() => envsubst(input, {}, strict)).variable).toBe("missing");
  });

  it.each<Case>([
    ["${missing:-fallback}", {}, "fallback"],
    ["${missing:=assigned}", {}, "assigned"],
    ["${missing=assigned}", {}, "assigned"],
    ["${missing:?msg}", {}, "msg"],
    ["${missing:+alt}", {}, "alt"],
    ["${missing:-}", {}, ""],
    ["${missing:-${other}}", { other: "o" }, "o"],
  ])("lets default %j supply the value", (input, vars, expected) => {
    expect(envsubst(input, vars, strict)).toBe(expected);
  });

  it("evaluates a default's nested expressions even when the variable is set", () => {
    const err = thrown(() => envsubst("${set:-${missing}}", { set: "x" }, strict));
    expect(err.variable).toBe("missing");
  });

  it("reports nested arguments before the variable itself", () => {
    expect(thrown(() => envsubst("${a/${b}/x}", {}, strict)).variable).toBe("b");
  });

  it("leaves bare $var and escaped expressions alone", () => {
    expect(envsubst("$missing $${missing}", {}, strict)).toBe("$missing ${missing}");
  });

  it("reports a syntax error anywhere before any missing variable", () => {
    const err = thrown(() => envsubst("${missing}\n${broken", {}, strict));
    expect(err.message).toMatch(/^missing closing brace/);
    expect(err.variable).toBeUndefined();
  });
});

describe("syntax errors", () => {
  it.each([
    ["${", "unable to parse variable name"],
    ["${}", "unable to parse variable name"],
    ["${ foo}", "unable to parse variable name"],
    ["${-x}", "unable to parse variable name"],
    ["${foo", "missing closing brace"],
    ["${foo bar}", "missing closing brace"],
    ["${kubelet-identity-client-id}", "missing closing brace"],
    ["${foo.bar}", "missing closing brace"],
    ["${#}", "bad substitution"],
    ["${#foo", "bad substitution"],
    ["${#foo:-x}", "bad substitution"],
    ["${foo^^^}", "bad substitution"],
    ["${foo,,x}", "bad substitution"],
    ["${foo:", "bad substitution"],
    ["${foo:é}", "bad substitution"],
    ["${foo:😀}", "bad substitution"],
    ["${foo:1", "bad substitution"],
    ["${foo:1x${y}}", "bad substitution"],
    ["${foo:1:2", "bad substitution"],
    ["${foo:}", "unable to parse substitution within function"],
    ["${foo::2}", "unable to parse substitution within function"],
    ["${foo:1:}", "unable to parse substitution within function"],
    ["${foo#}", "unable to parse substitution within function"],
    ["${foo%%}", "unable to parse substitution within function"],
    ["${foo#a", "bad substitution"],
    ["${foo#a${b}}", "bad substitution"],
    ["${foo/a", "bad substitution"],
    ["${foo/a/b", "bad substitution"],
    ["${foo/a/b${c}}", "bad substitution"],
    ["${foo//x}", "bad substitution"],
    ["${foo/}", "bad substitution"],
    ["${foo/", "unable to parse substitution within function"],
    // Literal empty patterns are rejected by every released upstream version.
    ["${foo/#/prefix-}", "unable to parse substitution within function"],
    ["${foo/%/-suffix}", "unable to parse substitution within function"],
    ["${foo///-}", "unable to parse substitution within function"],
    ["${foo:-bar", "unable to parse substitution within function"],
    ["${foo:-${bar}", "unable to parse substitution within function"],
    ["${foo:-${bar", "missing closing brace"],
  ])("%j fails with %j", (input, reason) => {
    const err = thrown(() => envsubst(input, { foo: "x", bar: "y" }));
    expect(err.message.startsWith(`${reason} at line `)).toBe(true);
    expect(err.variable).toBeUndefined();
  });

  it("locates the failing expression", () => {
    const err = thrown(() => envsubst("a: 1\nb: ${foo\nc: 3", {}));
    expect(err.message).toBe('missing closing brace at line 2, column 4: "${foo"');
  });

  it("points at the expression being parsed when the input ends", () => {
    expect(thrown(() => envsubst("x: ${a:-${b:1", {})).message).toBe(
      'bad substitution at line 1, column 9: "${b:1"',
    );
    expect(thrown(() => envsubst("x: ${a:-${b:1}", {})).message).toBe(
      'unable to parse substitution within function at line 1, column 4: "${a:-${b:1}"',
    );
  });

  it("shortens long excerpts", () => {
    const err = thrown(() => envsubst(`\${x:-${"y".repeat(100)}`, {}));
    expect(err.message).toBe(
      `unable to parse substitution within function at line 1, column 1: "\${x:-${"y".repeat(55)}..."`,
    );
  });
});

describe("isValidVariableName", () => {
  it.each(["a", "_", "_a1", "A_B_C", "SECRET_DOMAIN", "cluster_label", "x9"])(
    "accepts %j",
    (name) => {
      expect(isValidVariableName(name)).toBe(true);
    },
  );

  it.each(["", "1a", "9", "a-b", "a.b", "a b", "$a", "é", "ab\n", "a:b"])("rejects %j", (name) => {
    expect(isValidVariableName(name)).toBe(false);
  });
});

describe("YAML documents", () => {
  const vars = new Map([
    ["SECRET_DOMAIN", "..PLACEHOLDER_SECRET_DOMAIN3.."],
    ["cluster_label", "prod-eu"],
    ["D", "example.com"],
    ["PASSWORD", "p$a}ss"],
    ["replicas", "3"],
  ]);

  const input = [
    "apiVersion: helm.toolkit.fluxcd.io/v2",
    "kind: HelmRelease",
    "metadata:",
    '  name: "${SECRET_DOMAIN/./-}-staging"',
    "  labels:",
    "    cluster: ${cluster_label}",
    "spec:",
    "  values:",
    "    replicaCount: ${replicas:=1}",
    "    ingress:",
    "      hosts:",
    '        - "*.${D}"',
    "        - ${APP:=podinfo}.${D}",
    "    script: |",
    '      echo "$HOME $${KEEP}"',
    "      price=$$5",
    '    password: "${PASSWORD}"',
    "    note: ${NOTE:-none}",
    "",
  ].join("\n");

  const expected = [
    "apiVersion: helm.toolkit.fluxcd.io/v2",
    "kind: HelmRelease",
    "metadata:",
    '  name: "-.PLACEHOLDER_SECRET_DOMAIN3..-staging"',
    "  labels:",
    "    cluster: prod-eu",
    "spec:",
    "  values:",
    "    replicaCount: 3",
    "    ingress:",
    "      hosts:",
    '        - "*.example.com"',
    "        - podinfo.example.com",
    "    script: |",
    '      echo "$HOME ${KEEP}"',
    "      price=$5",
    '    password: "p$a}ss"',
    "    note: none",
    "",
  ].join("\n");

  it("substitutes a multi-line document", () => {
    expect(envsubst(input, vars)).toBe(expected);
  });

  it("gives the same result in strict mode when every variable is set or defaulted", () => {
    expect(envsubst(input, vars, { strict: true })).toBe(expected);
  });

  it("names the missing variable of a document in strict mode", () => {
    const doc = "spec:\n  values:\n    host: ${HOST}.${D}\n";
    const err = thrown(() => envsubst(doc, vars, { strict: true }));
    expect(err.variable).toBe("HOST");
  });

  it("keeps CRLF line endings and leaves documents without expressions untouched", () => {
    const doc = "a: ${D}\r\nb: $notvar\r\n---\r\nc: plain\r\n";
    expect(envsubst(doc, vars)).toBe("a: example.com\r\nb: $notvar\r\n---\r\nc: plain\r\n");
  });

  it("handles large documents", () => {
    const line = "  - host: ${cluster_label}.${D} # $${literal}\n";
    const output = envsubst(line.repeat(20_000), vars);
    expect(output).toBe("  - host: prod-eu.example.com # ${literal}\n".repeat(20_000));
  });
});
