/**
 * `npm run bench`: speed and memory of a render, printed as figures and ratios
 * (never asserted in tests). Generates a repository of N apps, each a Flux
 * Kustomization with a kustomization, patches and post-build substitution, and
 * renders it at several concurrencies.
 *
 *   npm run bench -- --apps 200 --diff-apps 500
 *
 * The diff figure: a repository of --diff-apps Kustomizations (two objects
 * each), one file changed in the working tree, `diff ks` against HEAD.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createReadStream } from "node:fs";
import http from "node:http";
import { fileURLToPath } from "node:url";
import { defaultHelmOptions } from "../../src/controllers/helmrelease/options.js";
import { onCommand, run } from "../../src/exec/run.js";
import { findTool } from "../../src/exec/tools.js";
import { render } from "../../src/run.js";
import { main as cli } from "../../src/cli/main.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

async function generateRepo(apps: number): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), "flux-local-bench-"));
  const write = async (rel: string, text: string) => {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), text);
  };
  await write(
    "clusters/prod/flux-system/gotk.yaml",
    `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec: {url: https://git.example.com/fleet.git, ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: flux-system, namespace: flux-system}
spec: {path: ./clusters/prod, sourceRef: {kind: GitRepository, name: flux-system}}
`,
  );
  await write(
    "clusters/prod/vars.yaml",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cluster-vars, namespace: flux-system}\ndata: {domain: example.com}\n",
  );
  for (let i = 0; i < apps; i++) {
    const name = `app-${String(i).padStart(4, "0")}`;
    await write(
      `clusters/prod/apps/${name}.yaml`,
      `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: ${name}, namespace: flux-system}
spec:
  path: ./apps/${name}
  targetNamespace: ${name}
  sourceRef: {kind: GitRepository, name: flux-system}
  images: [{name: nginx, newTag: "1.27"}]
  postBuild:
    substitute: {app: ${name}}
    substituteFrom: [{kind: ConfigMap, name: cluster-vars}]
`,
    );
    await write(`apps/${name}/kustomization.yaml`, "resources: [deployment.yaml, service.yaml]\n");
    await write(
      `apps/${name}/deployment.yaml`,
      `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: \${replicas:=2}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx, env: [{name: HOST, value: "\${app}.\${domain}"}]}]
`,
    );
    await write(
      `apps/${name}/service.yaml`,
      "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n",
    );
  }
  execFileSync("git", ["init", "-q"], { cwd: root });
  return root;
}

async function measure(root: string, concurrency: number) {
  let commands = 0;
  const stop = onCommand(() => commands++);
  const started = performance.now();
  const result = await render({ path: "clusters/prod", cwd: root, concurrency });
  const ms = performance.now() - started;
  stop();
  const failed = result.store.list().filter((e) => e.status.phase === "Failed").length;
  const objects = result.store
    .list("Kustomization")
    .reduce((n, e) => n + (e.artifact?.type === "render" ? e.artifact.objects.length : 0), 0);
  return {
    ms,
    commands,
    failed,
    objects,
    kustomizations: result.store.list("Kustomization").length,
  };
}

/**
 * A Helm repository on loopback: `helm package` of testdata/charts/podinfo and
 * `helm repo index`, served by a plain HTTP server that counts requests.
 */
async function startChartRepository(
  dir: string,
): Promise<{ url: string; requests: () => number; stop: () => Promise<void> }> {
  const helm = await findTool("helm");
  await run(
    helm.file,
    ["package", path.join(projectRoot, "testdata", "charts", "podinfo"), "-d", dir],
    { cwd: dir },
  );
  let count = 0;
  const server = http.createServer((req, res) => {
    count++;
    const file = path.join(dir, path.basename(req.url ?? "/"));
    createReadStream(file)
      .on("error", () => {
        res.statusCode = 404;
        res.end();
      })
      .pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  await run(helm.file, ["repo", "index", dir, "--url", url], { cwd: dir });
  return {
    url,
    requests: () => count,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function generateHelmRepo(releases: number, url: string): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), "flux-local-bench-helm-"));
  const write = async (rel: string, text: string) => {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), text);
  };
  await write(
    "clusters/prod/apps.yaml",
    `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec: {path: ./apps, sourceRef: {kind: GitRepository, name: flux-system}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: charts, namespace: flux-system}
spec: {url: "${url}"}
`,
  );
  for (let i = 0; i < releases; i++) {
    await write(
      `apps/release-${i}.yaml`,
      `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: podinfo-${i}, namespace: team-${i % 10}}
spec:
  chart: {spec: {chart: podinfo, version: ">=0.1.0", sourceRef: {kind: HelmRepository, name: charts, namespace: flux-system}}}
  values: {replicaCount: ${(i % 3) + 1}}
`,
    );
  }
  execFileSync("git", ["init", "-q"], { cwd: root });
  return root;
}

async function benchHelm(releases: number): Promise<Array<[string, string]>> {
  const serveDir = await mkdtemp(path.join(os.tmpdir(), "flux-local-bench-charts-"));
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), "flux-local-bench-cache-"));
  const repo = await startChartRepository(serveDir);
  const root = await generateHelmRepo(releases, repo.url);
  try {
    const once = async () => {
      const before = repo.requests();
      const started = performance.now();
      const result = await render({
        path: "clusters/prod",
        cwd: root,
        cacheDir,
        helm: defaultHelmOptions(),
      });
      const ms = performance.now() - started;
      const ready = result.store
        .list("HelmRelease")
        .filter((e) => e.status.phase === "Ready").length;
      return { ms, requests: repo.requests() - before, ready };
    };
    const cold = await once();
    const warm = await once();
    return [
      [`helm: ${releases} releases of one chart`, `${cold.ready} rendered`],
      [
        "  cold cache",
        `${cold.ms.toFixed(0)} ms, ${cold.requests} HTTP requests (index + 1 chart)`,
      ],
      [
        "  warm cache",
        `${warm.ms.toFixed(0)} ms, ${warm.requests} HTTP requests (the index: the version is a range)`,
      ],
      ["  per release (warm)", `${(warm.ms / releases).toFixed(1)} ms`],
      ["  cold / warm ratio", (cold.ms / warm.ms).toFixed(2)],
    ];
  } finally {
    await repo.stop();
    for (const dir of [serveDir, cacheDir, root]) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * `diff` of a one-file change (one app's deployment) against HEAD, beside a
 * full `build all` of the same repository: wall time and renders.
 */
async function benchDiff(apps: number): Promise<Array<[string, string]>> {
  const root = await generateRepo(apps);
  const out = await mkdtemp(path.join(os.tmpdir(), "flux-local-bench-out-"));
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=bench", "-c", "user.email=bench@example.com", ...args], {
      cwd: root,
      stdio: "ignore",
    });
  const cwd = process.cwd();
  try {
    git("add", "-A");
    git("commit", "-qm", "bench", "--no-gpg-sign");
    process.chdir(root);
    const timed = async (argv: string[]) => {
      const started = performance.now();
      const code = await cli(argv);
      return { ms: performance.now() - started, code };
    };
    const build = ["build", "all", "--path", "clusters/prod", "-q", "--output-file"];
    await timed([...build, path.join(out, "warm.yaml")]);
    const full = await timed([...build, path.join(out, "all.yaml")]);
    const file = path.join(root, "apps/app-0000/deployment.yaml");
    await writeFile(
      file,
      (await readFile(file, "utf8")).replace("${replicas:=2}", "${replicas:=3}"),
    );
    const report = path.join(out, "diff.json");
    const diff = ["diff", "ks", "--path", "clusters/prod", "-o", "changes-json", "-q"];
    const one = await timed([...diff, "--output-file", report]);
    const changed = JSON.parse(await readFile(report, "utf8")) as {
      objects: unknown[];
      renders: { rendered: number; reused: number };
    };
    const objects = (await readFile(path.join(out, "all.yaml"), "utf8")).split("\n---\n").length;
    return [
      ["diff repository", `${apps} Kustomizations, ${objects} objects`],
      [`build all (exit ${full.code})`, `${full.ms.toFixed(0)} ms, ${apps + 1} renders`],
      [
        `diff, one file changed (exit ${one.code})`,
        `${one.ms.toFixed(0)} ms, ${changed.renders.rendered} renders (${changed.renders.reused} shared), ${changed.objects.length} object changed`,
      ],
      ["one-file diff / build all", (one.ms / full.ms).toFixed(2)],
    ];
  } finally {
    process.chdir(cwd);
    for (const dir of [out, root]) await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      apps: { type: "string", default: "100" },
      releases: { type: "string", default: "50" },
      "diff-apps": { type: "string", default: "500" },
    },
  });
  const apps = Number(values.apps);
  const root = await generateRepo(apps);
  const cpus = os.availableParallelism();
  console.log(`flux-local bench: ${apps} apps, ${cpus} CPUs, node ${process.version}`);
  try {
    await measure(root, cpus); // warm the file cache and the tool lookup
    const serial = await measure(root, 1);
    const parallel = await measure(root, cpus);
    const rss = process.memoryUsage().rss / 1024 / 1024;
    const rows: Array<[string, string]> = [
      [
        "kustomizations rendered",
        `${parallel.kustomizations} (${parallel.objects} objects, ${parallel.failed} failed)`,
      ],
      ["kustomize runs", String(parallel.commands)],
      [
        "render, concurrency 1",
        `${serial.ms.toFixed(0)} ms (${(serial.ms / serial.kustomizations).toFixed(1)} ms per Kustomization)`,
      ],
      [
        `render, concurrency ${cpus}`,
        `${parallel.ms.toFixed(0)} ms (${(parallel.ms / parallel.kustomizations).toFixed(1)} ms per Kustomization)`,
      ],
      ["speed-up ratio (1 / N)", (serial.ms / parallel.ms).toFixed(2)],
      ["resident memory", `${rss.toFixed(0)} MiB`],
    ];
    rows.push(...(await benchHelm(Number(values.releases))));
    rows.push(...(await benchDiff(Number(values["diff-apps"]))));
    for (const [k, v] of rows) console.log(`  ${k.padEnd(36)} ${v}`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
