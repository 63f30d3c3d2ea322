/**
 * Seeding a run from what discovery found: the Flux Kustomizations and sources
 * under `--path` (everything else is discovered by building them), the
 * problems found on the way (invalid objects, conflicting duplicates), which
 * GitRepositories are this checkout, and which scanned Kustomizations another
 * one will produce. Pure: the run puts the result in the store.
 */
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import {
  apiGroup,
  FLUX_GROUPS,
  refString,
  SOURCE_KINDS,
  type KubeObject,
  type ObjectRef,
  type Origin,
} from "../flux/objects.js";
import { describeSchemaError, FLUX_SCHEMAS, GitRepository, Kustomization } from "../flux/schema.js";
import { referencesOf } from "./references.js";
import { producedRef } from "../store/produced.js";
import type { ScannedObject } from "./scan.js";

/** A problem not tied to one reconciled object: unreadable YAML, duplicates. */
export interface Issue {
  severity: "error" | "warning";
  reason:
    "ParseFailed" | "InvalidObject" | "DuplicateObject" | "RemovedApiVersion" | "InvalidExpression";
  message: string;
  file?: string;
  line?: number;
  object?: string;
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
export interface SeedObject {
  ref: ObjectRef;
  object: KubeObject;
  origin: Origin;
}

export interface Seed {
  objects: SeedObject[];
  issues: Issue[];
  /** GitRepositories (store keys) known to be the local checkout. */
  localGitRepositories: Set<string>;
  /** Scanned Kustomization key -> the key of the scanned Kustomization that will produce it. */
  expectedProducers: Map<string, string>;
}

/** What the run starts from, given the scanned documents and the checkout's root. */
export function planSeed(scanned: ScannedObject[], repoRoot: string): Seed {
  const seedPlan: Seed = {
    objects: [],
    issues: [],
    localGitRepositories: new Set(),
    expectedProducers: new Map(),
  };
  const { issues } = seedPlan;
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
    const invalidRef = parsed.success ? undefined : producedRef(object, "flux-system");
    if (invalidRef && !firstSeen.has(refString(invalidRef))) {
      // Seeded as written: its reconcile fails it (InvalidObject, naming the
      // object and its file), once, even when a parent renders it again.
      seedPlan.objects.push({
        ref: invalidRef,
        object,
        origin: { file: item.file, line: item.line },
      });
      continue;
    }
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
    seedPlan.objects.push({ ref, object, origin: { file: item.file, line: item.line } });
  }
  const kept = [...firstSeen.values()];
  markLocalGitRepositories(seedPlan, repoRoot, kept);
  const seeded = new Set(seedPlan.objects.map((o) => refString(o.ref)));
  markExpectedProducers(seedPlan, repoRoot, kept, seeded);
  return seedPlan;
}

/**
 * For each scanned Kustomization, the scanned Kustomization (of the local
 * checkout) with the deepest spec.path holding its file: the one that will
 * produce it. Never a pair that would wait on each other.
 */
function markExpectedProducers(
  plan: Seed,
  repoRoot: string,
  scanned: ScannedObject[],
  seeded: ReadonlySet<string>,
): void {
  const kustomizations = scanned
    .filter(
      (s) =>
        s.object.kind === "Kustomization" &&
        apiGroup(s.object.apiVersion) === FLUX_GROUPS.kustomize,
    )
    .flatMap((s) => {
      const ks = Kustomization.safeParse(s.object).data;
      if (!ks) return [];
      const { spec } = ks;
      const namespace = ks.metadata.namespace ?? "flux-system";
      const source = refString({
        kind: spec.sourceRef.kind,
        namespace: spec.sourceRef.namespace ?? namespace,
        name: spec.sourceRef.name,
      });
      const local =
        spec.sourceRef.kind === "GitRepository" &&
        (plan.localGitRepositories.has(source) || !seeded.has(source));
      return [
        {
          key: refString({ kind: "Kustomization", namespace, name: ks.metadata.name }),
          file: s.file,
          dir: local ? path.join(repoRoot, spec.path ?? "") : undefined,
          dependsOn: new Set(
            (spec.dependsOn ?? []).map((d) =>
              refString({
                kind: "Kustomization",
                namespace: d.namespace ?? namespace,
                name: d.name,
              }),
            ),
          ),
        },
      ];
    });
  // The Kustomizations of the checkout by their spec.path's folder: a child's
  // producer is looked up along its file's folders, deepest first (comparing
  // every pair cost ~1 s at 1,000 Kustomizations).
  const byDir = new Map<string, Array<(typeof kustomizations)[number]>>();
  for (const ks of kustomizations) {
    if (!ks.dir) continue;
    const dir = path.resolve(ks.dir);
    const list = byDir.get(dir);
    if (list) list.push(ks);
    else byDir.set(dir, [ks]);
  }
  for (const child of kustomizations) {
    let best: (typeof kustomizations)[number] | undefined;
    for (let dir = path.dirname(path.resolve(child.file)); !best;) {
      best = byDir.get(dir)?.find((parent) => parent !== child && !parent.dependsOn.has(child.key));
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
    if (best) plan.expectedProducers.set(child.key, best.key);
  }
  // Break any chain that leads back to itself.
  for (const [child] of plan.expectedProducers) {
    const seen = new Set([child]);
    let current = plan.expectedProducers.get(child);
    while (current && !seen.has(current)) {
      seen.add(current);
      current = plan.expectedProducers.get(current);
    }
    if (current && current === child) plan.expectedProducers.delete(child);
  }
}

/**
 * Which GitRepositories are this checkout: flux-system/flux-system, any with the
 * same URL, and any that a Kustomization found here builds itself from (its own
 * file lies under its spec.path in that source).
 */
function markLocalGitRepositories(plan: Seed, repoRoot: string, scanned: ScannedObject[]): void {
  const local = plan.localGitRepositories;
  const gitRepos = scanned.filter((s) => s.object.kind === "GitRepository");
  const urlOf = (s: ScannedObject) => GitRepository.safeParse(s.object).data?.spec.url;
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
    const spec = Kustomization.safeParse(s.object).data?.spec;
    if (spec?.sourceRef.kind !== "GitRepository") continue;
    const built = path.join(repoRoot, spec.path ?? "");
    // A path at the root holds every file: no evidence which repository it is
    // (Kustomizations of remote sources often build "./").
    if (path.resolve(built) === path.resolve(repoRoot)) continue;
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
