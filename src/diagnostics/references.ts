/**
 * References that point nowhere: a Kustomization's source, a HelmRelease's
 * chart source or chartRef, a HelmChart's source, `dependsOn`, the providers
 * a ResourceSet's `inputsFrom` names, and the
 * ConfigMaps and Secrets of `substituteFrom` and `valuesFrom`. Checked against
 * every object the repository defines, including ConfigMaps and Secrets that
 * kustomize generators, ExternalSecrets and SealedSecrets produce.
 *
 * Namespaces are often set later (by a kustomization's `namespace:` or a
 * Kustomization's targetNamespace), so an object without one matches any.
 * When some objects come from outside the repository (a Kustomization built
 * from a remote source, a ResourceSet), a missing target may come from there:
 * it is then a warning, naming the likely producer.
 */
import { apiGroup, FLUX_GROUPS } from "../flux/objects.js";
import { fluxKustomizations } from "./local.js";
import {
  describe,
  isKustomizationFile,
  isMapping,
  type Finding,
  type ObjectDoc,
  type Repository,
} from "./model.js";

export interface ObjectReference {
  from: ObjectDoc;
  /** Field path for messages, e.g. `spec.sourceRef`. */
  field: string;
  kind: string;
  name: string;
  /** Namespace given in the reference (else the referring object's). */
  namespace?: string;
  /** Always in the referrer's namespace (substituteFrom, valuesFrom). */
  sameNamespace?: boolean;
  optional?: boolean;
}

/** Where each kind a reference can name lives. */
const GROUP_OF: Record<string, string> = {
  GitRepository: FLUX_GROUPS.source,
  OCIRepository: FLUX_GROUPS.source,
  HelmRepository: FLUX_GROUPS.source,
  HelmChart: FLUX_GROUPS.source,
  Bucket: FLUX_GROUPS.source,
  ExternalArtifact: FLUX_GROUPS.source,
  Kustomization: FLUX_GROUPS.kustomize,
  HelmRelease: FLUX_GROUPS.helm,
  ResourceSetInputProvider: FLUX_GROUPS.operator,
  ConfigMap: "",
  Secret: "",
};

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function field(obj: unknown, ...keys: string[]): unknown {
  let current = obj;
  for (const key of keys) {
    if (!isMapping(current)) return undefined;
    current = current[key];
  }
  return current;
}

function crossRef(from: ObjectDoc, fieldName: string, value: unknown): ObjectReference | undefined {
  if (!isMapping(value)) return undefined;
  const kind = str(value.kind);
  const name = str(value.name);
  if (!kind || !name) return undefined;
  const namespace = str(value.namespace);
  return { from, field: fieldName, kind, name, ...(namespace ? { namespace } : {}) };
}

function dependsOn(from: ObjectDoc, kind: string): ObjectReference[] {
  const list = field(from.value, "spec", "dependsOn");
  if (!Array.isArray(list)) return [];
  const out: ObjectReference[] = [];
  for (const dep of list) {
    const name = str(field(dep, "name"));
    if (!name) continue;
    const namespace = str(field(dep, "namespace"));
    out.push({
      from,
      field: "spec.dependsOn",
      kind,
      name,
      ...(namespace ? { namespace } : {}),
    });
  }
  return out;
}

function configRefs(from: ObjectDoc, list: unknown, fieldName: string): ObjectReference[] {
  if (!Array.isArray(list)) return [];
  const out: ObjectReference[] = [];
  for (const item of list) {
    const kind = str(field(item, "kind"));
    const name = str(field(item, "name"));
    if ((kind !== "ConfigMap" && kind !== "Secret") || !name) continue;
    out.push({
      from,
      field: fieldName,
      kind,
      name,
      sameNamespace: true,
      optional: field(item, "optional") === true,
    });
  }
  return out;
}

/** The references an object makes. */
export function referencesOf(obj: ObjectDoc): ObjectReference[] {
  const group = apiGroup(obj.apiVersion);
  const spec = obj.value.spec;
  const out: ObjectReference[] = [];
  const push = (ref: ObjectReference | undefined) => {
    if (ref) out.push(ref);
  };
  if (group === FLUX_GROUPS.kustomize && obj.kind === "Kustomization") {
    push(crossRef(obj, "spec.sourceRef", field(spec, "sourceRef")));
    out.push(...dependsOn(obj, "Kustomization"));
    out.push(
      ...configRefs(
        obj,
        field(spec, "postBuild", "substituteFrom"),
        "spec.postBuild.substituteFrom",
      ),
    );
  } else if (group === FLUX_GROUPS.helm && obj.kind === "HelmRelease") {
    push(crossRef(obj, "spec.chart.spec.sourceRef", field(spec, "chart", "spec", "sourceRef")));
    push(crossRef(obj, "spec.chartRef", field(spec, "chartRef")));
    out.push(...dependsOn(obj, "HelmRelease"));
    out.push(...configRefs(obj, field(spec, "valuesFrom"), "spec.valuesFrom"));
  } else if (group === FLUX_GROUPS.source && obj.kind === "HelmChart") {
    push(crossRef(obj, "spec.sourceRef", field(spec, "sourceRef")));
  } else if (group === FLUX_GROUPS.operator && obj.kind === "ResourceSet") {
    // Providers named in inputsFrom (a selector may match none: that is allowed).
    const inputsFrom = field(spec, "inputsFrom");
    for (const item of Array.isArray(inputsFrom) ? inputsFrom : []) {
      const name = str(field(item, "name"));
      if (!name) continue;
      out.push({
        from: obj,
        field: "spec.inputsFrom",
        kind: "ResourceSetInputProvider",
        name,
        sameNamespace: true,
      });
    }
  }
  return out;
}

/** An object (or a generated one) that a reference can resolve to. */
export interface Target {
  kind: string;
  name: string;
  namespace: string | undefined;
}

/** Every object the repository defines or generates, by `kind/name`. */
export function targetsOf(repo: Repository, objects: readonly ObjectDoc[]): Map<string, Target[]> {
  const targets = new Map<string, Target[]>();
  const add = (t: Target) => {
    const key = `${t.kind}/${t.name}`;
    targets.set(key, [...(targets.get(key) ?? []), t]);
  };
  for (const obj of objects) {
    const group = apiGroup(obj.apiVersion);
    if (GROUP_OF[obj.kind] === group && obj.name) {
      add({ kind: obj.kind, name: obj.name, namespace: obj.namespace });
    }
    // Secrets that controllers in the cluster create from in-repo objects.
    if (obj.kind === "ExternalSecret" && group === "external-secrets.io") {
      const name = str(field(obj.value, "spec", "target", "name")) ?? obj.name;
      if (name) add({ kind: "Secret", name, namespace: obj.namespace });
    }
    // ExternalArtifacts that an ArtifactGenerator of the repository generates.
    if (obj.kind === "ArtifactGenerator" && group === FLUX_GROUPS.sourceExtensions) {
      const artifacts = field(obj.value, "spec", "artifacts");
      for (const artifact of Array.isArray(artifacts) ? artifacts : []) {
        const name = str(field(artifact, "name"));
        if (name) add({ kind: "ExternalArtifact", name, namespace: obj.namespace });
      }
    }
    if (obj.kind === "SealedSecret" && group === "bitnami.com") {
      const name = str(field(obj.value, "spec", "template", "metadata", "name")) ?? obj.name;
      if (name) add({ kind: "Secret", name, namespace: obj.namespace });
    }
  }
  // ConfigMaps and Secrets from kustomize generators.
  for (const parsed of repo.files.values()) {
    if (!isKustomizationFile(parsed.file)) continue;
    for (const doc of parsed.documents) {
      if (!isMapping(doc.value)) continue;
      const kustomizeNamespace = str(doc.value.namespace);
      for (const [key, kind] of [
        ["configMapGenerator", "ConfigMap"],
        ["secretGenerator", "Secret"],
      ] as const) {
        const gens = doc.value[key];
        if (!Array.isArray(gens)) continue;
        for (const gen of gens) {
          const name = str(field(gen, "name"));
          if (name) {
            add({ kind, name, namespace: kustomizeNamespace ?? str(field(gen, "namespace")) });
          }
        }
      }
    }
  }
  return targets;
}

/**
 * Objects whose output this check cannot see: Kustomizations built from a
 * source outside this checkout, and ResourceSets (templates).
 */
export function unknownProducers(repo: Repository, objects: readonly ObjectDoc[]): ObjectDoc[] {
  const out = objects.filter(
    (o) => o.kind === "ResourceSet" && apiGroup(o.apiVersion) === FLUX_GROUPS.operator,
  );
  for (const ks of fluxKustomizations(repo, objects)) {
    if (!ks.local) out.push(ks.obj);
  }
  return out;
}

function namespaceMatches(target: Target, wanted: string | undefined): boolean {
  return wanted === undefined || target.namespace === undefined || target.namespace === wanted;
}

export function checkReferences(repo: Repository, objects: readonly ObjectDoc[]): Finding[] {
  const targets = targetsOf(repo, objects);
  const producers = unknownProducers(repo, objects);
  const findings: Finding[] = [];
  for (const from of objects) {
    for (const ref of referencesOf(from)) {
      if (ref.optional) continue;
      const group = GROUP_OF[ref.kind];
      if (group === undefined) {
        findings.push({
          severity: "error",
          check: "reference",
          file: from.file,
          line: from.line,
          object: `${from.kind}/${from.namespace ?? ""}/${from.name}`,
          message: `${describe(from)}: ${ref.field} has an unknown kind ${ref.kind}`,
        });
        continue;
      }
      const wanted = ref.sameNamespace ? from.namespace : (ref.namespace ?? from.namespace);
      const candidates = targets.get(`${ref.kind}/${ref.name}`) ?? [];
      if (candidates.some((t) => namespaceMatches(t, wanted))) continue;
      const shown = wanted ? `${ref.kind} ${wanted}/${ref.name}` : `${ref.kind} ${ref.name}`;
      // Flux bootstrap (or a FluxInstance) creates the checkout's GitRepository.
      if (ref.kind === "GitRepository" && ref.name === "flux-system") continue;
      const elsewhere = candidates
        .map((t) => t.namespace)
        .filter((ns): ns is string => ns !== undefined);
      const hint = elsewhere.length
        ? ` (there is one in namespace ${[...new Set(elsewhere)].join(", ")})`
        : "";
      // Objects whose output this check cannot see may produce it (not the referrer itself).
      const unknown = producers.filter((p) => p !== from).map(describe);
      let severity: Finding["severity"] = unknown.length > 0 ? "warning" : "error";
      let note =
        unknown.length === 0
          ? ""
          : ` (it may come from ${unknown[0]}${unknown.length > 1 ? ` or ${unknown.length - 1} more` : ""}, whose output is not in this repository)`;
      if (ref.kind === "GitRepository") {
        severity = "warning";
        note = "; flux-local builds it from this checkout";
      } else if (ref.kind === "Secret") {
        severity = "warning";
        note =
          "; if the cluster has it, render with --allow-missing-secrets (or add an ExternalSecret or SealedSecret)";
      }
      findings.push({
        severity,
        check: "reference",
        file: from.file,
        line: from.line,
        object: `${from.kind}/${from.namespace ?? ""}/${from.name}`,
        message: `${describe(from)}: ${ref.field} refers to ${shown}, which is not defined in the repository${hint}${note}`,
      });
    }
  }
  return findings;
}
