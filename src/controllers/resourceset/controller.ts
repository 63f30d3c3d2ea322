/**
 * Flux Operator's ResourceSets, rendered by the real engine: `flux-operator
 * build resourceset` (the Flux Operator CLI, built by `npm run setup`). For
 * each ResourceSet: wait for what it depends on and for the
 * ResourceSetInputProviders it selects (`spec.inputsFrom`, by name or label
 * selector, in its namespace), hand the CLI its inputs, and add the objects it
 * generates to the store, where Kustomizations, HelmReleases and sources
 * among them are reconciled in turn.
 *
 * Inputs offline:
 * - inline `spec.inputs`, and `Static` providers (`spec.defaultValues`): as in
 *   the cluster (`--inputs-from-provider`);
 * - other providers: their `status.exportedInputs` when the manifest has them;
 * - `--rset-inputs NAME=FILE`: a YAML list of input sets that replaces the
 *   inline inputs, as the CLI's `--inputs-from` does;
 * - else the ResourceSet is Skipped, with a reason that says how to give them.
 *
 * Exported inputs are combined with the others by us, as the operator combines
 * them (./inputs.ts), and handed to the CLI inline (it takes Static providers
 * only): they render as in the cluster, except that the top-level
 * `inputs.provider` names the ResourceSet. No input set at all generates
 * nothing, as in the cluster. Without the CLI, ResourceSets are Skipped.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { boundMessage, dumpYamlStream, parseYamlDocuments } from "../../discovery/yaml.js";
import { limits } from "../../util/limits.js";
import type { KubeObject, ObjectRef } from "../../flux/objects.js";
import {
  ResourceSetInputProvider as ProviderSchema,
  type LabelSelector,
  type ResourceSet,
  type ResourceSetInputProvider,
} from "../../flux/schema.js";
import { checkResourceSetReadyExpr } from "../../flux/cel.js";
import { run } from "../../exec/run.js";
import { findTool, MissingToolError } from "../../exec/tools.js";
import type { StoreEntry } from "../../store/store.js";
import type { Status } from "../../store/status.js";
import { errorMessage, FluxLocalError, SubprocessError } from "../../util/errors.js";
import { startWork, type RunContext } from "../context.js";
import { dependencyFailure } from "../dependencies.js";
import type { Outcome, Reconciler } from "../harness.js";
import {
  combineInputs,
  PROVIDER_API_VERSION,
  staticProviderSets,
  type InputSet,
  type InputSource,
} from "./inputs.js";

/** The annotation that stops the operator from reconciling an object. */
export const RECONCILE_ANNOTATION = "fluxcd.controlplane.io/reconcile";

/** `--rset-inputs`: input sets for one ResourceSet (`name` or `namespace/name`). */
export interface InputsMapping {
  selector: string;
  /** Absolute path of a YAML list of input sets. */
  path: string;
}

export function findInputsMapping(
  mappings: readonly InputsMapping[],
  namespace: string,
  name: string,
): InputsMapping | undefined {
  return mappings.find((m) => m.selector === name || m.selector === `${namespace}/${name}`);
}

function disabled(metadata: { annotations?: Record<string, string> | undefined }): boolean {
  return metadata.annotations?.[RECONCILE_ANNOTATION]?.toLowerCase() === "disabled";
}

/** Kubernetes label selector semantics. */
export function selects(selector: LabelSelector, labels: Record<string, string> = {}): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const expr of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, expr.key);
    const value = labels[expr.key];
    const values = expr.values ?? [];
    if (expr.operator === "Exists" && !has) return false;
    if (expr.operator === "DoesNotExist" && has) return false;
    if (expr.operator === "In" && !(has && values.includes(value ?? ""))) return false;
    if (expr.operator === "NotIn" && has && values.includes(value ?? "")) return false;
  }
  return true;
}

/** ResourceSetInputProviders: Static ones are ready; others only with exported inputs. */
export class InputProviderController implements Reconciler<"ResourceSetInputProvider"> {
  readonly kinds = ["ResourceSetInputProvider"] as const;

  reconcile(provider: ResourceSetInputProvider): Promise<Outcome> {
    const type = provider.spec?.type ?? "";
    if (disabled(provider.metadata)) {
      return Promise.resolve({
        phase: "Suspended",
        reason: "Suspended",
        message: `${RECONCILE_ANNOTATION}: disabled`,
      });
    }
    if (type === "Static") {
      return Promise.resolve({ phase: "Ready", reason: "ReconciliationSucceeded", message: "" });
    }
    const exported = provider.status?.exportedInputs;
    if (exported) {
      return Promise.resolve({
        phase: "Ready",
        reason: "ReconciliationSucceeded",
        message: `${exported.length} exported input set(s) from the manifest's status`,
      });
    }
    return Promise.resolve({
      phase: "Skipped",
      reason: "Skipped",
      message: `type ${type || "(none)"}: its inputs come from the cluster`,
    });
  }
}

export class ResourceSetController implements Reconciler<"ResourceSet"> {
  readonly kinds = ["ResourceSet"] as const;

  constructor(private readonly ctx: RunContext) {}

  recover(err: unknown): Outcome {
    if (err instanceof FluxLocalError) {
      return { phase: "Failed", reason: "BuildFailed", message: err.message };
    }
    throw err;
  }

  async reconcile(rset: ResourceSet, entry: StoreEntry, generation: number): Promise<Outcome> {
    if (disabled(rset.metadata)) {
      return {
        phase: "Suspended",
        reason: "Suspended",
        message: `${RECONCILE_ANNOTATION}: disabled`,
      };
    }
    const namespace = entry.ref.namespace;
    // The operator parses each readyExpr (with `ready: true`) before anything else.
    for (const [i, dep] of (rset.spec?.dependsOn ?? []).entries()) {
      const error = checkResourceSetReadyExpr(dep);
      if (error) {
        return {
          phase: "Failed",
          reason: "InvalidObject",
          message: `spec.dependsOn[${i}].readyExpr: ${error}`,
        };
      }
    }
    const dependency = await this.awaitDependsOn(rset, entry);
    if (dependency) return dependency;

    const providers = await this.selectedProviders(rset, entry);
    if ("phase" in providers) return providers;

    const mapping = findInputsMapping(this.ctx.options.rsetInputs, namespace, entry.ref.name);
    const statics: KubeObject[] = [];
    const sources: InputSource[] = [];
    let nonStatic = false;
    for (const { object, entry: providerEntry } of providers) {
      const name = providerEntry.ref.name;
      const source = {
        apiVersion: PROVIDER_API_VERSION,
        kind: "ResourceSetInputProvider",
        name,
        namespace,
      };
      if (object.spec?.type === "Static") {
        statics.push(providerEntry.object);
        sources.push({ ...source, sets: staticProviderSets(name, object.spec.defaultValues) });
        continue;
      }
      if (mapping) continue; // the user's file gives the inputs
      const sets = object.status?.exportedInputs;
      if (!sets) {
        return {
          phase: "Skipped",
          reason: "Skipped",
          message: `ResourceSetInputProvider ${namespace}/${name} (type ${object.spec?.type ?? "unset"}) gets its inputs in the cluster: give the input sets with --rset-inputs ${namespace}/${entry.ref.name}=FILE (a YAML list), or status.exportedInputs in the provider's manifest`,
        };
      }
      nonStatic = true;
      sources.push({ ...source, sets });
    }

    // The input sets the operator would render, combined as it does: to know
    // when there are none (the operator then generates nothing, where the CLI
    // would render the templates once without inputs), and to hand the CLI
    // what it cannot compute itself (exported inputs of other providers).
    const inline = mapping ? await readInputsFile(mapping) : (rset.spec?.inputs ?? []);
    const strategy = rset.spec?.inputStrategy;
    const combined = combineInputs(
      strategy?.name ?? "Flatten",
      strategy?.name === "Permute" && strategy.includeEmptyProviders === true,
      {
        apiVersion: PROVIDER_API_VERSION,
        kind: "ResourceSet",
        name: entry.ref.name,
        namespace,
        sets: inline,
      },
      sources,
    );
    const from = mapping ? ` (inputs from ${mapping.path})` : "";
    if ((rset.spec?.inputsFrom?.length ?? 0) > 0 && combined.length === 0) {
      return {
        phase: "Ready",
        reason: "ReconciliationSucceeded",
        message: `0 objects: no input sets${from} (the selected providers export none)`,
        artifact: { type: "render", objects: [] },
      };
    }

    const superseded = startWork(this.ctx, entry, generation, "building");
    if (superseded) return superseded;
    let objects: KubeObject[];
    try {
      objects = await this.build(entry, rset, {
        statics,
        ...(mapping ? { inputsFile: mapping.path } : {}),
        ...(nonStatic ? { combined } : {}),
      });
    } catch (err) {
      if (err instanceof MissingToolError) {
        return { phase: "Skipped", reason: "Skipped", message: `not rendered: ${err.message}` };
      }
      throw err;
    }
    return {
      phase: "Ready",
      reason: "ReconciliationSucceeded",
      message: `${objects.length} object(s) from ${combined.length} input set(s)${from}`,
      artifact: { type: "render", objects },
      produced: { objects, defaultNamespace: namespace },
    };
  }

  /** `spec.dependsOn`: objects of a kind this run reconciles must end Ready (when `ready`). */
  private async awaitDependsOn(rset: ResourceSet, entry: StoreEntry): Promise<Status | undefined> {
    for (const dep of rset.spec?.dependsOn ?? []) {
      const ref: ObjectRef = {
        kind: dep.kind,
        namespace: dep.namespace ?? entry.ref.namespace,
        name: dep.name,
      };
      const key = `${ref.kind}/${ref.namespace}/${ref.name}`;
      if (!this.ctx.manager.handles(dep.kind)) continue; // not rendered here: nothing to wait for
      if (dep.ready !== true && dep.readyExpr === undefined) {
        const present = await this.ctx.manager.awaitPresence(ref, entry.key);
        if (!present) {
          return {
            phase: "Failed",
            reason: "DependencyNotFound",
            message: `dependency ${dep.kind} ${ref.namespace}/${ref.name} not found`,
            rootCause: key,
          };
        }
        continue;
      }
      const status = await this.ctx.manager.awaitReady(ref, entry.key);
      if (status.phase !== "Ready") {
        return dependencyFailure(
          `dependency ${dep.kind} ${ref.namespace}/${ref.name}`,
          key,
          status,
          entry.key,
        );
      }
    }
    return undefined;
  }

  /** The providers `spec.inputsFrom` selects, once each is reconciled. */
  private async selectedProviders(
    rset: ResourceSet,
    entry: StoreEntry,
  ): Promise<Array<{ object: ResourceSetInputProvider; entry: StoreEntry }> | Status> {
    const namespace = entry.ref.namespace;
    const chosen = new Map<string, StoreEntry>();
    let quiet = false;
    for (const ref of rset.spec?.inputsFrom ?? []) {
      if (ref.name) {
        const target: ObjectRef = { kind: "ResourceSetInputProvider", namespace, name: ref.name };
        const found = await this.ctx.manager.awaitPresence(target, entry.key);
        if (!found) {
          return {
            phase: "Failed",
            reason: "DependencyNotFound",
            message: `ResourceSetInputProvider ${namespace}/${ref.name} not found`,
          };
        }
        chosen.set(found.key, found);
        continue;
      }
      // A selector must see every provider the run produces: wait until
      // nothing else can progress (once), then list them.
      if (!quiet) {
        await this.ctx.manager.awaitQuiet(entry.key);
        quiet = true;
      }
      for (const candidate of this.ctx.store.list("ResourceSetInputProvider")) {
        if (candidate.ref.namespace !== namespace) continue;
        if (selects(ref.selector ?? {}, candidate.object.metadata?.labels)) {
          chosen.set(candidate.key, candidate);
        }
      }
    }
    const out: Array<{ object: ResourceSetInputProvider; entry: StoreEntry }> = [];
    for (const provider of chosen.values()) {
      await this.ctx.manager.awaitReady(provider.ref, entry.key);
      const parsed = ProviderSchema.safeParse(provider.object);
      if (!parsed.success) {
        return {
          phase: "Failed",
          reason: "DependencyNotReady",
          message: `ResourceSetInputProvider ${provider.ref.namespace}/${provider.ref.name} is invalid`,
          rootCause: provider.key,
        };
      }
      out.push({ object: parsed.data, entry: provider });
    }
    return out;
  }

  /**
   * Run `flux-operator build resourceset` and read the objects it prints.
   * With `combined` (a non-Static provider takes part), the CLI gets a copy
   * of the ResourceSet with those input sets inline and the Flatten strategy:
   * it renders them unchanged, except that it tags each with `provider` = the
   * ResourceSet.
   */
  private async build(
    entry: StoreEntry,
    rset: ResourceSet,
    inputs: { statics: KubeObject[]; inputsFile?: string; combined?: InputSet[] },
  ): Promise<KubeObject[]> {
    const tool = await findTool("flux-operator");
    const dir = await mkdtemp(path.join(this.ctx.options.scratchDir, "rset-"));
    try {
      const rsetFile = path.join(dir, "resourceset.yaml");
      const args = [...tool.prefix, "build", "resourceset", "-f", rsetFile];
      if (inputs.combined) {
        const spec: Record<string, unknown> = {
          ...(entry.object.spec as Record<string, unknown>),
          inputs: inputs.combined,
          inputStrategy: { name: "Flatten" },
        };
        delete spec.inputsFrom;
        await writeFile(rsetFile, dumpYamlStream([{ ...entry.object, spec }]));
      } else {
        await writeFile(rsetFile, dumpYamlStream([entry.object]));
        if (inputs.statics.length > 0) {
          const file = path.join(dir, "providers.yaml");
          await writeFile(file, dumpYamlStream(inputs.statics));
          args.push("--inputs-from-provider", file);
        }
        if (inputs.inputsFile) {
          args.push("--inputs-from", inputs.inputsFile);
        } else if (inputs.statics.length === 0 && rset.spec?.inputsFrom?.length) {
          // The CLI wants inputs for inputsFrom; with no provider selected, the
          // inline inputs are all there are, as in the cluster.
          const file = path.join(dir, "inputs.yaml");
          await writeFile(file, dumpYamlStream([rset.spec.inputs ?? []]));
          args.push("--inputs-from", file);
        }
      }
      let stdout: string;
      try {
        ({ stdout } = await this.ctx.manager.queue.add(
          () =>
            run(tool.file, args, {
              cwd: dir,
              ...(this.ctx.options.signal ? { signal: this.ctx.options.signal } : {}),
            }),
          { throwOnTimeout: true },
        ));
      } catch (err) {
        if (err instanceof SubprocessError) {
          const why = err.stderr.replace(/^✗\s*/gm, "").trim() || errorMessage(err);
          // Every object disabled (fluxcd.controlplane.io/reconcile: disabled):
          // the operator applies nothing, the CLI calls that an error.
          if (/^no objects were generated$/m.test(why)) return [];
          throw new FluxLocalError(`flux-operator build resourceset: ${why}`, { cause: err });
        }
        throw err;
      }
      return readObjects(stdout);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** `--rset-inputs` FILE: a YAML list of input sets (maps). */
async function readInputsFile(mapping: InputsMapping): Promise<InputSet[]> {
  let text: string;
  try {
    text = await readFile(mapping.path, "utf8");
  } catch (err) {
    throw new FluxLocalError(
      `--rset-inputs ${mapping.selector}=${mapping.path}: ${errorMessage(err)}`,
    );
  }
  const where = `--rset-inputs ${mapping.selector}=${mapping.path}`;
  let value: unknown;
  try {
    const docs = parseAllDocuments(text, { prettyErrors: false });
    const [doc] = docs;
    if (docs.length !== 1 || !doc || doc.errors.length > 0) {
      const why = doc?.errors[0]?.message.split("\n")[0];
      throw new FluxLocalError(
        `${where}: ${why ?? "expected one YAML document (a list of input sets)"}`,
      );
    }
    value = doc.toJS({ maxAliasCount: limits.maxAliasCount });
  } catch (err) {
    if (err instanceof FluxLocalError) throw err;
    throw new FluxLocalError(`${where}: ${boundMessage(err)}`);
  }
  if (
    !Array.isArray(value) ||
    !value.every((v) => v !== null && typeof v === "object" && !Array.isArray(v))
  ) {
    throw new FluxLocalError(`${where}: not a YAML list of input sets (maps)`);
  }
  return value as InputSet[];
}

/** flux-operator's output, read with the same bounds as the repository's files. */
function readObjects(stream: string): KubeObject[] {
  const { documents, errors } = parseYamlDocuments(stream);
  const [first] = errors;
  if (first) {
    throw new FluxLocalError(
      `flux-operator printed YAML that does not parse (line ${first.line}): ${first.message}`,
    );
  }
  return documents.map((d) => d.object);
}
