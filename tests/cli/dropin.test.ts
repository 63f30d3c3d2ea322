/**
 * A new user's first runs on a home-ops-shaped checkout (issue #14): a wrong
 * --path or a folder given as a name says what was meant, paths do not depend
 * on the folder the command runs in, and -l reads kubectl's selectors.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { useTempRepos } from "../support/repo.js";

const ks = (name: string, p: string, labels: Record<string, string> = {}) =>
  [
    "apiVersion: kustomize.toolkit.fluxcd.io/v1",
    "kind: Kustomization",
    "metadata:",
    `  name: ${name}`,
    "  namespace: flux-system",
    ...(Object.keys(labels).length > 0
      ? ["  labels:", ...Object.entries(labels).map(([k, v]) => `    ${k}: ${v}`)]
      : []),
    "spec:",
    "  interval: 1h",
    `  path: ${p}`,
    "  prune: true",
    "  sourceRef:",
    "    kind: GitRepository",
    "    name: flux-system",
    "",
  ].join("\n");

const configMap = (name: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: default\n`;

/** kubernetes/flux/cluster builds kubernetes/apps, whose ks.yaml files build each app. */
const homeOps = {
  "kubernetes/flux/cluster/ks.yaml": ks("cluster-apps", "./kubernetes/apps"),
  "kubernetes/apps/default/ks.yaml": [
    ks("echo", "./kubernetes/apps/default/echo/app", { tier: "web" }),
    ks("db", "./kubernetes/apps/default/db/app", { tier: "data", env: "prod" }),
    ks("cache", "./kubernetes/apps/default/cache/app", { env: "dev" }),
  ].join("---\n"),
  "kubernetes/apps/default/echo/app/cm.yaml": configMap("echo"),
  "kubernetes/apps/default/db/app/cm.yaml": configMap("db"),
  "kubernetes/apps/default/cache/app/cm.yaml": configMap("cache"),
  "docs/example.yaml": configMap("not-flux"),
};

describe("a --path without Flux objects", () => {
  const makeRepo = useTempRepos();

  it("is a usage error naming what was searched and the likely --path", async () => {
    const repo = await makeRepo(homeOps);
    for (const args of [["build", "all"], ["test"], ["get", "ks"], ["get", "hr", "-A"]]) {
      const out = await runCli([...args, "--path", "docs"], { cwd: repo.root });
      expect(out.exitCode).toBe(2);
      expect(out.stdout).toBe("");
      expect(out.stderr).toBe(
        `flux-local: --path docs: no Flux objects found (searched 1 YAML file under ${path.join(repo.root, "docs")}); did you mean --path kubernetes/flux/cluster?\n`,
      );
    }
    // From a subfolder, the suggestion is relative to where the command runs.
    const sub = await runCli(["build", "all", "--path", "."], {
      cwd: path.join(repo.root, "docs"),
    });
    expect(sub.exitCode).toBe(2);
    expect(sub.stderr).toMatch(/did you mean --path \.\.\/kubernetes\/flux\/cluster\?/);
  }, 240_000);

  it("prefers the path of the bootstrap flux-system Kustomization", async () => {
    const repo = await makeRepo({
      "clusters/prod/flux-system/gotk-sync.yaml": ks("flux-system", "./clusters/prod"),
      "clusters/prod/apps.yaml": ks("apps", "./apps"),
      "apps/cm.yaml": configMap("app"),
      "empty/.keep": "",
    });
    const out = await runCli(["get", "ks", "--path", "empty"], { cwd: repo.root });
    expect(out.exitCode).toBe(2);
    expect(out.stderr).toMatch(/searched 0 YAML files .*; did you mean --path clusters\/prod\?/);
  });
});

describe("a folder given where a name goes", () => {
  const makeRepo = useTempRepos();

  it("says: did you mean --path", async () => {
    const repo = await makeRepo(homeOps);
    const cluster = ["--path", "kubernetes/flux/cluster"];
    const slash = await runCli(["get", "ks", "kubernetes/flux/cluster"], { cwd: repo.root });
    expect(slash.exitCode).toBe(2);
    expect(slash.stderr).toBe(
      'flux-local: get ks kubernetes/flux/cluster: not a Kustomization name (names have no "/"); it is a folder: did you mean --path kubernetes/flux/cluster?\n',
    );
    const build = await runCli(["build", "ks", "kubernetes", ...cluster], { cwd: repo.root });
    expect(build.exitCode).toBe(2);
    expect(build.stdout).toBe("");
    expect(build.stderr).toContain(
      "build ks kubernetes: no Kustomization is named kubernetes, and kubernetes is a folder: did you mean --path kubernetes?",
    );
    const hr = await runCli(["get", "hr", "docs", ...cluster], { cwd: repo.root });
    expect(hr.exitCode).toBe(2);
    expect(hr.stderr).toContain("did you mean --path docs?");
    // A name that is not a folder keeps its not-found answer.
    const missing = await runCli(["build", "ks", "nope", ...cluster], { cwd: repo.root });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain("Kustomization nope not found in namespace flux-system");
  }, 240_000);
});

describe("paths in listings", () => {
  const makeRepo = useTempRepos();

  it("are relative to the repository root wherever the command runs", async () => {
    const repo = await makeRepo(homeOps);
    const expected = [
      "NAME            PATH                                 ",
      "cache           kubernetes/apps/default/cache/app    ",
      "cluster-apps    kubernetes/apps                      ",
      "db              kubernetes/apps/default/db/app       ",
      "echo            kubernetes/apps/default/echo/app     ",
      "",
    ].join("\n");
    for (const [cwd, p] of [
      [repo.root, "kubernetes/flux/cluster"],
      [path.join(repo.root, "kubernetes", "apps"), "../flux/cluster"],
      [path.join(repo.root, "docs"), path.join(repo.root, "kubernetes/flux/cluster")],
    ] as const) {
      const out = await runCli(["get", "ks", "--path", p], { cwd });
      expect(out.exitCode).toBe(0);
      expect(out.stdout).toBe(expected);
    }
    const cluster = await runCli(["get", "cluster", "--path", "../flux/cluster"], {
      cwd: path.join(repo.root, "kubernetes", "apps"),
    });
    expect(cluster.stdout).toContain("\nkubernetes/flux/cluster    4 ");
  }, 240_000);
});

describe("-l, kubectl's label selectors", () => {
  const makeRepo = useTempRepos();

  it("selects with =, !=, in, notin, key and !key", async () => {
    const repo = await makeRepo(homeOps);
    const names = async (selector: string) => {
      const out = await runCli(
        ["get", "ks", "--path", "kubernetes/flux/cluster", "-o", "name", "-l", selector],
        { cwd: repo.root },
      );
      expect(out.exitCode).toBe(0);
      return out.stdout.trim().split("\n").filter(Boolean);
    };
    const ks = (...n: string[]) => n.map((x) => `kustomization.kustomize.toolkit.fluxcd.io/${x}`);
    // Every form once (tests/views/select.test.ts has the combinations).
    expect(await names("tier!=web")).toEqual(ks("cache", "cluster-apps", "db"));
    expect(await names("env in (dev,prod)")).toEqual(ks("cache", "db"));
    expect(await names("env notin (prod),!tier")).toEqual(ks("cache", "cluster-apps"));
    expect(await names("tier,env=prod")).toEqual(ks("db"));
  }, 240_000);

  it("refuses a selector it cannot read (exit 2), never matching nothing silently", async () => {
    const repo = await makeRepo(homeOps);
    const out = await runCli(
      ["get", "ks", "--path", "kubernetes/flux/cluster", "-l", "replicas>1"],
      { cwd: repo.root },
    );
    expect(out.exitCode).toBe(2);
    expect(out.stderr).toContain(
      'label selector "replicas>1": the < and > operators are not supported',
    );
  });
});

describe("where objects outside --path were defined", () => {
  const makeRepo = useTempRepos();

  it("has a line in JSON results and repository-relative GitHub annotations", async () => {
    const broken = ks("broken", "./kubernetes/apps/default/echo/app").replace(
      "spec:\n",
      "spec:\n  dependsOn:\n    - name: missing\n",
    );
    const apps = `# apps of the default namespace\n${homeOps["kubernetes/apps/default/ks.yaml"]}---\n${broken}`;
    const repo = await makeRepo({ ...homeOps, "kubernetes/apps/default/ks.yaml": apps });
    // Each document starts with its apiVersion, three lines above its name.
    const lineOf = (name: string) => apps.split("\n").indexOf(`  name: ${name}`) - 2;
    const json = path.join(repo.root, "results.json");
    const out = await runCli(
      ["test", "--path", path.join(repo.root, "kubernetes/flux/cluster"), "--json", json],
      {
        cwd: path.join(repo.root, "docs"),
        env: { GITHUB_ACTIONS: "true", GITHUB_WORKSPACE: "", GITHUB_STEP_SUMMARY: "" },
      },
    );
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toContain(
      `::error file=kubernetes/apps/default/ks.yaml,line=${lineOf("broken")},title=Kustomization flux-system/broken%3A DependencyNotFound::`,
    );
    const report = JSON.parse(await readFile(json, "utf8")) as {
      objects: Array<{ kind: string; name: string; file?: string; line?: number }>;
    };
    const where = Object.fromEntries(
      report.objects
        .filter((o) => o.kind === "Kustomization")
        .map((o) => [o.name, [o.file, o.line]]),
    );
    // Files outside the working directory are absolute in the JSON report.
    const apps_ = path.join(repo.root, "kubernetes/apps/default/ks.yaml");
    expect(where).toEqual({
      "cluster-apps": [path.join(repo.root, "kubernetes/flux/cluster/ks.yaml"), 1],
      echo: [apps_, 2],
      db: [apps_, lineOf("db")],
      cache: [apps_, lineOf("cache")],
      broken: [apps_, lineOf("broken")],
    });
  }, 240_000);
});
