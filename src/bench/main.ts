/**
 * `npm run bench`: speed and memory of a render, printed as figures and ratios
 * (never asserted in tests). Generates a repository of N apps, each a Flux
 * Kustomization with a kustomization, patches and post-build substitution, and
 * renders it at several concurrencies.
 *
 *   npm run bench -- --apps 200
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { onCommand } from "../exec/run.js";
import { render } from "../pipeline.js";

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

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { apps: { type: "string", default: "100" } } });
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
    for (const [k, v] of rows) console.log(`  ${k.padEnd(28)} ${v}`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
