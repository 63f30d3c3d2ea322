/**
 * The helm worker against the helm binary: the same bytes (or the same error)
 * for every testdata chart under every combination of flags flux-local
 * passes, one request after another in one worker (nothing one request set
 * carries over to the next); the same rendered store for the testdata
 * examples with HelmReleases; and a worker that dies, hangs or cannot start
 * fails only its own render, with a reason, or falls back to processes.
 */
import { access, chmod, constants, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { defaultHelmOptions } from "../../src/controllers/helmrelease/options.js";
import {
  HELM_WORKER_NAME,
  HelmFailure,
  HelmProcessRunner,
  HelmWorkerPool,
  type HelmRunner,
} from "../../src/render/helm/runner.js";
import {
  helmEnvironment,
  prepareHelmHome,
  templateArgs,
  type TemplateRequest,
} from "../../src/render/helm/template.js";
import { render } from "../../src/run.js";
import { runSnapshot, withEnv } from "../support/worker.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const workerFile = path.join(projectRoot, ".tools", "bin", HELM_WORKER_NAME);
const charts = path.join(projectRoot, "testdata", "charts");

let scratch: string;
let env: Record<string, string>;
const pools: HelmWorkerPool[] = [];

beforeAll(async () => {
  await expect(
    access(workerFile, constants.X_OK),
    "the helm worker is built by `npm run setup`",
  ).resolves.toBeUndefined();
  scratch = await mkdtemp(path.join(os.tmpdir(), "flux-local-helm-worker-"));
  const home = path.join(scratch, "home");
  await prepareHelmHome(home);
  env = helmEnvironment(home);
  await writeFile(path.join(scratch, "values.yaml"), "replicaCount: 3\n");
  await writeFile(path.join(scratch, "bad-values.yaml"), "replicaCount: [\n");
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function pool(file = workerFile, size = 1): HelmWorkerPool {
  const made = new HelmWorkerPool(file, size, env);
  pools.push(made);
  return made;
}

/** helm's answer as data: what it printed, or its error text. */
async function outcome(
  runner: HelmRunner,
  args: string[],
): Promise<{ out?: string; error?: string }> {
  try {
    return { out: await runner.template(args, { cwd: scratch }) };
  } catch (err) {
    expect(err).toBeInstanceOf(HelmFailure);
    const stderr = (err as HelmFailure).stderr;
    // The error line helm prints (a process's stderr also holds its warnings).
    return { error: stderr.split("\n").find((line) => line.startsWith("Error: ")) ?? stderr };
  }
}

function request(chart: string, extra: Partial<TemplateRequest> = {}): TemplateRequest {
  return {
    releaseName: "rel",
    namespace: "ns",
    chartDir: path.join(charts, chart),
    valuesFile: path.join(scratch, "values.yaml"),
    includeCrds: false,
    ...extra,
  };
}

describe("helm worker", () => {
  it("gives the binary's bytes, or its error, for every chart and flag set, one after another", async () => {
    const variants: Array<Partial<TemplateRequest>> = [
      {},
      { includeCrds: true, isUpgrade: true, noHooks: true },
      {},
      { kubeVersion: "1.29.4", apiVersions: ["example.com/v1", "monitoring.coreos.com/v1"] },
      { showOnly: ["templates/service.yaml"] },
      { showOnly: ["templates/nope.yaml"] },
      { skipSchemaValidation: true, disableOpenApiValidation: true, namespace: "other" },
      { releaseName: "x".repeat(60) },
      { kubeVersion: "not-a-version" },
      { valuesFile: path.join(scratch, "bad-values.yaml") },
      { valuesFile: path.join(scratch, "missing.yaml") },
      { chartDir: path.join(scratch, "no-chart-here") },
      {},
    ];
    const workers = pool();
    const processes = new HelmProcessRunner(env);
    let errors = 0;
    for (const chart of ["podinfo", "umbrella"]) {
      for (const variant of variants) {
        const args = templateArgs(request(chart, variant));
        const viaWorker = await outcome(workers, args);
        const viaProcess = await outcome(processes, args);
        expect({ args, ...viaWorker }).toEqual({ args, ...viaProcess });
        if (viaWorker.error) errors++;
      }
    }
    expect(errors).toBeGreaterThan(5);
    // One worker served them all.
    expect(workers.started).toBe(1);
  });

  it("renders the testdata examples exactly as one helm process per release does", async () => {
    for (const example of ["helm-example"]) {
      const snapshot = (worker: boolean) =>
        withEnv("FLUX_LOCAL_HELM_WORKER", worker ? workerFile : "0", async () => {
          const result = await render({
            path: `testdata/${example}`,
            cwd: projectRoot,
            noCache: true,
            helm: defaultHelmOptions(),
          });
          expect(result.store.list("HelmRelease").length, example).toBeGreaterThan(0);
          return runSnapshot(result);
        });
      expect(await snapshot(true), example).toBe(await snapshot(false));
    }
  });

  async function fakeWorker(body: string): Promise<string> {
    const dir = path.join(scratch, `fake-${Math.random().toString(36).slice(2)}`);
    await mkdir(dir);
    const file = path.join(dir, "worker");
    await writeFile(
      file,
      `#!/bin/sh\necho '{"ready":true,"helm":"fake","protocol":1}'\nwhile read -r line; do\n${body}\ndone\n`,
    );
    await chmod(file, 0o755);
    return file;
  }

  it("fails the render in flight when the worker dies, with its stderr, and starts a new one", async () => {
    const workers = pool(await fakeWorker("echo 'chart exploded' >&2; exit 3"));
    const args = templateArgs(request("podinfo"));
    const first = workers.template(args, { cwd: scratch });
    await expect(first).rejects.toThrow(HelmFailure);
    await expect(first).rejects.toThrow(
      /the helm worker \(.*\) exited with code 3: chart exploded \(rendering rel\)/,
    );
    await expect(workers.template(args, { cwd: scratch })).rejects.toThrow(/exited with code 3/);
    expect(workers.started).toBe(2);
  });

  it("stops a worker that hangs past the timeout, naming the limit", async () => {
    const workers = pool(await fakeWorker("sleep 600"));
    const args = templateArgs(request("podinfo"));
    await expect(workers.template(args, { cwd: scratch, timeoutMs: 300 })).rejects.toThrow(
      /the helm worker .* was stopped: the render timed out \(took longer than 300 ms/,
    );
  });

  it("reads a garbled answer as a failure of that render only", async () => {
    const workers = pool(await fakeWorker("echo 'not json'"));
    await expect(
      workers.template(templateArgs(request("podinfo")), { cwd: scratch }),
    ).rejects.toThrow(/the helm worker answered garbage: not json/);
  });

  async function hostileChart(name: string, template: string): Promise<string> {
    const dir = path.join(scratch, name);
    await mkdir(path.join(dir, "templates"), { recursive: true });
    await writeFile(
      path.join(dir, "Chart.yaml"),
      `apiVersion: v2\nname: ${name}\nversion: 0.1.0\n`,
    );
    await writeFile(path.join(dir, "templates", "a.yaml"), template);
    return dir;
  }

  it("fails a chart whose template fails with helm's own message, and goes on", async () => {
    const chartDir = await hostileChart("fails", '{{ fail "the chart says no" }}\n');
    const args = templateArgs(request("podinfo", { chartDir }));
    const workers = pool();
    const viaWorker = await outcome(workers, args);
    expect(viaWorker.error).toContain("the chart says no");
    expect(viaWorker).toEqual(await outcome(new HelmProcessRunner(env), args));
    // The same worker renders the next release.
    expect((await outcome(workers, templateArgs(request("podinfo")))).out).toContain(
      "kind: Service",
    );
    expect(workers.started).toBe(1);
  });

  it("stops a chart whose template never ends at the time bound; the next release gets a fresh worker", async () => {
    const chartDir = await hostileChart(
      "endless",
      "{{ range until 2000000000 }}{{ range until 2000000000 }}x{{ end }}{{ end }}\n",
    );
    const workers = pool();
    await expect(
      workers.template(templateArgs(request("podinfo", { chartDir })), {
        cwd: scratch,
        timeoutMs: 1_000,
      }),
    ).rejects.toThrow(
      /the helm worker .* was stopped: the render timed out \(took longer than 1000 ms/,
    );
    const next = await workers.template(templateArgs(request("podinfo")), { cwd: scratch });
    expect(next).toContain("kind: Service");
    expect(workers.started).toBe(2);
  });

  it("falls back to one helm process per render when the worker cannot start", async () => {
    const dir = path.join(scratch, "broken");
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, "worker");
    await writeFile(file, "#!/bin/sh\necho 'not a worker'\nexit 1\n");
    await chmod(file, 0o755);
    const workers = pool(file);
    const out = await workers.template(templateArgs(request("podinfo")), { cwd: scratch });
    expect(out).toContain("# Source: podinfo/templates/service.yaml");
  });
});
