/**
 * The kustomize worker against the kustomize binary: the same bytes for every
 * kustomization in testdata, the same error text for broken ones, the same
 * rendered store for every testdata example; and a worker that dies or hangs
 * fails only its own build, with a reason, and is replaced.
 */
import { chmod, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { render } from "../../src/run.js";
import { parseYamlDocuments } from "../../src/discovery/yaml.js";
import {
  KustomizeFailure,
  ProcessRunner,
  WorkerPool,
  type KustomizeBuildOptions,
} from "../../src/render/kustomize/runner.js";
import { useTempRepos } from "../support/repo.js";
import { runSnapshot, useWorkerPools, withEnv, workerFile } from "../support/worker.js";
import { logger } from "../../src/util/log.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const testdata = path.join(projectRoot, "testdata");
const flux: KustomizeBuildOptions = { loadRestrictionsNone: true };

async function kustomizationDirs(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await kustomizationDirs(full)));
    else if (entry.name === "kustomization.yaml") out.push(dir);
  }
  return out.sort();
}

/** kustomize's answer as data: its output, or its error text. */
async function outcome(build: () => Promise<string>): Promise<{ yaml?: string; error?: string }> {
  try {
    return { yaml: await build() };
  } catch (err) {
    expect(err).toBeInstanceOf(KustomizeFailure);
    return { error: (err as Error).message };
  }
}

const pool = useWorkerPools(2);

describe("kustomize worker", () => {
  const makeRepo = useTempRepos();

  it("gives the binary's bytes for every kustomization in testdata", async () => {
    const dirs = await kustomizationDirs(testdata);
    expect(dirs.length).toBeGreaterThan(5);
    const workers = pool();
    const processes = new ProcessRunner();
    for (const dir of dirs) {
      for (const options of [flux, { loadRestrictionsNone: false }]) {
        const viaWorker = await outcome(() => workers.build(dir, options));
        const viaProcess = await outcome(() => processes.build(dir, options));
        expect({ dir, ...viaWorker }).toEqual({ dir, ...viaProcess });
      }
    }
    // One worker served them all, one build at a time.
    expect(workers.started).toBe(1);
  });

  it("answers objects exactly as the YAML reader reads kustomize's output", async () => {
    const weird = [
      "apiVersion: example.com/v1",
      "kind: Thing",
      "metadata: {name: weird, annotations: {a: 'No', b: \"on\", c: '12:30'}}",
      "spec:",
      "  plain: [No, on, y, 12:30, 1_000, 2001-12-14, ~, null, Null, '', true, False, 0, -3, 007, +4]",
      "  numbers: [1.5, 1e3, 1E-2, 0.0, -0, -0.0, .5, 1., 0o17, 0x1F, 123456789012345678, 1e400]",
      "  strings: ['1.5', \"true\", '0x1F', \"multi\\nline\", 'tab\\there', \"\\u00e9\\u2028\", '#x', 'a: b']",
      "  block: |",
      "    line one",
      "      indented",
      "  folded: >-",
      "    folded",
      "    text",
      "  '123': quoted key",
      "  'true': quoted bool key",
      '  "": empty key',
      "  __proto__: {polluted: true}",
      "  nested: {list: [[1, [2]], {deep: {deeper: x}}], empty: {}, none: []}",
      "",
    ].join("\n");
    const repo = await makeRepo(
      {
        "weird/kustomization.yaml": "resources: [thing.yaml]\n",
        "weird/thing.yaml": weird,
        "intkey/kustomization.yaml": "resources: [thing.yaml]\n",
        "intkey/thing.yaml":
          "apiVersion: example.com/v1\nkind: Thing\nmetadata: {name: k}\nspec: {1: one, true: yes}\n",
        "anchor/kustomization.yaml": "resources: [thing.yaml]\n",
        "anchor/thing.yaml":
          "apiVersion: example.com/v1\nkind: Thing\nmetadata: {name: a}\nspec: {a: &x {b: 1}, c: *x, d: !!str 5}\n",
      },
      { git: false },
    );
    const dirs = [
      ...(await kustomizationDirs(testdata)),
      ...["weird", "intkey", "anchor"].map((d) => path.join(repo.root, d)),
    ];
    const workers = pool();
    const kinds = new Set<string>();
    for (const dir of dirs) {
      let yaml: string;
      try {
        yaml = await workers.build(dir, flux);
      } catch {
        continue; // broken on purpose (kustomize refuses non-string keys too)
      }
      const output = await workers.buildOutput(dir, flux);
      const objects = "objects" in output ? output.objects : undefined;
      kinds.add(objects ? "objects" : "yaml");
      const parsed = parseYamlDocuments(yaml);
      expect(parsed.errors, dir).toEqual([]);
      const expected = parsed.documents.map((d) => d.object);
      expect(objects ?? expected, dir).toStrictEqual(expected);
      if (objects && "json" in output && output.json !== undefined) {
        expect(JSON.parse(output.json), dir).toStrictEqual(expected);
      }
    }
    // Both answers occur: objects where JSON says them exactly, YAML elsewhere.
    expect([...kinds].sort()).toEqual(["objects", "yaml"]);
  });

  it("fails broken kustomizations with kustomize's own message, naming the file", async () => {
    const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: '1'}\n";
    const repo = await makeRepo(
      {
        "missing/kustomization.yaml": "resources: [nothere.yaml]\n",
        "badyaml/kustomization.yaml": "resources: [cm.yaml]\n",
        "badyaml/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n",
        "dup/kustomization.yaml": "resources: [a.yaml, b.yaml]\n",
        "dup/a.yaml": cm,
        "dup/b.yaml": cm,
        "badpatch/kustomization.yaml":
          "resources: [cm.yaml]\npatches:\n- patch: |\n    - op: replace\n      path: /data/zz/x\n      value: 1\n  target: {kind: ConfigMap}\n",
        "badpatch/cm.yaml": cm,
        "unknownfield/kustomization.yaml": "resources: [cm.yaml]\nnotAField: 1\n",
        "unknownfield/cm.yaml": cm,
        "component/kustomization.yaml": "resources: [cm.yaml]\ncomponents: [../nocomponent]\n",
        "component/cm.yaml": cm,
        "openapi/kustomization.yaml": "resources: [cm.yaml]\nopenapi: {version: v1.0.0-nope}\n",
        "openapi/cm.yaml": cm,
      },
      { git: false },
    );
    const workers = pool();
    const processes = new ProcessRunner();
    for (const name of [
      "missing",
      "badyaml",
      "dup",
      "badpatch",
      "unknownfield",
      "component",
      "openapi",
    ]) {
      const dir = path.join(repo.root, name);
      const viaWorker = await outcome(() => workers.build(dir, flux));
      const viaProcess = await outcome(() => processes.build(dir, flux));
      expect({ name, ...viaWorker }).toEqual({ name, ...viaProcess });
      expect(viaWorker.error, name).toBeDefined();
    }
    const missing = await outcome(() => workers.build(path.join(repo.root, "missing"), flux));
    expect(missing.error).toContain("nothere.yaml");
  });

  it("renders every testdata example exactly as one process per build does", async () => {
    for (const example of ["example", "helm-example", "sources-mapped"]) {
      const snapshot = (worker: boolean) =>
        withEnv("FLUX_LOCAL_KUSTOMIZE_WORKER", worker ? workerFile : "0", async () =>
          runSnapshot(
            await render({ path: `testdata/${example}`, cwd: projectRoot, noCache: true }),
          ),
        );
      const viaWorker = await snapshot(true);
      const viaProcess = await snapshot(false);
      expect(viaWorker.length).toBeGreaterThan(100);
      expect(viaWorker).toBe(viaProcess);
    }
  });
});

describe("kustomize worker failures", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "flux-local-fake-worker-"));
    return () => rm(dir, { recursive: true, force: true });
  });

  /** A stand-in worker (pure pool logic): greets, then runs `body` per request line. */
  async function fakeWorker(name: string, body: string): Promise<string> {
    const file = path.join(dir, name);
    await writeFile(
      file,
      `#!/bin/sh\necho '{"ready":true,"kustomize":"fake"}'\nwhile read -r line; do\n${body}\ndone\n`,
    );
    await chmod(file, 0o755);
    return file;
  }

  it("fails the build in flight when the worker dies, with its stderr, and starts a new one", async () => {
    const file = await fakeWorker("crash", `echo "fatal error: out of memory" >&2; exit 3`);
    const workers = pool(file, 1);
    const first = await outcome(() => workers.build("/some/dir", flux));
    expect(first.error).toMatch(
      /kustomize worker .* exited with code 3: fatal error: out of memory/,
    );
    expect(first.error).toContain("/some/dir");
    const second = await outcome(() => workers.build("/other/dir", flux));
    expect(second.error).toContain("exited with code 3");
    expect(workers.started).toBe(2);
  });

  it("bounds each build: a build that never answers fails with the limit", async () => {
    const file = await fakeWorker("hang", "exec sleep 600");
    const workers = pool(file, 1);
    const result = await outcome(() => workers.build("/slow/dir", { ...flux, timeoutMs: 300 }));
    expect(result.error).toContain("took longer than 300 ms");
    expect(result.error).toContain("/slow/dir");
  });

  it("stops the build when the run is aborted", async () => {
    const file = await fakeWorker("hang2", "exec sleep 600");
    const workers = pool(file, 1);
    const controller = new AbortController();
    const pending = outcome(() => workers.build("/x", { ...flux, signal: controller.signal }));
    controller.abort();
    expect((await pending).error).toContain("cancelled");
  });

  it("asks a worker of protocol 1 for no build from a kustomization (the caller mirrors)", async () => {
    const file = await fakeWorker("protocol1", `echo '{"id":1,"error":"not asked"}'`);
    const workers = pool(file, 1);
    const overlay = { root: "/r", kustomization: "resources: []\n", reach: new Set<string>() };
    expect(await workers.buildOverlay("/r/app", overlay, flux)).toBeUndefined();
    expect(await new ProcessRunner().buildOverlay()).toBeUndefined();
  });

  it("prestart starts every worker before any build, and builds use them", async () => {
    const file = await fakeWorker("prestart", `echo '{"id":1,"yaml":"a: 1"}'`);
    const workers = pool(file, 2);
    await workers.prestart();
    expect(workers.started).toBe(2);
    expect(await workers.build("/x", flux)).toBe("a: 1");
    expect(workers.started).toBe(2);
  });

  it("a run that builds nothing stops its prestarted workers at once, quietly", async () => {
    // A worker whose start-up never ends: closing must not wait for it.
    const file = path.join(dir, "slow-start");
    await writeFile(file, "#!/bin/sh\nexec sleep 600\n");
    await chmod(file, 0o755);
    const workers = new WorkerPool(file, 2);
    // Settles once the processes are started, though they are never ready.
    await workers.prestart();
    const warnings: string[] = [];
    const warn = logger.warn.bind(logger);
    logger.warn = (...args: unknown[]) => {
      warnings.push(JSON.stringify(args));
    };
    try {
      const started = performance.now();
      await workers.close();
      // Well under the 5 s a worker gets to exit by itself (not a timing assertion
      // on speed: a close that waited for the start-up would never return).
      expect(performance.now() - started).toBeLessThan(4_000);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      logger.warn = warn;
    }
    expect(warnings).toEqual([]);
  });

  it("falls back to one process per build when the worker cannot start", async () => {
    const file = await fakeWorker("broken", "");
    await writeFile(file, "#!/bin/sh\necho 'not a worker'\nexit 1\n");
    const workers = pool(file, 1);
    const repo = await mkdtemp(path.join(dir, "repo-"));
    await writeFile(path.join(repo, "kustomization.yaml"), "resources: [cm.yaml]\n");
    await writeFile(
      path.join(repo, "cm.yaml"),
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n",
    );
    expect(await workers.build(repo, flux)).toContain("name: cm");
  });
});
