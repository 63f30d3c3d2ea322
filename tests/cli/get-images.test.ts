/**
 * `get images` and `get cluster --enable-images/--only-images`, through the
 * real command line: images of every workload kind (init and ephemeral
 * containers, image volumes, CronJobs), per Kustomization and HelmRelease
 * (rendered with the real helm), as a table, wide, name, YAML and JSON.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { bootstrap, fluxKustomization, useTempRepos } from "../support/repo.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const helmExample = path.join(projectRoot, "testdata", "helm-example");

const podSpec = (containers: string) => `
      initContainers:
        - name: init
          image: registry.example.com/init:1
      containers:
${containers}`;

const workloads = `---
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: apps}
spec:
  containers:
    - name: main
      image: registry.example.com/main:1
  ephemeralContainers:
    - name: shell
      image: busybox:1.36
  volumes:
    - name: data
      image: {reference: registry.example.com/data:v2}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: apps}
spec:
  template:
    spec:${podSpec("        - name: db\n          image: postgres:16")}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: apps}
spec:
  template:
    spec:
      containers:
        - name: agent
          image: registry.example.com/agent:3
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: backup, namespace: apps}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: backup
              image: registry.example.com/backup:2
---
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: apps}
spec:
  template:
    spec:
      containers:
        - name: once
          image: postgres:16
---
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata: {name: pg, namespace: apps}
spec:
  imageName: ghcr.io/cloudnative-pg/postgresql:16.4
---
apiVersion: example.com/v1
kind: Job
metadata: {name: not-a-workload, namespace: apps}
spec:
  template:
    spec:
      containers:
        - name: x
          image: should-not-count:1
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: apps}
data:
  image: not-an-image-either:1
`;

describe("flux-local get images", () => {
  const makeRepo = useTempRepos();

  const workloadRepo = () =>
    makeRepo({
      "clusters/prod/flux-system.yaml": bootstrap(),
      "clusters/prod/apps.yaml": fluxKustomization("apps", { path: "./apps" }),
      "apps/workloads.yaml": workloads,
    });

  it("lists every container of every workload kind, per Kustomization", async () => {
    const repo = await workloadRepo();
    const { stdout, stderr, exitCode } = await runCli(
      ["get", "images", "-o", "wide", "--path", "clusters/prod"],
      { cwd: repo.root },
    );
    expect(stderr).toBe("");
    expect(exitCode).toBe(0);
    const rows = stdout
      .trimEnd()
      .split("\n")
      .map((l) => l.trim().split(/\s{2,}/));
    expect(rows[0]).toEqual(["KIND", "NAMESPACE", "NAME", "WORKLOAD", "CONTAINER", "IMAGE"]);
    expect(rows.slice(1).map((r) => r.slice(3))).toEqual([
      ["Pod/apps/debug", "main", "registry.example.com/main:1"],
      ["Pod/apps/debug", "shell", "busybox:1.36"],
      ["Pod/apps/debug", "data", "registry.example.com/data:v2"],
      ["StatefulSet/apps/db", "init", "registry.example.com/init:1"],
      ["StatefulSet/apps/db", "db", "postgres:16"],
      ["DaemonSet/apps/agent", "agent", "registry.example.com/agent:3"],
      ["CronJob/apps/backup", "backup", "registry.example.com/backup:2"],
      ["Job/apps/once", "once", "postgres:16"],
      ["Cluster/apps/pg", "spec.imageName", "ghcr.io/cloudnative-pg/postgresql:16.4"],
    ]);
    expect(
      rows.slice(1).every((r) => r.slice(0, 3).join(" ") === "Kustomization flux-system apps"),
    );
  });

  it("prints one row per owner and distinct image; -o name the distinct images", async () => {
    const repo = await workloadRepo();
    const table = await runCli(["get", "images", "--path", "clusters/prod"], { cwd: repo.root });
    expect(table.stdout.split("\n").filter((l) => l.includes("postgres:16"))).toHaveLength(1);
    const names = await runCli(["get", "images", "-o", "name", "--path", "clusters/prod"], {
      cwd: repo.root,
    });
    expect(names.stdout).toBe(
      [
        "busybox:1.36",
        "ghcr.io/cloudnative-pg/postgresql:16.4",
        "postgres:16",
        "registry.example.com/agent:3",
        "registry.example.com/backup:2",
        "registry.example.com/data:v2",
        "registry.example.com/init:1",
        "registry.example.com/main:1",
        "",
      ].join("\n"),
    );
  });

  it("shows the image the Flux Kustomization's images override sets (testdata/example)", async () => {
    const { stdout, exitCode } = await runCli(
      ["get", "images", "-o", "json", "--path", "testdata/example"],
      { cwd: projectRoot },
    );
    expect(exitCode).toBe(0);
    const owners = JSON.parse(stdout) as Array<{
      kind: string;
      name: string;
      path: string;
      images: string[];
      workloads: Array<{ kind: string; name: string; containers: unknown[] }>;
    }>;
    expect(owners.map((o) => `${o.kind}/${o.name}`)).toEqual(["Kustomization/apps"]);
    expect(owners[0]?.images).toEqual(["ghcr.io/stefanprodan/podinfo:6.7.1"]);
    expect(owners[0]?.workloads).toEqual([
      {
        kind: "Deployment",
        namespace: "podinfo",
        name: "prod-podinfo",
        containers: [
          { name: "podinfo", type: "container", image: "ghcr.io/stefanprodan/podinfo:6.7.1" },
        ],
      },
    ]);
  });

  it("lists HelmReleases' images with --enable-helm (real helm), and says when it did not", async () => {
    const without = await runCli(["get", "images", "--path", "clusters/prod"], {
      cwd: helmExample,
    });
    expect(without.exitCode).toBe(0);
    expect(without.stdout).toBe("no container images found in cluster\n");
    expect(without.stderr).toContain(
      "note: 2 HelmReleases not rendered, their images not listed (use --enable-helm)",
    );

    const { stdout, stderr, exitCode } = await runCli(
      ["get", "images", "--enable-helm", "-o", "yaml", "--path", "clusters/prod"],
      { cwd: helmExample },
    );
    expect(stderr).toBe("");
    expect(exitCode).toBe(0);
    const owners = parse(stdout) as Array<{
      kind: string;
      namespace: string;
      name: string;
      images: string[];
    }>;
    expect(owners.map((o) => [o.kind, o.namespace, o.name, o.images])).toEqual([
      ["HelmRelease", "default", "umbrella", ["busybox", "ghcr.io/stefanprodan/podinfo:6.5.4"]],
      ["HelmRelease", "podinfo", "podinfo", ["busybox", "ghcr.io/stefanprodan/podinfo:6.6.0"]],
    ]);
  });

  it("takes an owner's name; an unknown one is exit 1, named", async () => {
    const one = await runCli(
      ["get", "images", "podinfo", "--enable-helm", "-o", "name", "--path", "clusters/prod"],
      { cwd: helmExample },
    );
    expect(one.stdout).toBe("busybox\nghcr.io/stefanprodan/podinfo:6.6.0\n");
    const missing = await runCli(["get", "images", "nope", "--path", "clusters/prod"], {
      cwd: helmExample,
    });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain("flux-local: no Kustomization or HelmRelease named nope");
  });
});

describe("flux-local get cluster --enable-images", () => {
  it("adds images to each Kustomization and HelmRelease, as flux-local did", async () => {
    const { stdout, exitCode } = await runCli(
      ["get", "cluster", "--enable-images", "-o", "yaml", "--path", "clusters/prod"],
      { cwd: helmExample },
    );
    expect(exitCode).toBe(0);
    const data = parse(stdout) as {
      clusters: Array<{
        kustomizations: Array<{
          name: string;
          images?: string[];
          helm_releases: Array<{ name: string; images?: string[] }>;
        }>;
      }>;
    };
    const apps = data.clusters[0]?.kustomizations.find((k) => k.name === "apps");
    expect(apps?.helm_releases.map((h) => [h.name, h.images])).toEqual([
      ["podinfo", ["busybox", "ghcr.io/stefanprodan/podinfo:6.6.0"]],
      ["umbrella", ["busybox", "ghcr.io/stefanprodan/podinfo:6.5.4"]],
    ]);
    // No images: no key (flux-local left it out).
    expect(apps && "images" in apps).toBe(false);

    const plain = await runCli(["get", "cluster", "-o", "yaml", "--path", "clusters/prod"], {
      cwd: helmExample,
    });
    expect(plain.stdout).not.toContain("images:");
  });

  it("prints only the distinct images with --only-images", async () => {
    const json = await runCli(
      [
        "get",
        "cluster",
        "--enable-images",
        "--only-images",
        "-o",
        "json",
        "--path",
        "clusters/prod",
      ],
      { cwd: helmExample },
    );
    expect(JSON.parse(json.stdout)).toEqual([
      "busybox",
      "ghcr.io/stefanprodan/podinfo:6.5.4",
      "ghcr.io/stefanprodan/podinfo:6.6.0",
    ]);
    const alone = await runCli(["get", "cluster", "--only-images", "--path", "clusters/prod"], {
      cwd: helmExample,
    });
    expect(alone.exitCode).toBe(2);
    expect(alone.stderr).toContain("--only-images needs --enable-images");
  });
});
