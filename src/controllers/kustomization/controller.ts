/**
 * The Kustomization controller. For each Flux Kustomization: wait for its
 * dependencies and its source, build its path with kustomize, substitute
 * variables, apply commonMetadata, wipe Secret values, record the output as its
 * artifact, and add the Flux objects, ConfigMaps and Secrets it produced to the
 * store so they are reconciled in turn (discovery to a fixed point).
 */
import path from "node:path";
import {
  ARTIFACT_SOURCE_KINDS,
  refDisplay,
  type KubeObject,
  type ObjectRef,
} from "../../flux/objects.js";
import type { Kustomization } from "../../flux/schema.js";
import { IgnoreRulesCache } from "../../discovery/scan.js";
import { LineFinder } from "../../discovery/lines.js";
import { kustomizeBuild } from "../../render/kustomize/build.js";
import { FileFacts } from "../../render/file-facts.js";
import { isInside } from "../../flux/paths.js";
import { withPart, type RenderInputs } from "../../render/inputs.js";
import { wipeSecrets } from "../../render/secrets.js";
import { substituteObjects, unsetVariables } from "../../render/substitute/postbuild.js";
import type { SourceArtifact, StoreEntry } from "../../store/store.js";
import { isStoredKind } from "../../store/produced.js";
import { InputError, RenderError } from "../../util/errors.js";
import { inSources, isWanted, startWork, SUPERSEDED, type RunContext } from "../context.js";
import { awaitDependencies, awaitSourceArtifact } from "../dependencies.js";
import type { Outcome, Reconciler } from "../harness.js";

import { gatherVariables, MissingReferenceError } from "./variables.js";
import { limits } from "../../util/limits.js";

export const KUSTOMIZE_NAME_LABEL = "kustomize.toolkit.fluxcd.io/name";
export const KUSTOMIZE_NAMESPACE_LABEL = "kustomize.toolkit.fluxcd.io/namespace";

export class KustomizationController implements Reconciler<"Kustomization"> {
  readonly kinds = ["Kustomization"] as const;

  // One run reads each folder's ignore files once, whatever number of builds.
  private readonly ignoreRules = new IgnoreRulesCache();
  // One run looks at each file builds read once, whatever number of builds read it.
  private readonly files = new FileFacts();
  private readonly lines = new LineFinder((file) => {
    try {
      // Within the size bound; unreadable: the object keeps its file without a line.
      return this.files.stat(file).size > limits.maxFileBytes
        ? undefined
        : this.files.read(file).toString("utf8");
    } catch {
      return undefined;
    }
  });

  constructor(private readonly ctx: RunContext) {}

  async reconcile(ks: Kustomization, entry: StoreEntry, generation: number): Promise<Outcome> {
    const { spec } = ks;
    const wanted = this.ctx.wanted;
    if (wanted && !isWanted(wanted, entry.ref)) {
      // Built only if the one asked for needs it (or may be produced by it).
      const needed = await this.ctx.manager.hold(entry.key);
      if (entry.generation !== generation) return SUPERSEDED;
      if (!needed) {
        return {
          phase: "Skipped",
          reason: "Skipped",
          message: `not needed for ${wanted.kind} ${wanted.namespace ? `${wanted.namespace}/` : ""}${wanted.name}`,
        };
      }
    }

    const producer = this.ctx.expectedProducers.get(entry.key);
    if (producer && !entry.origin.producer) {
      await this.ctx.manager.awaitReady(producer, entry.key);
      // Its producer rendered a different definition: that one is reconciled instead.
      if (entry.generation !== generation) return SUPERSEDED;
    }

    const namespace = entry.ref.namespace;
    const from = spec.sourceRef;
    const fromNamespace = from.namespace ?? namespace;
    if (!inSources(this.ctx.options.sources, from.kind, fromNamespace, from.name)) {
      return {
        phase: "Skipped",
        reason: "NotInSources",
        message: `not in --sources (built from ${from.kind} ${fromNamespace}/${from.name})`,
      };
    }
    const dependency = await awaitDependencies(this.ctx, entry, "Kustomization", spec.dependsOn);
    if (dependency) return dependency;

    const source = await this.resolveSource(entry, ks);
    if ("phase" in source) return source;

    const dir = path.join(source.path, spec.path ?? "");
    const shownPath = spec.path ?? "./";
    if (!isInside(source.path, dir)) {
      return {
        phase: "Failed",
        reason: "PathNotFound",
        message: `spec.path ${shownPath} escapes the source root`,
      };
    }
    if (!this.files.isDirectory(dir)) {
      const what = this.files.exists(dir)
        ? `is a file, not a folder (Flux builds a folder, e.g. ${path.posix.dirname(shownPath)})`
        : `not found in the source (${dir})`;
      if (this.ctx.options.skipInvalidKustomizationPaths) {
        return {
          phase: "Skipped",
          reason: "PathNotFound",
          message: `spec.path ${shownPath} ${what} (skipped)`,
        };
      }
      return {
        phase: "Failed",
        reason: "PathNotFound",
        message: `spec.path ${shownPath} ${what}; use --skip-invalid-kustomization-paths to skip`,
      };
    }

    const superseded = startWork(this.ctx, entry, generation, "building");
    if (superseded) return superseded;
    let objects: KubeObject[];
    let files: Array<string | undefined>;
    let lines: Array<number | undefined>;
    let inputs: RenderInputs | undefined;
    try {
      const built = await this.ctx.manager.queue.add(
        () =>
          kustomizeBuild({
            root: source.path,
            dir,
            spec,
            ignore: () => this.ignoreRules.at(source.path, dir),
            scratchDir: this.ctx.options.scratchDir,
            signal: this.ctx.options.signal,
            runner: this.ctx.kustomize,
            ...(this.ctx.options.renderMemo ? { memo: this.ctx.options.renderMemo } : {}),
            onInputs: (i) => {
              inputs = i;
            },
            cache: this.ctx.kustomizeCache,
            facts: this.files,
            filesFor: needsFile,
          }),
        { throwOnTimeout: true },
      );
      objects = built.map((b) => b.object);
      // Files of a generated artifact are named by where they were copied from.
      files = built.map((b) =>
        this.checkoutFile(source.path, b.file ? originalFile(source, b.file) : b.file),
      );
      // Lines only for the objects that join the store (the others are never
      // reported on their own): most built files are not read again.
      lines = built.map((b, i) => {
        const file = files[i];
        return file && path.isAbsolute(file) && isStoredKind(b.object)
          ? this.lines.lineOf(file, b.object)
          : undefined;
      });
    } catch (err) {
      if (err instanceof InputError || err instanceof RenderError) {
        return { phase: "Failed", reason: "BuildFailed", message: err.message };
      }
      throw err;
    }

    const notes: string[] = [];
    const warnings: string[] = [];
    try {
      if (spec.postBuild) {
        const built = objects;
        const defaultNamespace = spec.targetNamespace ?? namespace;
        const variables = await gatherVariables(spec.postBuild, namespace, {
          // In a cluster, objects this Kustomization applies exist from its previous
          // run; offline, its own output stands in for them.
          lookup: async (kind, name) =>
            built.find(
              (o) =>
                o.kind === kind &&
                o.metadata?.name === name &&
                (o.metadata.namespace ?? defaultNamespace) === namespace,
            ) ?? (await this.lookup(kind, namespace, name, entry.key)),
          missingSecret: (name) => this.missingSecret(namespace, name),
        });
        notes.push(...variables.notes);
        if (inputs) inputs = withPart(inputs, "substitutions", Object.fromEntries(variables.vars));
        if (variables.missingSecrets.length > 0) {
          const unset = unsetVariables(built, variables.vars);
          warnings.push(
            `substituteFrom ${variables.missingSecrets.join(", ")} is not in the repository (it exists only in the cluster); ${unset.length > 0 ? `variables left unset: ${unset.join(", ")}` : "no variable it could set is used"}`,
          );
        }
        objects = substituteObjects(objects, variables.vars, {
          strict: this.ctx.options.strictSubstitute,
        });
      }
    } catch (err) {
      if (err instanceof RenderError || err instanceof MissingReferenceError) {
        return { phase: "Failed", reason: "SubstitutionFailed", message: err.message };
      }
      throw err;
    }

    objects = objects.map((obj) => labelled(obj, ks, namespace));
    objects = wipeSecrets(objects);
    return {
      phase: "Ready",
      reason: "ReconciliationSucceeded",
      message: notes.join("; "),
      ...(warnings.length > 0 ? { warnings } : {}),
      artifact: { type: "render", objects, path: dir, ...(inputs ? { inputs } : {}) },
      produced: { objects, defaultNamespace: spec.targetNamespace ?? namespace, files, lines },
    };
  }

  /**
   * Where a built object's file is, for its origin: absolute when it is in
   * this checkout (its line can then be found, and every view shows it
   * relative to where it runs or to the repository root); otherwise relative
   * to its source's root, as kustomize reported it (a cached artifact's
   * folder means nothing to the user).
   */
  private checkoutFile(sourceRoot: string, file: string | undefined): string | undefined {
    if (file === undefined) return undefined;
    const abs = path.resolve(sourceRoot, file);
    return isInside(this.ctx.options.repoRoot, abs) ? abs : file;
  }

  private async resolveSource(
    entry: StoreEntry,
    ks: Kustomization,
  ): Promise<SourceArtifact | Outcome> {
    const ref = ks.spec.sourceRef;
    const sourceRef: ObjectRef = {
      kind: ref.kind,
      namespace: ref.namespace ?? entry.ref.namespace,
      name: ref.name,
    };
    if (!ARTIFACT_SOURCE_KINDS.has(sourceRef.kind)) {
      return {
        phase: "Failed",
        reason: "InvalidObject",
        message: `spec.sourceRef.kind ${sourceRef.kind} is not a source of manifests`,
      };
    }
    return awaitSourceArtifact(this.ctx, entry, sourceRef, `source ${refDisplay(sourceRef)}`);
  }

  private async lookup(
    kind: "ConfigMap" | "Secret",
    namespace: string,
    name: string,
    waiter: string,
  ) {
    const entry = await this.ctx.manager.awaitPresence({ kind, namespace, name }, waiter);
    return entry?.object;
  }

  private missingSecret(namespace: string, name: string): "tolerate" | "warn" | "fail" {
    if (this.ctx.options.allowMissingSecrets) return "tolerate";
    if (producedInCluster(this.ctx, namespace, name)) return "tolerate";
    return this.ctx.options.strictSubstitute ? "fail" : "warn";
  }
}

/** True if an in-repo ExternalSecret or SealedSecret creates this Secret in the cluster. */
export function producedInCluster(ctx: RunContext, namespace: string, name: string): boolean {
  for (const entry of ctx.store.list()) {
    for (const obj of entry.artifact?.type === "render" ? entry.artifact.objects : []) {
      if (obj.kind !== "ExternalSecret" && obj.kind !== "SealedSecret") continue;
      const md = obj.metadata ?? {};
      if ((md.namespace ?? entry.ref.namespace) !== namespace) continue;
      const spec = (obj.spec ?? {}) as {
        target?: { name?: string };
        template?: { metadata?: { name?: string } };
      };
      const target =
        obj.kind === "ExternalSecret"
          ? (spec.target?.name ?? md.name)
          : (spec.template?.metadata?.name ?? md.name);
      if (target === name) return true;
    }
  }
  return false;
}

/** `namespace`: the Kustomization's own (inherited from its producer when it names none). */
function labelled(obj: KubeObject, ks: Kustomization, namespace: string): KubeObject {
  const common = ks.spec.commonMetadata;
  const md = { ...(obj.metadata ?? {}) };
  md.labels = {
    ...(md.labels ?? {}),
    ...(common?.labels ?? {}),
    [KUSTOMIZE_NAME_LABEL]: ks.metadata.name,
    [KUSTOMIZE_NAMESPACE_LABEL]: namespace,
  };
  if (common?.annotations) md.annotations = { ...(md.annotations ?? {}), ...common.annotations };
  return { ...obj, metadata: md };
}

/**
 * Built objects whose file is kept: those that join the store, or may once
 * substitution has set their apiVersion or kind. The others are never
 * reported on their own.
 */
function needsFile(object: KubeObject): boolean {
  return isStoredKind(object) || `${object.apiVersion ?? ""}${object.kind ?? ""}`.includes("$");
}

/** The file a build read, or the original it was copied from into a generated artifact. */
function originalFile(source: SourceArtifact, file: string): string {
  if (!source.origins) return file;
  const rel = path.relative(source.path, file).split(path.sep).join("/");
  return source.origins.get(rel) ?? file;
}
