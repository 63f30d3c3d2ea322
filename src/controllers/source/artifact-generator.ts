/**
 * The ArtifactGenerator controller (source-watcher). For each generator: wait
 * for its sources' artifacts (the local checkout, fetched sources, other
 * ExternalArtifacts), build each of `spec.artifacts` as a directory with the
 * copy semantics of ../../artifacts/generator.ts, keep it in the cache under
 * its content digest, and publish the ExternalArtifacts it generates. The
 * Source controller then resolves those to the built directories, so a
 * Kustomization or HelmRelease on an ExternalArtifact renders with no
 * `--sources` mapping.
 */
import { cp, mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import { FLUX_GROUPS, refString, type KubeObject, type ObjectRef } from "../../flux/objects.js";
import type { ArtifactGenerator } from "../../flux/schema.js";
import { applyCopyOperations, GeneratorError, hashDirectory } from "../../artifacts/generator.js";
import { publishProduced } from "../../store/produced.js";
import type { SourceArtifact, StoreEntry } from "../../store/store.js";
import type { Status } from "../../store/status.js";
import { errorMessage } from "../../util/errors.js";
import { startWork, type RunContext } from "../context.js";
import { awaitSourceArtifact } from "../dependencies.js";
import type { Outcome, Reconciler } from "../harness.js";

/** The annotation that suspends a generator (`Disabled`). */
export const GENERATOR_RECONCILE_ANNOTATION = "source.extensions.fluxcd.io/reconcile";
export const GENERATED_NAMESPACE = "external-artifacts";

export class ArtifactGeneratorController implements Reconciler<"ArtifactGenerator"> {
  readonly kinds = ["ArtifactGenerator"] as const;

  constructor(private readonly ctx: RunContext) {}

  recover(err: unknown): Outcome {
    if (err instanceof GeneratorError) {
      return { phase: "Failed", reason: "BuildFailed", message: err.message };
    }
    throw err;
  }

  async reconcile(
    generator: ArtifactGenerator,
    entry: StoreEntry,
    generation: number,
  ): Promise<Outcome> {
    const outcome = await this.build(generator, entry, generation);
    if (outcome.phase !== "Ready" && outcome.phase !== "Pending") {
      this.publishFailed(generator, entry, outcome);
    }
    return outcome;
  }

  /**
   * A generator that failed (or is suspended) still names its ExternalArtifacts:
   * publish them with its failure, so what builds from them says why.
   */
  private publishFailed(generator: ArtifactGenerator, entry: StoreEntry, status: Status): void {
    const namespace = entry.ref.namespace;
    const objects = generator.spec.artifacts.map((spec) => {
      this.ctx.generatedArtifacts.set(
        refString({ kind: "ExternalArtifact", namespace, name: spec.name }),
        {
          phase: "Failed",
          reason: "ArtifactFailed",
          message: `ArtifactGenerator ${namespace}/${entry.ref.name} is ${status.phase.toLowerCase()}`,
          rootCause: status.rootCause ?? entry.key,
        },
      );
      return externalArtifact(generator, namespace, spec.name, undefined, undefined);
    });
    publishProduced(this.ctx.store, entry.key, {
      objects,
      defaultNamespace: namespace,
      ...(entry.origin.file ? { files: objects.map(() => entry.origin.file) } : {}),
    });
  }

  private async build(
    generator: ArtifactGenerator,
    entry: StoreEntry,
    generation: number,
  ): Promise<Outcome> {
    if (generator.metadata.annotations?.[GENERATOR_RECONCILE_ANNOTATION]?.startsWith("Disable")) {
      return {
        phase: "Suspended",
        reason: "Suspended",
        message: `${GENERATOR_RECONCILE_ANNOTATION}: Disabled`,
      };
    }
    const invalid = validate(generator);
    if (invalid) return { phase: "Failed", reason: "InvalidObject", message: invalid };

    const namespace = entry.ref.namespace;
    const sources = new Map<string, SourceArtifact>();
    for (const source of generator.spec.sources) {
      const ref: ObjectRef = {
        kind: source.kind,
        namespace: source.namespace ?? namespace,
        name: source.name,
      };
      const artifact = await awaitSourceArtifact(
        this.ctx,
        entry,
        ref,
        `source @${source.alias} (${source.kind} ${ref.namespace}/${ref.name})`,
      );
      if ("phase" in artifact) return artifact;
      sources.set(source.alias, artifact);
    }

    const superseded = startWork(this.ctx, entry, generation, "generating");
    if (superseded) return superseded;
    const roots = new Map([...sources].map(([alias, a]) => [alias, a.path]));
    const objects: KubeObject[] = [];
    const built: string[] = [];
    for (const spec of generator.spec.artifacts) {
      const staging = await mkdtemp(path.join(this.ctx.options.scratchDir, "artifact-"));
      try {
        const dir = path.join(staging, spec.name);
        const origins = new Map<string, string>();
        await applyCopyOperations(spec.copy, roots, dir, origins);
        const digest = await hashDirectory(dir);
        const cached = await this.ctx.artifacts.cache.dirs.ensure(
          GENERATED_NAMESPACE,
          `sha256:${digest}`,
          (target) => cp(dir, target, { recursive: true }),
        );
        const revision = spec.revision
          ? sources.get(spec.revision.slice(1))?.revision
          : `latest@sha256:${digest}`;
        const origin = spec.originRevision
          ? sources.get(spec.originRevision.slice(1))?.revision
          : undefined;
        this.ctx.generatedArtifacts.set(
          refString({ kind: "ExternalArtifact", namespace, name: spec.name }),
          { type: "source", revision: revision ?? "", path: cached.path, local: false, origins },
        );
        objects.push(externalArtifact(generator, namespace, spec.name, revision, origin));
        built.push(`${spec.name}@${revision ?? ""}`);
      } catch (err) {
        if (err instanceof GeneratorError) {
          return {
            phase: "Failed",
            reason: "BuildFailed",
            message: `artifact ${spec.name}: ${err.message}`,
          };
        }
        throw new GeneratorError(`artifact ${spec.name}: ${errorMessage(err)}`, { cause: err });
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    }
    return {
      phase: "Ready",
      reason: "ReconciliationSucceeded",
      message: `generated ${built.join(", ")}`,
      artifact: { type: "render", objects },
      produced: {
        objects,
        defaultNamespace: namespace,
        ...(entry.origin.file ? { files: objects.map(() => entry.origin.file) } : {}),
      },
    };
  }
}

/** What source-watcher refuses before building: duplicate aliases or names, bad revisions. */
function validate(generator: ArtifactGenerator): string | undefined {
  const aliases = new Set<string>();
  for (const s of generator.spec.sources) {
    if (aliases.has(s.alias)) return `duplicate source alias '${s.alias}'`;
    aliases.add(s.alias);
  }
  const names = new Set<string>();
  for (const a of generator.spec.artifacts) {
    if (names.has(a.name)) return `duplicate artifact name '${a.name}'`;
    names.add(a.name);
    for (const [field, value] of [
      ["revision", a.revision],
      ["originRevision", a.originRevision],
    ] as const) {
      if (value !== undefined && !(value.startsWith("@") && aliases.has(value.slice(1)))) {
        return `artifact ${a.name}: ${field} ${value} must be @alias of a source`;
      }
    }
    for (const op of a.copy) {
      const alias = op.from.slice(1, op.from.indexOf("/"));
      if (!aliases.has(alias)) return `artifact ${a.name}: source alias '${alias}' not found`;
    }
  }
  return undefined;
}

/** The ExternalArtifact a generator creates in the cluster (spec.sourceRef names the generator). */
function externalArtifact(
  generator: ArtifactGenerator,
  namespace: string,
  name: string,
  revision: string | undefined,
  originRevision: string | undefined,
): KubeObject {
  return {
    apiVersion: `${FLUX_GROUPS.source}/v1`,
    kind: "ExternalArtifact",
    metadata: { name, namespace },
    spec: {
      sourceRef: {
        apiVersion: generator.apiVersion,
        kind: "ArtifactGenerator",
        name: generator.metadata.name,
        namespace,
      },
    },
    ...(revision
      ? {
          status: {
            artifact: {
              revision,
              ...(originRevision
                ? { metadata: { "org.opencontainers.image.revision": originRevision } }
                : {}),
            },
          },
        }
      : {}),
  };
}
