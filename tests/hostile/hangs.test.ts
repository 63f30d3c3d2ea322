/**
 * Issue 10, items 4–7: no input hangs the run, crashes it, or takes the
 * machine; when a bound stops something, the message says which and how to
 * raise it.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { crashIn, runCli } from "../support/cli.js";
import { fluxKustomization } from "../support/repo.js";
import { appRepo, buildAll, settings, useHostile } from "./support.js";

const hostile = useHostile();
const scratch: string[] = [];
afterEach(async () => {
  await Promise.all(scratch.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** Nine aliases per level, nine levels: ~390 million nodes once expanded. */
function aliasBomb(indent = ""): string {
  let text = `${indent}l0: &l0 [x, x, x, x, x, x, x, x, x]\n`;
  for (let i = 1; i < 10; i++) {
    const prev = `*l${i - 1}`;
    text += `${indent}l${i}: &l${i} [${Array(9).fill(prev).join(", ")}]\n`;
  }
  return text;
}

const bombConfigMap = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\n  namespace: default\ndata:\n${aliasBomb("  ")}`;

describe("item 4: Kustomizations that keep redefining each other", () => {
  it("fails them as not converging instead of rebuilding forever", async () => {
    const repo = await appRepo(hostile.makeRepo, {
      "app/cm.yaml": settings,
      "clusters/prod/gen.yaml": fluxKustomization("gen", { path: "./gen1" }),
      "gen1/ks.yaml": fluxKustomization("gen", { path: "./gen2" }),
      "gen2/ks.yaml": fluxKustomization("gen", { path: "./gen1" }),
    });
    const out = await buildAll(repo);
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toMatch(
      /Kustomization\/flux-system\/gen does not converge: its definition changed \d+ times/,
    );
    expect(out.stdout).toContain("name: settings");
  });
});

describe("item 5: YAML alias bombs", () => {
  it("in a discovered file: a parse failure naming the file", async () => {
    const repo = await appRepo(hostile.makeRepo, {
      "app/cm.yaml": settings,
      "clusters/prod/bomb.yaml": bombConfigMap,
    });
    const out = await buildAll(repo);
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toMatch(
      /clusters\/prod\/bomb\.yaml:\d+\): ParseFailed: YAML expands more than 1000 aliases .*FLUX_LOCAL_MAX_YAML_ALIASES/,
    );
  });

  it("in a file kustomize builds: kustomize is stopped at the memory bound, and says how to raise it", async () => {
    const repo = await appRepo(hostile.makeRepo, {
      "app/kustomization.yaml": "resources: [bomb.yaml]\n",
      "app/bomb.yaml": bombConfigMap,
    });
    // Through the long-lived worker and through one process per build.
    for (const env of [{}, { FLUX_LOCAL_KUSTOMIZE_WORKER: "0" }] as Array<Record<string, string>>) {
      const out = await buildAll(repo, ["--tool-memory", "256"], env);
      expect(out.exitCode).toBe(1);
      expect(out.stderr).toMatch(
        /Kustomization flux-system\/app .*kustomize.* ran out of memory \(the limit is 256 MiB; raise it with --tool-memory MIB or FLUX_LOCAL_TOOL_MEMORY_MB\)/,
      );
    }
  });

  it("in a valuesFrom ConfigMap: the HelmRelease fails naming the ConfigMap, through real helm", async () => {
    const repo = await appRepo(hostile.makeRepo, {
      "charts/demo/Chart.yaml": "apiVersion: v2\nname: demo\nversion: 1.0.0\n",
      "charts/demo/templates/cm.yaml":
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n  n: {{ len .Values | quote }}\n",
      "app/values.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb-values\n  namespace: default\ndata:\n  values.yaml: |\n${aliasBomb("    ")}`,
      "app/release.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: demo
  namespace: default
spec:
  chart:
    spec:
      chart: ./charts/demo
      sourceRef:
        kind: GitRepository
        name: flux-system
        namespace: flux-system
  valuesFrom:
    - kind: ConfigMap
      name: bomb-values
`,
    });
    const out = await buildAll(repo, ["--enable-helm"]);
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toMatch(
      /HelmRelease default\/demo .*ConfigMap.*bomb-values.*YAML expands more than 1000 aliases/,
    );
  });

  it("in a generated kustomization: the file is named", async () => {
    const repo = await appRepo(hostile.makeRepo, { "app/bomb.yaml": bombConfigMap });
    const out = await buildAll(repo);
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toMatch(/app\/bomb\.yaml: line \d+: YAML expands more than 1000 aliases/);
  });
});

describe("item 6: deep nesting, big files, slow tools", () => {
  it("deep nesting is a parse failure naming the file, not a stack overflow", async () => {
    let deep = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\nx:\n";
    for (let i = 0, indent = "  "; i < 3000; i++, indent += "  ") deep += `${indent}a:\n`;
    const repo = await appRepo(hostile.makeRepo, {
      "app/cm.yaml": settings,
      "clusters/prod/deep.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: d\ndata:\n  x: ${"[".repeat(20000)}${"]".repeat(20000)}\n`,
      "app/deep.yaml": deep,
    });
    const out = await buildAll(repo);
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toMatch(
      /clusters\/prod\/deep\.yaml:\d+\): ParseFailed: YAML nested too deeply to read/,
    );
    expect(out.stderr).toMatch(/app\/deep\.yaml: line \d+: YAML nested too deeply to read/);
  });

  it("a file over the size bound is refused by name, before any tool reads it", async () => {
    const big = `${settings}  big: "${"x".repeat(5000)}"\n`;
    const repo = await appRepo(hostile.makeRepo, {
      "app/kustomization.yaml": "resources: [cm.yaml, big.yaml]\n",
      "app/cm.yaml": settings,
      "app/big.yaml": big.replace("name: settings", "name: big"),
    });
    const out = await buildAll(repo, [], { FLUX_LOCAL_MAX_FILE_BYTES: "4096" });
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toMatch(
      /resources entry "big\.yaml" is \d+ bytes, over the limit of 4096 \(raise it with FLUX_LOCAL_MAX_FILE_BYTES\)/,
    );
  });

  it("a tool that runs too long is stopped, and the message says so", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "flux-local-slow-"));
    scratch.push(dir);
    const slow = path.join(dir, "kustomize");
    await writeFile(slow, "#!/bin/sh\nexec sleep 60\n");
    await chmod(slow, 0o755);
    const repo = await appRepo(hostile.makeRepo, { "app/cm.yaml": settings });
    const out = await buildAll(repo, ["--tool-timeout", "1"], { FLUX_LOCAL_KUSTOMIZE: slow });
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toMatch(
      /kustomize build failed: kustomize timed out after 1 s and was stopped \(the limit; raise it with --tool-timeout SECONDS or FLUX_LOCAL_TOOL_TIMEOUT\)/,
    );
  });
});

describe("item 7: --output-file checked before rendering", () => {
  it("a missing folder, a read-only folder or a folder in its place: exit 2 at once", async () => {
    const repo = await appRepo(hostile.makeRepo, { "app/cm.yaml": settings });
    const ro = path.join(repo.root, "ro");
    await mkdir(ro);
    await chmod(ro, 0o555);
    const cases: Array<[string, RegExp]> = [
      [
        "missing/out.yaml",
        /--output-file missing\/out\.yaml: cannot write the file: the folder .*missing does not exist/,
      ],
      ["app", /--output-file app: cannot write the file: is a folder/],
    ];
    if (process.getuid?.() !== 0)
      cases.push([
        "ro/out.yaml",
        /--output-file ro\/out\.yaml: cannot write the file: the folder .*ro is not writable/,
      ]);
    for (const [file, message] of cases) {
      const out = await buildAll(repo, ["--output-file", file]);
      expect(out.exitCode).toBe(2);
      expect(out.stderr).toMatch(message);
      expect(out.stdout).toBe("");
    }
    const junit = await runCli(["test", "--path", "clusters/prod", "--junit", "missing/r.xml"], {
      cwd: repo.root,
    });
    expect(junit.exitCode).toBe(2);
    expect(junit.stderr).toMatch(
      /--junit missing\/r\.xml: cannot write the file: the folder .* does not exist/,
    );
  });
});

describe("no internal error or stack trace on stderr, ever", () => {
  it("the CLI test helper fails any run that prints one", () => {
    expect(crashIn("flux-local: internal error: TypeError: x")).toBeDefined();
    expect(crashIn("Error: boom\n    at foo (/x/y.js:1:2)\n")).toBeDefined();
    expect(
      crashIn(
        "- Kustomization a/b (x.yaml:3): BuildFailed: kustomize build failed: no such file\n",
      ),
    ).toBeUndefined();
  });
});
