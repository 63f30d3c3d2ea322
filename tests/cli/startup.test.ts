/**
 * Start-up: a run loads what its command needs and no more. A local
 * `build ks` / `build all` / `get ks` of testdata/example (no Git or OCI source
 * to fetch, no HelmRelease rendering, no ResourceSet, no diff) must not load
 * isomorphic-git, the CEL parser, difflib, tar-stream or pino-pretty, nor our
 * own diff, diagnostics, helm, chart, Git and OCI modules. The real CLI, with a
 * Node loader hook that lists every module it loads (ESM through the hook,
 * CommonJS from require.cache at exit). No timings: speed is `npm run bench`.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** A data: URL module, for `--import` and `register`. */
function dataModule(code: string): string {
  return `data:text/javascript,${encodeURIComponent(code)}`;
}

/** An `--import` module that appends every module the process loads to `file`. */
function moduleLogger(file: string): string {
  const hooks = `import { appendFileSync } from "node:fs";
let file;
export function initialize(data) { file = data.file; }
export async function load(url, context, next) {
  const result = await next(url, context);
  appendFileSync(file, url + "\\n");
  return result;
}`;
  return dataModule(`import { createRequire, register } from "node:module";
import { appendFileSync } from "node:fs";
const file = ${JSON.stringify(file)};
register(${JSON.stringify(dataModule(hooks))}, { data: { file } });
process.on("exit", () => {
  const required = Object.keys(createRequire(process.cwd() + "/").cache);
  appendFileSync(file, required.join("\\n") + "\\n");
});`);
}

/** Packages a local render of the example has no use for. */
const PACKAGES = ["isomorphic-git", "@bufbuild/cel", "difflib", "tar-stream", "pino-pretty"];

/** Our modules it has no use for (folders and files of src/). */
const OURS = [
  "src/diff/",
  "src/diagnostics/",
  "src/render/helm/",
  "src/artifacts/charts/",
  "src/artifacts/git/",
  "src/artifacts/oci/client",
  "src/artifacts/oci/fetch",
  "src/artifacts/archive",
  "src/controllers/helmrelease/",
  "src/controllers/resourceset/",
  "src/controllers/source/git",
  "src/controllers/source/oci",
  "src/controllers/source/artifact-generator",
  "src/cli/commands/diff",
  "src/cli/commands/test",
  "src/cli/commands/diagnostics",
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "flux-local-startup-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function loadedBy(args: string[]): Promise<string[]> {
  const log = path.join(dir, `${args.join("-").replace(/[^a-z-]/g, "")}.txt`);
  const result = await runCli([...args, "--path", "testdata/example/clusters/prod"], {
    cwd: projectRoot,
    env: { FLUX_LOCAL_CACHE_DIR: path.join(dir, "cache") },
    imports: [moduleLogger(log)],
  });
  expect(result.exitCode, result.stderr).toBe(0);
  return (await readFile(log, "utf8"))
    .split("\n")
    .filter(Boolean)
    .map((m) => (m.startsWith("file:") ? fileURLToPath(m) : m));
}

describe("start-up", () => {
  for (const args of [
    ["build", "ks"],
    ["build", "all"],
    ["get", "ks"],
  ]) {
    it(`${args.join(" ")} of a local repository loads no Git, OCI, Helm, CEL, diff or tar code`, async () => {
      const loaded = await loadedBy(args);
      // The log sees packages loaded as ES modules and as CommonJS.
      expect(
        loaded.some((m) => m.includes(`${path.sep}node_modules${path.sep}yaml${path.sep}`)),
      ).toBe(true);
      expect(loaded.some((m) => m.endsWith(path.join("src", "run.ts")))).toBe(true);
      const packages = PACKAGES.filter((p) =>
        loaded.some((m) => m.includes(path.join("node_modules", p) + path.sep)),
      );
      expect(packages).toEqual([]);
      const ours = loaded
        .filter((m) => m.startsWith(projectRoot + path.sep))
        .map((m) => path.relative(projectRoot, m).split(path.sep).join("/"))
        .filter((m) => OURS.some((prefix) => m.startsWith(prefix)));
      expect(ours).toEqual([]);
    });
  }
});
