/**
 * `diff --only-images`: an image bump shown as such, per owner and workload
 * container, in a real git repository (working tree against HEAD) with the
 * real kustomize.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { bootstrap, fluxKustomization, useTempRepos } from "../support/repo.js";

const deployment = (containers: Array<[string, string]>, init?: [string, string]) =>
  `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: apps}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
${init ? `      initContainers:\n        - name: ${init[0]}\n          image: ${init[1]}\n` : ""}      containers:
${containers.map(([n, i]) => `        - name: ${n}\n          image: ${i}\n`).join("")}`;

describe("flux-local diff --only-images", () => {
  const makeRepo = useTempRepos();

  const changedRepo = async () => {
    const repo = await makeRepo({
      "clusters/prod/flux-system.yaml": bootstrap(),
      "clusters/prod/apps.yaml": fluxKustomization("apps", { path: "./apps" }),
      "apps/web.yaml": deployment(
        [
          ["app", "ghcr.io/example/app:1.0.0"],
          ["sidecar", "envoy:1.30"],
        ],
        ["migrate", "ghcr.io/example/migrate:1"],
      ),
    });
    // The working tree: app bumped, sidecar gone, a metrics container added, init unchanged.
    await writeFile(
      path.join(repo.root, "apps/web.yaml"),
      deployment(
        [
          ["app", "ghcr.io/example/app:1.1.0"],
          ["metrics", "prom/exporter:0.5"],
        ],
        ["migrate", "ghcr.io/example/migrate:1"],
      ),
    );
    return repo;
  };

  it("prints one line per image change, grouped by owner", async () => {
    const repo = await changedRepo();
    const { stdout, stderr, exitCode } = await runCli(
      ["diff", "ks", "--only-images", "--path", "clusters/prod"],
      { cwd: repo.root },
    );
    expect(exitCode, stderr).toBe(0);
    expect(stdout).toBe(
      [
        "Kustomization flux-system/apps",
        "  ~ Deployment apps/web app: ghcr.io/example/app:1.0.0 → ghcr.io/example/app:1.1.0",
        "  - Deployment apps/web sidecar: envoy:1.30",
        "  + Deployment apps/web metrics: prom/exporter:0.5",
        "",
      ].join("\n"),
    );
  });

  it("gives the same as JSON and as a Markdown table; --exit-code says there were changes", async () => {
    const repo = await changedRepo();
    const json = await runCli(
      ["diff", "ks", "--only-images", "-o", "json", "--exit-code", "--path", "clusters/prod"],
      { cwd: repo.root },
    );
    expect(json.exitCode).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual([
      {
        kind: "Kustomization",
        namespace: "flux-system",
        name: "apps",
        path: "apps",
        images: [
          {
            kind: "Deployment",
            namespace: "apps",
            name: "web",
            container: "app",
            before: "ghcr.io/example/app:1.0.0",
            after: "ghcr.io/example/app:1.1.0",
          },
          {
            kind: "Deployment",
            namespace: "apps",
            name: "web",
            container: "sidecar",
            before: "envoy:1.30",
            after: null,
          },
          {
            kind: "Deployment",
            namespace: "apps",
            name: "web",
            container: "metrics",
            before: null,
            after: "prom/exporter:0.5",
          },
        ],
      },
    ]);
    const md = await runCli(
      ["diff", "ks", "--only-images", "-o", "markdown", "--path", "clusters/prod"],
      { cwd: repo.root },
    );
    expect(md.stdout).toContain("| Owner | Workload | Container | Before | After |");
    expect(md.stdout).toContain(
      "| Kustomization flux-system/apps | Deployment apps/web | app | `ghcr.io/example/app:1.0.0` | `ghcr.io/example/app:1.1.0` |",
    );
  });

  it("prints nothing when only other fields changed, and refuses formats it has no form for", async () => {
    const repo = await makeRepo({
      "clusters/prod/flux-system.yaml": bootstrap(),
      "clusters/prod/apps.yaml": fluxKustomization("apps", { path: "./apps" }),
      "apps/web.yaml": deployment([["app", "ghcr.io/example/app:1.0.0"]]),
    });
    await writeFile(
      path.join(repo.root, "apps/web.yaml"),
      deployment([["app", "ghcr.io/example/app:1.0.0"]]).replace(
        "app: web}",
        "app: web, tier: front}",
      ),
    );
    const { stdout, exitCode } = await runCli(
      ["diff", "ks", "--only-images", "--exit-code", "--path", "clusters/prod"],
      { cwd: repo.root },
    );
    expect(stdout).toBe("");
    expect(exitCode).toBe(0);
    const bad = await runCli(
      ["diff", "ks", "--only-images", "-o", "summary", "--path", "clusters/prod"],
      { cwd: repo.root },
    );
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain(
      "--only-images prints -o diff, yaml, json or markdown, not summary",
    );
  });
});
