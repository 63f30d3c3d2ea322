/**
 * One run over a repository: read the manifests under `--path`, seed the store,
 * let the controllers reconcile to a fixed point, and return the store with
 * every issue found on the way. Never stops at the first failure.
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { defaultCacheDir } from "./artifacts/cache/dir-cache.js";
import { createArtifactContext } from "./artifacts/context.js";
import { RenderCache } from "./artifacts/cache/render-cache.js";
import type { HelmReleaseController } from "./controllers/helmrelease/controller.js";
import type { HelmRenderOptions } from "./controllers/helmrelease/options.js";
import { KustomizationController } from "./controllers/kustomization/controller.js";
import { harness } from "./controllers/harness.js";
import { Manager } from "./controllers/manager.js";
import { SourceController } from "./controllers/source/controller.js";
import { isWanted } from "./controllers/context.js";
import { lazyReconciler } from "./controllers/lazy.js";
import { loadPart } from "./util/lazy.js";
import type { RunContext, RunOptions, SourceMapping, WantedObject } from "./controllers/context.js";
import { scanFile, scanManifests, type ScannedObject } from "./discovery/scan.js";
import { planSeed, type Issue } from "./discovery/seed.js";
import { expressionProblems } from "./flux/cel.js";
import { apiGroup, FLUX_GROUPS, refDisplay } from "./flux/objects.js";
import { apiVersionProblem } from "./flux/versions.js";
import { createKustomizeRunner, defaultConcurrency } from "./render/kustomize/runner.js";
import { isTerminal } from "./store/status.js";
import { Store } from "./store/store.js";
import type { RenderMemo } from "./render/memo.js";
import { UsageError } from "./util/errors.js";
import { removeOnInterrupt } from "./util/interrupt.js";
import { isDirectory } from "./util/fs.js";

export interface RenderRequest {
  /** Directory to read (`--path`), relative to cwd or absolute. */
  path: string;
  cwd?: string;
  sources?: SourceMapping[];
  /** `--rset-inputs`: input sets (a YAML list in a file) for a ResourceSet `name` or `namespace/name`. */
  rsetInputs?: Array<{ selector: string; path: string }>;
  strictSubstitute?: boolean;
  skipInvalidKustomizationPaths?: boolean;
  allowMissingSecrets?: boolean;
  concurrency?: number;
  /** Root of the cache shared across runs (default: defaultCacheDir()). */
  cacheDir?: string;
  /** Fetch every source even when nothing in the run uses it (default: only what is needed). */
  fetchAllSources?: boolean;
  /** Use only the cache for remote sources. */
  offline?: boolean;
  /** Hash every cached file on use, not only those whose size or time changed. */
  verifyCache?: boolean;
  /**
   * Build only this object and what it needs (`build ks|hr NAME`, `get
   * ks|hr NAME`): the Kustomizations that produce it, its dependencies,
   * whatever produces what it waits for; the other Kustomizations are skipped.
   */
  wanted?: WantedObject;
  /** Neither read nor write the render cache (`--no-cache`). */
  noCache?: boolean;
  /** Plain Secret manifests with source credentials. */
  secretFiles?: string[];
  /** Docker config file for registry credentials. */
  registryConfig?: string;
  signal?: AbortSignal;
  /** Render HelmReleases with helm (`build hr`, `--enable-helm`); without it they are only listed. */
  helm?: HelmRenderOptions;
  /** Builds and renders shared by inputs fingerprint (both sides of a diff). */
  renderMemo?: RenderMemo;
  /** Called with the run's store before anything is added to it (progress displays). */
  onStore?: (store: Store) => void;
}

export type { Issue };

export interface RenderResult {
  store: Store;
  issues: Issue[];
  /** What reading `--path` found: manifest files, and Flux objects among their documents. */
  scanned: { files: number; fluxObjects: number };
  options: RunOptions;
  controllers: { kustomization: KustomizationController; helmRelease?: HelmReleaseController };
}

export async function findRepoRoot(start: string): Promise<string | undefined> {
  let dir = start;
  for (;;) {
    try {
      await stat(path.join(dir, ".git"));
      return dir;
    } catch {
      // keep walking up
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export async function render(request: RenderRequest): Promise<RenderResult> {
  const cwd = request.cwd ?? process.cwd();
  const target = await clusterFolder(cwd, request.path);
  for (const m of request.rsetInputs ?? []) {
    try {
      if (!(await stat(path.resolve(cwd, m.path))).isFile()) throw new Error();
    } catch {
      throw new UsageError(`--rset-inputs ${m.selector}=${m.path}: no such file`);
    }
  }
  for (const mapping of request.sources ?? []) {
    if (mapping.path !== undefined && !(await isDirectory(path.resolve(cwd, mapping.path))))
      throw new UsageError(`--sources ${mapping.selector}=${mapping.path}: no such directory`);
  }
  const gitRoot = await findRepoRoot(target);
  const repoRoot = gitRoot ?? target;
  const scratchDir = await mkdtemp(path.join(os.tmpdir(), "flux-local-"));
  const forgetScratch = removeOnInterrupt(scratchDir);
  const options: RunOptions = {
    path: target,
    repoRoot,
    inGitCheckout: gitRoot !== undefined,
    sources: (request.sources ?? []).map((s) =>
      s.path === undefined ? { selector: s.selector } : { ...s, path: path.resolve(cwd, s.path) },
    ),
    rsetInputs: (request.rsetInputs ?? []).map((s) => ({ ...s, path: path.resolve(cwd, s.path) })),
    strictSubstitute: request.strictSubstitute ?? false,
    skipInvalidKustomizationPaths: request.skipInvalidKustomizationPaths ?? false,
    allowMissingSecrets: request.allowMissingSecrets ?? false,
    concurrency: request.concurrency ?? defaultConcurrency(),
    scratchDir,
    cacheDir: path.resolve(cwd, request.cacheDir ?? defaultCacheDir()),
    offline: request.offline ?? false,
    fetchAllSources: request.fetchAllSources ?? false,
    verifyCache: request.verifyCache ?? false,
    noCache: request.noCache ?? false,
    secretFiles: (request.secretFiles ?? []).map((f) => path.resolve(cwd, f)),
    ...(request.registryConfig
      ? { registryConfig: path.resolve(cwd, request.registryConfig) }
      : {}),
    signal: request.signal,
    ...(request.renderMemo ? { renderMemo: request.renderMemo } : {}),
  };
  const store = new Store();
  request.onStore?.(store);
  const manager = new Manager(store, options.concurrency);
  const ctx: RunContext = {
    store,
    manager,
    options,
    artifacts: createArtifactContext(options),
    localGitRepositories: new Set(),
    expectedProducers: new Map(),
    kustomize: await createKustomizeRunner(options.concurrency),
    generatedArtifacts: new Map(),
    ...(request.wanted ? { wanted: request.wanted } : {}),
    ...(options.noCache
      ? {}
      : {
          kustomizeCache: new RenderCache(options.cacheDir, "kustomize"),
          helmCache: new RenderCache(options.cacheDir, "helm"),
        }),
  };
  const wanted = request.wanted;
  if (wanted) {
    // Without helm rendering a HelmRelease is done once it is found.
    const found = wanted.kind === "HelmRelease" && !request.helm;
    manager.wantedDone = () =>
      store
        .list(wanted.kind)
        .some((e) => isWanted(wanted, e.ref) && (found || isTerminal(e.status.phase)));
    manager.wantedHint = (key) => key.split("/").at(-1) === wanted.name;
  }
  const kustomization = new KustomizationController(ctx);
  manager.register(harness(ctx, new SourceController(ctx)));
  // Controllers of kinds many repositories do not use are loaded on their first object.
  const generator = () => import("./controllers/source/artifact-generator.js");
  const resourceSets = () => import("./controllers/resourceset/controller.js");
  manager.register(
    harness(
      ctx,
      lazyReconciler(
        ["ArtifactGenerator"],
        "the ArtifactGenerator controller",
        "BuildFailed",
        async () => new (await generator()).ArtifactGeneratorController(ctx),
      ),
    ),
  );
  manager.register(harness(ctx, kustomization));
  manager.register(
    harness(
      ctx,
      lazyReconciler(
        ["ResourceSet"],
        "the ResourceSet controller",
        "BuildFailed",
        async () => new (await resourceSets()).ResourceSetController(ctx),
      ),
    ),
  );
  manager.register(
    harness(
      ctx,
      lazyReconciler(
        ["ResourceSetInputProvider"],
        "the ResourceSet controller",
        "BuildFailed",
        async () => new (await resourceSets()).InputProviderController(),
      ),
    ),
  );
  const helmRelease = request.helm
    ? new (
        await loadPart(
          "the HelmRelease controller",
          () => import("./controllers/helmrelease/controller.js"),
        )
      ).HelmReleaseController(ctx, request.helm)
    : undefined;
  if (helmRelease) manager.register(harness(ctx, helmRelease));

  const issues: Issue[] = [];
  const scanned = { files: 0, fluxObjects: 0 };
  try {
    const scan = await scanManifests(repoRoot, target);
    scanned.files = scan.files;
    scanned.fluxObjects = scan.objects.filter(({ object }) =>
      (Object.values(FLUX_GROUPS) as string[]).includes(apiGroup(object.apiVersion ?? "")),
    ).length;
    for (const err of scan.errors) {
      issues.push({
        severity: "error",
        reason: "ParseFailed",
        message: err.message,
        file: err.file,
        line: err.line,
      });
    }
    const seeded = planSeed(scan.objects, repoRoot);
    issues.push(...seeded.issues);
    for (const id of seeded.localGitRepositories) ctx.localGitRepositories.add(id);
    for (const [child, producer] of seeded.expectedProducers)
      ctx.expectedProducers.set(child, producer);
    for (const { ref, object, origin } of seeded.objects) store.put(ref, object, origin);
    manager.start();
    await manager.idle();
    await addDefinitionLines(store, scan.objects);
    issues.push(...definitionIssues(store));
  } finally {
    await ctx.kustomize?.close();
    await helmRelease?.close();
    await rm(scratchDir, { recursive: true, force: true });
    forgetScratch();
  }
  return {
    store,
    issues,
    scanned,
    options,
    controllers: { kustomization, ...(helmRelease ? { helmRelease } : {}) },
  };
}

/**
 * The line of each produced object whose producer named only its file (objects
 * that do not seed the run: ResourceSets, HelmReleases, ArtifactGenerators, ...):
 * the document of that file with the same kind, name and namespace (or none).
 * Files outside `--path` (built from elsewhere in the checkout, or copied into a
 * generated artifact) are read for it once.
 */
async function addDefinitionLines(store: Store, scanned: readonly ScannedObject[]): Promise<void> {
  const byFile = new Map<string, readonly ScannedObject[]>();
  for (const item of scanned) {
    byFile.set(item.file, [...(byFile.get(item.file) ?? []), item]);
  }
  for (const entry of store.list()) {
    const { file, line } = entry.origin;
    if (!file || line) continue;
    let objects = byFile.get(file);
    if (!objects) {
      objects = await scanFile(file).catch(() => []);
      byFile.set(file, objects);
    }
    const found = objects.find(
      ({ object }) =>
        object.kind === entry.ref.kind &&
        object.metadata?.name === entry.ref.name &&
        (object.metadata.namespace ?? entry.ref.namespace) === entry.ref.namespace,
    );
    if (found) entry.origin = { ...entry.origin, line: found.line };
  }
}

/**
 * What the objects of a finished run say about themselves: API versions Flux
 * 2.8 removed (warnings; they rendered), and `healthCheckExprs` Flux would not
 * parse (errors; invalid `readyExpr`s fail their object instead).
 */
export function definitionIssues(store: Store): Issue[] {
  const issues: Issue[] = [];
  for (const entry of store.list()) {
    const { file, line } = entry.origin;
    const where = { ...(file ? { file } : {}), ...(line ? { line } : {}), object: entry.key };
    const version = apiVersionProblem(entry.object.apiVersion ?? "", entry.ref.kind);
    if (version?.severity === "warning") {
      issues.push({
        severity: "warning",
        reason: "RemovedApiVersion",
        message: `${refDisplay(entry.ref)} ${version.message}`,
        ...where,
      });
    }
    for (const problem of expressionProblems(entry.object)) {
      if (problem.path[1] !== "healthCheckExprs") continue;
      issues.push({
        severity: "error",
        reason: "InvalidExpression",
        message: `${refDisplay(entry.ref)}: ${problem.field}: ${problem.message}`,
        ...where,
      });
    }
  }
  return issues;
}

/** `--path` resolved: a folder, or a usage error that says what it is instead. */
export async function clusterFolder(cwd: string, given: string): Promise<string> {
  const target = path.resolve(cwd, given);
  const kind = await stat(target).then(
    (s) => (s.isDirectory() ? "folder" : "file"),
    () => "missing",
  );
  if (kind === "folder") return target;
  throw new UsageError(
    kind === "file"
      ? `--path ${given} is a file: give the folder of a cluster (--path ${path.dirname(given)})`
      : `--path ${given}: no such directory`,
  );
}
