/**
 * One run over a repository: read the manifests under `--path`, seed the store,
 * let the controllers reconcile to a fixed point, and return the store with
 * every issue found on the way. Never stops at the first failure.
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { defaultCacheDir } from "./cache/dir-cache.js";
import { HelmReleaseController } from "./controllers/helmrelease/controller.js";
import type { HelmRenderOptions } from "./controllers/helmrelease/options.js";
import { KustomizationController } from "./controllers/kustomization/controller.js";
import { producedRef } from "./controllers/kustomization/produced.js";
import { Manager } from "./controllers/manager.js";
import { SOURCE_KINDS, SourceController } from "./controllers/source/controller.js";
import type { RunContext, RunOptions, SourceMapping } from "./controllers/context.js";
import { scanManifests, type ScannedObject } from "./discovery/scan.js";
import { FLUX_GROUPS, apiGroup, refString, type ObjectRef } from "./flux/objects.js";
import { Store } from "./store/store.js";
import { describeSchemaError, FLUX_SCHEMAS } from "./flux/schema.js";
import { referencesOf } from "./render/kustomize/safety.js";
import { UsageError } from "./util/errors.js";
import { isDeepStrictEqual } from "node:util";

export interface RenderRequest {
  /** Directory to read (`--path`), relative to cwd or absolute. */
  path: string;
  cwd?: string;
  sources?: SourceMapping[];
  strictSubstitute?: boolean;
  skipInvalidKustomizationPaths?: boolean;
  allowMissingSecrets?: boolean;
  concurrency?: number;
  /** Root of the cache shared across runs (default: defaultCacheDir()). */
  cacheDir?: string;
  /** Use only the cache for remote sources. */
  offline?: boolean;
  /** Plain Secret manifests with source credentials. */
  secretFiles?: string[];
  /** Docker config file for registry credentials. */
  registryConfig?: string;
  signal?: AbortSignal;
  /** Render HelmReleases with helm (`build hr`, `--enable-helm`); without it they are only listed. */
  helm?: HelmRenderOptions;
  /** Called with the run's store before anything is added to it (progress displays). */
  onStore?: (store: Store) => void;
}

/** A problem not tied to one reconciled object: unreadable YAML, duplicates. */
export interface Issue {
  severity: "error" | "warning";
  reason: "ParseFailed" | "InvalidObject" | "DuplicateObject";
  message: string;
  file?: string;
  line?: number;
  object?: string;
}

export interface RenderResult {
  store: Store;
  issues: Issue[];
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
  const target = path.resolve(cwd, request.path);
  try {
    if (!(await stat(target)).isDirectory()) throw new Error();
  } catch {
    throw new UsageError(`--path ${request.path}: no such directory`);
  }
  const repoRoot = (await findRepoRoot(target)) ?? target;
  const scratchDir = await mkdtemp(path.join(os.tmpdir(), "flux-local-"));
  const options: RunOptions = {
    path: target,
    repoRoot,
    sources: (request.sources ?? []).map((s) => ({ ...s, path: path.resolve(cwd, s.path) })),
    strictSubstitute: request.strictSubstitute ?? false,
    skipInvalidKustomizationPaths: request.skipInvalidKustomizationPaths ?? false,
    allowMissingSecrets: request.allowMissingSecrets ?? false,
    concurrency: request.concurrency ?? Math.max(2, os.availableParallelism()),
    scratchDir,
    cacheDir: path.resolve(cwd, request.cacheDir ?? defaultCacheDir()),
    offline: request.offline ?? false,
    secretFiles: (request.secretFiles ?? []).map((f) => path.resolve(cwd, f)),
    ...(request.registryConfig
      ? { registryConfig: path.resolve(cwd, request.registryConfig) }
      : {}),
    signal: request.signal,
  };
  const store = new Store();
  request.onStore?.(store);
  const manager = new Manager(store, options.concurrency);
  const ctx: RunContext = {
    store,
    manager,
    options,
    localGitRepositories: new Set(),
    expectedProducers: new Map(),
  };
  const kustomization = new KustomizationController(ctx);
  manager.register(new SourceController(ctx));
  manager.register(kustomization);
  const helmRelease = request.helm ? new HelmReleaseController(ctx, request.helm) : undefined;
  if (helmRelease) manager.register(helmRelease);

  const issues: Issue[] = [];
  try {
    const scan = await scanManifests(repoRoot, target);
    for (const err of scan.errors) {
      issues.push({
        severity: "error",
        reason: "ParseFailed",
        message: err.message,
        file: err.file,
        line: err.line,
      });
    }
    seed(ctx, scan.objects, issues);
    manager.start();
    await manager.idle();
  } finally {
    await rm(scratchDir, { recursive: true, force: true });
  }
  return {
    store,
    issues,
    options,
    controllers: { kustomization, ...(helmRelease ? { helmRelease } : {}) },
  };
}

const SEED_KINDS = new Set<string>(["Kustomization", ...SOURCE_KINDS]);

/**
 * Files that some kustomization uses as a patch: their documents are partial
 * objects, not definitions, and never seed the run.
 */
function patchFiles(scanned: ScannedObject[]): Set<string> {
  const files = new Set<string>();
  for (const item of scanned) {
    if (apiGroup(item.object.apiVersion) !== "kustomize.config.k8s.io") continue;
    for (const ref of referencesOf(item.object)) {
      if (ref.field.startsWith("patches"))
        files.add(path.resolve(path.dirname(item.file), ref.value));
    }
  }
  return files;
}

/** Put the scanned Flux Kustomizations and sources in the store. */
function seed(ctx: RunContext, scanned: ScannedObject[], issues: Issue[]): void {
  const firstSeen = new Map<string, ScannedObject>();
  const patches = patchFiles(scanned);
  for (const item of scanned) {
    const { object } = item;
    if (!object.kind || !object.apiVersion) continue; // not a Kubernetes object (values files, configs)
    if (patches.has(item.file)) continue;
    const group = apiGroup(object.apiVersion);
    if (!(Object.values(FLUX_GROUPS) as string[]).includes(group)) continue;
    // Only Flux Kustomizations and sources seed the run; everything else is
    // discovered through the Kustomizations that build it.
    if (!SEED_KINDS.has(object.kind)) continue;
    const schema = FLUX_SCHEMAS[`${group}/${object.kind}` as keyof typeof FLUX_SCHEMAS];
    const parsed = schema.safeParse(object);
    if (!parsed.success) {
      issues.push({
        severity: "error",
        reason: "InvalidObject",
        message: `invalid ${object.kind}${object.metadata?.name ? ` ${object.metadata.name}` : ""}: ${describeSchemaError(parsed.error)}`,
        file: item.file,
        line: item.line,
      });
      continue;
    }
    const ref = producedRef(object, "flux-system");
    if (!ref) continue;
    const key = refString(ref);
    const previous = firstSeen.get(key);
    if (previous) {
      if (!isDeepStrictEqual(previous.object, object)) {
        issues.push({
          severity: "error",
          reason: "DuplicateObject",
          message: `${ref.kind} ${ref.namespace}/${ref.name} is defined twice with different content: ${previous.file}:${previous.line} and ${item.file}:${item.line} (the first is used; point --path at one cluster)`,
          file: item.file,
          line: item.line,
          object: key,
        });
      }
      continue;
    }
    firstSeen.set(key, item);
    ctx.store.put(ref, object, { file: item.file, line: item.line });
  }
  markLocalGitRepositories(ctx, [...firstSeen.values()]);
  markExpectedProducers(ctx, [...firstSeen.values()]);
}

/**
 * For each scanned Kustomization, the scanned Kustomization (of the local
 * checkout) with the deepest spec.path holding its file: the one that will
 * produce it. Never a pair that would wait on each other.
 */
function markExpectedProducers(ctx: RunContext, scanned: ScannedObject[]): void {
  const kustomizations = scanned
    .filter(
      (s) =>
        s.object.kind === "Kustomization" &&
        apiGroup(s.object.apiVersion) === FLUX_GROUPS.kustomize,
    )
    .map((s) => {
      const spec = (s.object.spec ?? {}) as {
        path?: string;
        sourceRef?: { kind?: string; name?: string; namespace?: string };
        dependsOn?: Array<{ name?: string; namespace?: string }>;
      };
      const namespace = s.object.metadata?.namespace ?? "flux-system";
      const source = refString({
        kind: spec.sourceRef?.kind ?? "",
        namespace: spec.sourceRef?.namespace ?? namespace,
        name: spec.sourceRef?.name ?? "",
      });
      const local =
        spec.sourceRef?.kind === "GitRepository" &&
        (ctx.localGitRepositories.has(source) || !ctx.store.has(source));
      return {
        key: refString({ kind: "Kustomization", namespace, name: s.object.metadata?.name ?? "" }),
        file: s.file,
        dir: local ? path.join(ctx.options.repoRoot, spec.path ?? "") : undefined,
        dependsOn: new Set(
          (spec.dependsOn ?? []).map((d) =>
            refString({
              kind: "Kustomization",
              namespace: d.namespace ?? namespace,
              name: d.name ?? "",
            }),
          ),
        ),
      };
    });
  for (const child of kustomizations) {
    let best: (typeof kustomizations)[number] | undefined;
    for (const parent of kustomizations) {
      if (parent === child || !parent.dir || parent.dependsOn.has(child.key)) continue;
      const rel = path.relative(parent.dir, child.file);
      if (rel.startsWith("..") || path.isAbsolute(rel)) continue;
      if (!best || (best.dir?.length ?? 0) < parent.dir.length) best = parent;
    }
    if (best) ctx.expectedProducers.set(child.key, best.key);
  }
  // Break any chain that leads back to itself.
  for (const [child] of ctx.expectedProducers) {
    const seen = new Set([child]);
    let current = ctx.expectedProducers.get(child);
    while (current && !seen.has(current)) {
      seen.add(current);
      current = ctx.expectedProducers.get(current);
    }
    if (current && current === child) ctx.expectedProducers.delete(child);
  }
}

/**
 * Which GitRepositories are this checkout: flux-system/flux-system, any with the
 * same URL, and any that a Kustomization found here builds itself from (its own
 * file lies under its spec.path in that source).
 */
function markLocalGitRepositories(ctx: RunContext, scanned: ScannedObject[]): void {
  const local = ctx.localGitRepositories;
  const gitRepos = scanned.filter((s) => s.object.kind === "GitRepository");
  const urlOf = (s: ScannedObject) => ((s.object.spec ?? {}) as { url?: string }).url;
  const bootstrap = gitRepos.find(
    (s) =>
      s.object.metadata?.name === "flux-system" &&
      (s.object.metadata.namespace ?? "flux-system") === "flux-system",
  );
  const localUrls = new Set<string>();
  if (bootstrap) {
    local.add("GitRepository/flux-system/flux-system");
    const url = urlOf(bootstrap);
    if (url) localUrls.add(url);
  }
  for (const s of scanned) {
    if (
      s.object.kind !== "Kustomization" ||
      apiGroup(s.object.apiVersion) !== FLUX_GROUPS.kustomize
    )
      continue;
    const spec = (s.object.spec ?? {}) as {
      path?: string;
      sourceRef?: { kind?: string; name?: string; namespace?: string };
    };
    if (spec.sourceRef?.kind !== "GitRepository" || !spec.sourceRef.name) continue;
    const built = path.join(ctx.options.repoRoot, spec.path ?? "");
    // A path at the root holds every file: no evidence which repository it is
    // (Kustomizations of remote sources often build "./").
    if (path.resolve(built) === path.resolve(ctx.options.repoRoot)) continue;
    const rel = path.relative(built, s.file);
    if (rel.startsWith("..") || path.isAbsolute(rel)) continue;
    const ref: ObjectRef = {
      kind: "GitRepository",
      namespace: spec.sourceRef.namespace ?? s.object.metadata?.namespace ?? "flux-system",
      name: spec.sourceRef.name,
    };
    local.add(refString(ref));
  }
  for (const s of gitRepos) {
    const url = urlOf(s);
    if (url && localUrls.has(url)) {
      local.add(
        refString({
          kind: "GitRepository",
          namespace: s.object.metadata?.namespace ?? "flux-system",
          name: s.object.metadata?.name ?? "",
        }),
      );
    }
  }
}
