/**
 * `npm run bench`: speed and memory of a render, printed as figures and ratios
 * (never asserted in tests). For each generated shape (home-ops, flat, nested,
 * chain; see shapes.ts) and size: our wall and CPU time for `build ks`, cold
 * (empty cache), warm (the same run again: replayed by the run cache) and
 * with the render cache alone (FLUX_LOCAL_RUN_CACHE=0), against the floor
 * (plain `kustomize build` of every spec.path, one process each, the same
 * concurrency), the ratios, the external processes started and peak RSS;
 * with the kustomize worker (and one process per build with --process).
 * Writes a JSON file for comparing commits.
 *
 *   npm run bench -- --apps 100 --sizes 100,500,1000 --chain 500 --runs 3 [--process]
 *
 * `--unset NAME[,NAME]` runs everything (the floor, Node's start-up, ours)
 * without those environment variables: e.g. NODE_EXTRA_CA_CERTS, which makes
 * every Node process load the certificates it names before the first line of
 * the program (~30 ms of a ~55 ms start-up on the machine of the README).
 *
 * The diff figure (--diff-apps, 0 to leave it out): a repository of that many
 * Kustomizations (two objects each), one file changed in the working tree,
 * `diff ks` against HEAD.
 */
import { execFileSync } from "node:child_process";
import { execa } from "execa";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createReadStream } from "node:fs";
import http from "node:http";
import { fileURLToPath } from "node:url";
import { run } from "../../src/exec/run.js";
import { findTool } from "../../src/exec/tools.js";
import { main as cli } from "../../src/cli/main.js";
import { helmReleases, homeOps, layout, type GeneratedRepo } from "./shapes.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

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

/**
 * HelmRelease level: `build all --enable-helm` of N releases of one chart
 * from a loopback Helm repository, cold (empty cache), warm (the same again:
 * replayed by the run cache, the chart being pinned), the render cache alone
 * (FLUX_LOCAL_RUN_CACHE=0), and warm with the version a range (no run is
 * kept: the render cache), against the floor: `helm template` of each release straight from the
 * chart archive, one process each at the same concurrency, plus Node's
 * start-up.
 */
async function benchHelm(
  releases: number,
  runs: number,
  concurrency: number,
  nodeStartMs: number,
): Promise<Array<[string, string]>> {
  const serveDir = await mkdtemp(path.join(os.tmpdir(), "flux-local-bench-charts-"));
  const valuesDir = await mkdtemp(path.join(os.tmpdir(), "flux-local-bench-values-"));
  const repo = await startChartRepository(serveDir);
  const chart = (await readdir(serveDir)).find((f) => f.endsWith(".tgz"));
  if (!chart) throw new Error(`no chart archive in ${serveDir}`);
  const version = /^podinfo-(.+)\.tgz$/.exec(chart)?.[1] ?? "";
  // Pinned, as real repositories pin charts (a run is kept: warm is a replay);
  // and a range, which no run is kept for (warm is the render cache).
  const root = await helmReleases(releases, repo.url, version);
  const rangeRoot = await helmReleases(releases, repo.url, ">=0.1.0");
  const cacheDirs: string[] = [];
  try {
    const helm = await findTool("helm");
    const lines: string[] = [];
    for (let i = 0; i < releases; i++) {
      const values = path.join(valuesDir, `values-${i}.yaml`);
      await writeFile(values, `replicaCount: ${(i % 3) + 1}\n`);
      lines.push(
        `podinfo-${i} ${path.join(serveDir, chart)} --namespace team-${i % 10} --values ${values}`,
      );
    }
    const floorOnce = async (): Promise<Run> => {
      const run = await timed(
        ["xargs", "-P", String(concurrency), "-L", "1", helm.file, "template", "--skip-tests"],
        { cwd: root, input: lines.join("\n") + "\n" },
      );
      return { ...run, wallMs: run.wallMs + nodeStartMs, processes: releases };
    };
    const ours = async (cacheDir: string, cwd = root, env: Record<string, string> = {}) => {
      const before = repo.requests();
      const run = await fluxLocal(
        ["build", "all", "--path", "clusters/prod", "--enable-helm"],
        concurrency,
        { cwd, env: { FLUX_LOCAL_CACHE_DIR: cacheDir, ...env } },
      );
      if (run.exitCode !== 0) console.error(`  ! helm bench exited ${run.exitCode}`);
      return { run, requests: repo.requests() - before };
    };
    const floors: Run[] = [];
    const colds: Run[] = [];
    const warms: Run[] = [];
    const seconds: Run[] = [];
    const rangeWarms: Run[] = [];
    let requests = { cold: 0, warm: 0, rangeWarm: 0 };
    const freshCache = async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), "flux-local-bench-cache-"));
      cacheDirs.push(dir);
      return dir;
    };
    for (let i = 0; i < runs; i++) {
      floors.push(await floorOnce());
      const cacheDir = await freshCache();
      const cold = await ours(cacheDir);
      // The cold run fetched a pinned chart: it is kept, the next is replayed.
      const warm = await ours(cacheDir);
      const second = await ours(cacheDir, root, { FLUX_LOCAL_RUN_CACHE: "0" });
      colds.push(cold.run);
      seconds.push(second.run);
      warms.push(warm.run);
      const rangeCache = await freshCache();
      await ours(rangeCache, rangeRoot);
      const rangeWarm = await ours(rangeCache, rangeRoot);
      rangeWarms.push(rangeWarm.run);
      requests = { cold: cold.requests, warm: warm.requests, rangeWarm: rangeWarm.requests };
    }
    const [floor, cold, second, warm, rangeWarm] = [floors, colds, seconds, warms, rangeWarms].map(
      medianRun,
    ) as [Run, Run, Run, Run, Run];
    const figure = (r: Run) =>
      `${r.wallMs.toFixed(0)} ms, ${r.cpuMs.toFixed(0)} ms CPU, ${r.processes} processes, ${r.peakRssMiB.toFixed(0)} MiB`;
    return [
      [`helm: ${releases} releases of one chart`, `version ${version}, median of ${runs}`],
      ["  floor (helm template each)", figure(floor)],
      ["  cold", `${figure(cold)}, ${requests.cold} HTTP requests (index + 1 chart)`],
      [
        "  cold / floor",
        `${(cold.wallMs / floor.wallMs).toFixed(2)} wall, ${(cold.cpuMs / floor.cpuMs).toFixed(2)} CPU`,
      ],
      ["  warm (second run: replayed)", `${figure(warm)}, ${requests.warm} HTTP requests`],
      ["  render cache alone (run cache off)", figure(second)],
      [
        "  cold / warm",
        `${(cold.wallMs / warm.wallMs).toFixed(2)} wall, ${(cold.cpuMs / Math.max(warm.cpuMs, 1)).toFixed(2)} CPU`,
      ],
      [
        "  warm, version >=0.1.0",
        `${figure(rangeWarm)}, ${requests.rangeWarm} HTTP request (the index: a range may move, no run is kept; the render cache)`,
      ],
    ];
  } finally {
    await repo.stop();
    for (const dir of [serveDir, valuesDir, root, rangeRoot, ...cacheDirs])
      await rm(dir, { recursive: true, force: true });
  }
}

/**
 * `diff` of a one-file change (one app's deployment) against HEAD, beside a
 * full `build all` of the same repository: wall time and renders.
 */
async function benchDiff(apps: number): Promise<Array<[string, string]>> {
  // The flat layout: apps/app-NNNN/{deployment,service}.yaml, two objects each.
  const { root } = await layout("flat", apps);
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

interface Run {
  wallMs: number;
  cpuMs: number;
  peakRssMiB: number;
  processes: number;
  exitCode: number;
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

function medianRun(runs: Run[]): Run {
  return {
    wallMs: median(runs.map((r) => r.wallMs)),
    cpuMs: median(runs.map((r) => r.cpuMs)),
    peakRssMiB: median(runs.map((r) => r.peakRssMiB)),
    processes: median(runs.map((r) => r.processes)),
    exitCode: Math.max(...runs.map((r) => r.exitCode)),
  };
}

/**
 * What starting a command through timed() costs on top of the command: the
 * median wall time of `true` run the same way (set by main before anything
 * is measured).
 */
let spawnOverheadMs = 0;

/**
 * Run argv under GNU time: user+sys CPU of it and its children, and peak
 * RSS. Wall time is measured here, to the microsecond, less the overhead of
 * starting a command (GNU time's %e counts hundredths of a second: a tenth of
 * a ~70 ms replay).
 */
async function timed(
  argv: string[],
  options: { cwd: string; env?: Record<string, string>; input?: string },
): Promise<Run & { stderr: string }> {
  const started = performance.now();
  const result = await execa("/usr/bin/time", ["-f", "BENCH %e %U %S %M", ...argv], {
    cwd: options.cwd,
    env: options.env,
    input: options.input,
    stdout: "ignore",
    reject: false,
    maxBuffer: 256 * 1024 * 1024,
  });
  const elapsedMs = performance.now() - started;
  const stderr = String(result.stderr);
  const line = stderr.split("\n").findLast((l) => l.startsWith("BENCH "));
  if (!line) throw new Error(`no timing for ${argv.join(" ")}: ${stderr.slice(-2000)}`);
  const [, , user, sys, rss] = line.split(" ").map(Number);
  const processes = stderr.split("\n").filter((l) => l.includes('"msg":"command finished"')).length;
  return {
    wallMs: Math.max(0, elapsedMs - spawnOverheadMs),
    cpuMs: (user! + sys!) * 1000,
    peakRssMiB: rss! / 1024,
    processes,
    exitCode: result.exitCode ?? -1,
    stderr,
  };
}

/** The floor: plain `kustomize build` of every spec.path, one process each, same concurrency. */
async function floor(repo: GeneratedRepo, concurrency: number, nodeStartMs: number): Promise<Run> {
  const kustomize = await findTool("kustomize");
  const run = await timed(
    ["xargs", "-P", String(concurrency), "-I{}", kustomize.file, "build", "{}"],
    { cwd: repo.root, input: repo.specPaths.join("\n") + "\n" },
  );
  return { ...run, wallMs: run.wallMs + nodeStartMs, processes: repo.specPaths.length };
}

/**
 * flux-local's command line under timed(), at `concurrency`, with the JSON
 * debug log on stderr (its "command finished" lines count the processes).
 */
function fluxLocal(
  args: string[],
  concurrency: number,
  options: { cwd: string; env?: Record<string, string> },
): Promise<Run & { stderr: string }> {
  return timed(
    [
      process.execPath,
      path.join(projectRoot, "bin", "flux-local.js"),
      ...args,
      "--concurrency",
      String(concurrency),
      "--verbose",
      "--log-format",
      "json",
    ],
    options,
  );
}

async function ours(
  repo: GeneratedRepo,
  mode: "worker" | "process",
  cacheDir: string,
  concurrency: number,
  runCache = true,
): Promise<Run> {
  const run = await fluxLocal(["build", "ks", "--path", repo.path], concurrency, {
    cwd: repo.root,
    env: {
      FLUX_LOCAL_CACHE_DIR: cacheDir,
      FLUX_LOCAL_KUSTOMIZE_WORKER: mode === "worker" ? "1" : "0",
      FLUX_LOCAL_RUN_CACHE: runCache ? "1" : "0",
    },
  });
  if (run.exitCode !== 0) {
    const errors = run.stderr
      .split("\n")
      .filter((l) => !l.includes("command finished") && !l.startsWith("BENCH"))
      .slice(-5);
    console.error(
      `  ! ${repo.shape} ${repo.size} (${mode}) exited ${run.exitCode}: ${errors.join(" | ")}`,
    );
  }
  return run;
}

interface Row {
  shape: string;
  size: number;
  kustomizations: number;
  mode: "worker" | "process";
  floor: Run;
  cold: Run;
  /** The same run again: replayed by the run cache. */
  warm: Run;
  /** The same run again without the run cache: the render cache alone. */
  warmRender: Run;
  ratio: number;
  coldOverWarm: number;
}

async function benchShape(
  repo: GeneratedRepo,
  modes: Array<"worker" | "process">,
  runs: number,
  concurrency: number,
  nodeStartMs: number,
): Promise<Row[]> {
  const rows: Row[] = [];
  const floors: Run[] = [];
  for (let i = 0; i < runs; i++) floors.push(await floor(repo, concurrency, nodeStartMs));
  const floorRun = medianRun(floors);
  for (const mode of modes) {
    const colds: Run[] = [];
    const warms: Run[] = [];
    const warmRenders: Run[] = [];
    for (let i = 0; i < runs; i++) {
      const cacheDir = await mkdtemp(path.join(os.tmpdir(), "flux-local-bench-cache-"));
      try {
        colds.push(await ours(repo, mode, cacheDir, concurrency));
        warmRenders.push(await ours(repo, mode, cacheDir, concurrency, false));
        warms.push(await ours(repo, mode, cacheDir, concurrency));
      } finally {
        await rm(cacheDir, { recursive: true, force: true });
      }
    }
    const cold = medianRun(colds);
    const warm = medianRun(warms);
    const warmRender = medianRun(warmRenders);
    rows.push({
      shape: repo.shape,
      size: repo.size,
      kustomizations: repo.specPaths.length,
      mode,
      floor: floorRun,
      cold,
      warm,
      warmRender,
      ratio: cold.wallMs / floorRun.wallMs,
      coldOverWarm: cold.wallMs / warm.wallMs,
    });
  }
  return rows;
}

function printRows(rows: Row[]): void {
  const header = [
    "shape",
    "n",
    "ks",
    "mode",
    "floor ms",
    "floor CPU",
    "cold ms",
    "cold CPU",
    "ratio",
    "CPU ratio",
    "warm ms",
    "warm CPU",
    "cold/warm",
    "CPU cold/warm",
    "render-cache ms/CPU",
    "procs cold/warm",
    "peak RSS MiB",
  ];
  const table = rows.map((r) => [
    r.shape,
    String(r.size),
    String(r.kustomizations),
    r.mode,
    r.floor.wallMs.toFixed(0),
    r.floor.cpuMs.toFixed(0),
    r.cold.wallMs.toFixed(0),
    r.cold.cpuMs.toFixed(0),
    r.ratio.toFixed(2),
    (r.cold.cpuMs / r.floor.cpuMs).toFixed(2),
    r.warm.wallMs.toFixed(0),
    r.warm.cpuMs.toFixed(0),
    r.coldOverWarm.toFixed(1),
    (r.cold.cpuMs / Math.max(r.warm.cpuMs, 1)).toFixed(1),
    `${r.warmRender.wallMs.toFixed(0)}/${r.warmRender.cpuMs.toFixed(0)}`,
    `${r.cold.processes}/${r.warm.processes}`,
    r.cold.peakRssMiB.toFixed(0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(line(header));
  console.log(`| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`);
  for (const row of table) console.log(line(row));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      apps: { type: "string", default: "100" },
      sizes: { type: "string", default: "100,300" },
      chain: { type: "string", default: "" },
      shapes: { type: "string", default: "home-ops,flat,nested,chain" },
      runs: { type: "string", default: "3" },
      process: { type: "boolean", default: false },
      releases: { type: "string", default: "50" },
      "diff-apps": { type: "string", default: "500" },
      json: { type: "string" },
      unset: { type: "string", default: "" },
    },
  });
  const unset = values.unset.split(",").filter(Boolean);
  for (const name of unset) delete process.env[name];
  const cpus = os.availableParallelism();
  const concurrency = Math.max(2, cpus);
  const runs = Number(values.runs);
  const sizes = values.sizes.split(",").map(Number);
  const shapes = values.shapes.split(",");
  const idle: Run[] = [];
  for (let i = 0; i < 7; i++) idle.push(await timed(["true"], { cwd: projectRoot }));
  spawnOverheadMs = medianRun(idle).wallMs;
  const starts: Run[] = [];
  for (let i = 0; i < 7; i++)
    starts.push(await timed([process.execPath, "-e", ""], { cwd: projectRoot }));
  const nodeStartMs = medianRun(starts).wallMs;
  const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: projectRoot })
    .toString()
    .trim();
  const extraCa = process.env.NODE_EXTRA_CA_CERTS ? ", NODE_EXTRA_CA_CERTS set" : "";
  const without = unset.length ? `, without ${unset.join(", ")}` : "";
  const machine = `${os.cpus()[0]?.model ?? "?"}, ${cpus} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}, node ${process.version}${extraCa}${without}`;
  console.log(
    `flux-local bench at ${commit}: ${machine}; load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")} (other work on the machine inflates wall times; compare ratios of one run)`,
  );
  console.log(
    `concurrency ${concurrency}, median of ${runs} runs; floor = plain \`kustomize build\` of every spec.path (+${nodeStartMs.toFixed(0)} ms node start-up); wall times measured to the microsecond, less ${spawnOverheadMs.toFixed(1)} ms of starting a command; cold = empty cache, warm = the same run again (replayed by the run cache), render-cache = again with FLUX_LOCAL_RUN_CACHE=0 (the render cache alone)`,
  );
  const rows: Row[] = [];
  const plan: Array<() => Promise<GeneratedRepo>> = [];
  if (shapes.includes("home-ops")) plan.push(() => homeOps(Number(values.apps)));
  for (const shape of ["flat", "nested", "chain"] as const) {
    if (!shapes.includes(shape)) continue;
    const shapeSizes =
      shape === "chain" && values.chain ? values.chain.split(",").map(Number) : sizes;
    for (const size of shapeSizes) plan.push(() => layout(shape, size));
  }
  for (const make of plan) {
    const repo = await make();
    try {
      const modes: Array<"worker" | "process"> = values.process
        ? ["worker", "process"]
        : ["worker"];
      const shapeRows = await benchShape(repo, modes, runs, concurrency, nodeStartMs);
      rows.push(...shapeRows);
      printRows(shapeRows);
    } finally {
      await rm(repo.root, { recursive: true, force: true });
    }
  }
  console.log("\nall shapes:");
  printRows(rows);
  const helm =
    Number(values.releases) > 0
      ? await benchHelm(Number(values.releases), runs, concurrency, nodeStartMs)
      : [];
  const diff = Number(values["diff-apps"]) > 0 ? await benchDiff(Number(values["diff-apps"])) : [];
  for (const [k, v] of [...helm, ...diff]) console.log(`  ${k.padEnd(36)} ${v}`);
  const jsonFile = path.resolve(
    values.json ?? path.join(projectRoot, ".cache", "bench", `${commit}.json`),
  );
  await mkdir(path.dirname(jsonFile), { recursive: true });
  await writeFile(
    jsonFile,
    JSON.stringify({ commit, machine, concurrency, runs, nodeStartMs, rows, helm, diff }, null, 2),
  );
  console.log(`\nresults: ${jsonFile}`);
}

await main();
