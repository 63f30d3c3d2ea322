/**
 * Objects defined twice in one build. kustomize refuses a build that holds two
 * objects with the same group, kind, namespace and name, and Flux's generated
 * kustomization (a folder without kustomization.yaml) takes every manifest
 * below it. So each build is resolved statically, without running kustomize:
 * a kustomization's resources and components, recursively, with the
 * namespace, prefix and suffix each one sets; or, for a Flux Kustomization's
 * folder without a kustomization file, what Flux would generate.
 *
 * The same name in two clusters of one repository is not a duplicate: only
 * objects that end up in the same build are compared.
 */
import path from "node:path";
import { apiGroup } from "../flux/objects.js";
import { fluxKustomizations } from "./local.js";
import {
  isKustomizationFile,
  isMapping,
  objectsOf,
  type Finding,
  type ObjectDoc,
  type Repository,
} from "./model.js";

export const KUSTOMIZATION_FILE_NAMES = [
  "kustomization.yaml",
  "kustomization.yml",
  "Kustomization",
];

interface Member {
  obj: ObjectDoc;
  /** `group/Kind/namespace/name` after the transformations of the build. */
  identity: string;
  display: string;
}

interface Transform {
  namespace?: string;
  prefix: string;
  suffix: string;
}

const NONE: Transform = { prefix: "", suffix: "" };

export interface Unit {
  /** How findings name the build, e.g. `the kustomize build of apps/prod`. */
  label: string;
  members: Member[];
  /** The Flux Kustomization whose generated build this is. */
  anchor?: ObjectDoc;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function isRemote(ref: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(ref) || /^(git@|github\.com\/|gitlab\.com\/)/.test(ref);
}

/** Well-known cluster-scoped kinds, which a namespace override leaves alone. */
const CLUSTER_SCOPED = new Set([
  "Namespace",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
  "PersistentVolume",
  "StorageClass",
  "PriorityClass",
  "IngressClass",
  "RuntimeClass",
  "ValidatingWebhookConfiguration",
  "MutatingWebhookConfiguration",
  "APIService",
  "CSIDriver",
  "VolumeSnapshotClass",
  "ClusterIssuer",
]);

function member(obj: ObjectDoc, t: Transform): Member {
  const namespace = CLUSTER_SCOPED.has(obj.kind) ? "" : (t.namespace ?? obj.namespace ?? "");
  // kustomize's `namespace:` renames a v1 Namespace to it (prefix and suffix left
  // out): home-ops repositories put one placeholder Namespace (`_`) in a shared
  // component and let each folder's `namespace:` name it.
  const renamed = obj.kind === "Namespace" && obj.apiVersion === "v1" && t.namespace;
  const name = renamed ? t.namespace : `${t.prefix}${obj.name}${t.suffix}`;
  return {
    obj,
    identity: `${apiGroup(obj.apiVersion)}/${obj.kind}/${namespace}/${name}`,
    display: namespace ? `${obj.kind} ${namespace}/${name}` : `${obj.kind} ${name}`,
  };
}

function compose(outer: Transform, inner: Transform): Transform {
  const namespace = outer.namespace ?? inner.namespace;
  return {
    ...(namespace !== undefined ? { namespace } : {}),
    prefix: outer.prefix + inner.prefix,
    suffix: inner.suffix + outer.suffix,
  };
}

class Resolver {
  private readonly objectsByFile = new Map<string, ObjectDoc[]>();
  private readonly dirs = new Set<string>();

  constructor(private readonly repo: Repository) {
    for (const obj of objectsOf(repo)) {
      this.objectsByFile.set(obj.file, [...(this.objectsByFile.get(obj.file) ?? []), obj]);
    }
    for (const file of repo.files.keys()) {
      for (let dir = path.dirname(file); !this.dirs.has(dir); dir = path.dirname(dir)) {
        this.dirs.add(dir);
        if (path.dirname(dir) === dir) break;
      }
    }
  }

  kustomizationFile(dir: string): string | undefined {
    return KUSTOMIZATION_FILE_NAMES.map((n) => path.join(dir, n)).find((f) =>
      this.repo.files.has(f),
    );
  }

  /** The objects of `kustomize build dir` (dir has a kustomization file). */
  kustomize(dir: string, outer: Transform, visiting: Set<string>): Member[] {
    const file = this.kustomizationFile(dir);
    if (!file || visiting.has(dir)) return [];
    visiting.add(dir);
    const doc = this.repo.files.get(file)?.documents[0]?.value;
    if (!isMapping(doc)) return [];
    const own: Transform = {
      ...(typeof doc.namespace === "string" && doc.namespace ? { namespace: doc.namespace } : {}),
      prefix: typeof doc.namePrefix === "string" ? doc.namePrefix : "",
      suffix: typeof doc.nameSuffix === "string" ? doc.nameSuffix : "",
    };
    const t = compose(outer, own);
    const out: Member[] = [];
    for (const ref of [
      ...strings(doc.resources),
      ...strings(doc.bases),
      ...strings(doc.components),
    ]) {
      if (isRemote(ref) || ref.includes("\n")) continue;
      const target = path.resolve(dir, ref);
      if (this.repo.files.has(target)) {
        if (isKustomizationFile(target)) continue;
        out.push(...(this.objectsByFile.get(target) ?? []).map((o) => member(o, t)));
      } else if (this.dirs.has(target)) {
        out.push(...this.kustomize(target, t, visiting));
      }
    }
    visiting.delete(dir);
    return out;
  }

  /** What Flux generates for a folder without a kustomization file. */
  generated(dir: string, t: Transform): Member[] {
    const out: Member[] = [];
    const seenUnits = new Set<string>();
    for (const file of [...this.repo.files.keys()].sort()) {
      const rel = path.relative(dir, file);
      if (!rel || rel.startsWith("..") || path.isAbsolute(rel)) continue;
      // The outermost sub-folder with its own kustomization is one resource.
      let unit: string | undefined;
      for (let d = dir, parts = rel.split(path.sep).slice(0, -1); parts.length > 0;) {
        d = path.join(d, parts.shift() as string);
        if (this.kustomizationFile(d)) {
          unit = d;
          break;
        }
      }
      if (unit) {
        if (!seenUnits.has(unit)) {
          seenUnits.add(unit);
          out.push(...this.kustomize(unit, t, new Set()));
        }
        continue;
      }
      out.push(...(this.objectsByFile.get(file) ?? []).map((o) => member(o, t)));
    }
    return out;
  }
}

/**
 * The builds of a repository: every folder with a kustomization file, and the
 * folder of every Flux Kustomization built from this checkout (`spec.path`
 * from the checkout root) that has none.
 */
export function buildUnits(repo: Repository, show: (file: string) => string): Unit[] {
  const resolver = new Resolver(repo);
  const units: Unit[] = [];
  const kustomizeDirs = [...repo.files.keys()]
    .filter((f) => isKustomizationFile(f))
    .map((f) => path.dirname(f))
    .filter((dir, i, all) => all.indexOf(dir) === i)
    // Innermost first: a duplicate is reported by the smallest build holding it.
    .sort((a, b) => b.split(path.sep).length - a.split(path.sep).length || (a < b ? -1 : 1));
  for (const dir of kustomizeDirs) {
    units.push({
      label: `the kustomize build of ${show(dir) || "."}`,
      members: resolver.kustomize(dir, NONE, new Set()),
    });
  }
  for (const ks of fluxKustomizations(repo, objectsOf(repo))) {
    if (!ks.dir || resolver.kustomizationFile(ks.dir)) continue;
    const spec = isMapping(ks.obj.value.spec) ? ks.obj.value.spec : {};
    const t: Transform = {
      ...(typeof spec.targetNamespace === "string" && spec.targetNamespace
        ? { namespace: spec.targetNamespace }
        : {}),
      prefix: typeof spec.namePrefix === "string" ? spec.namePrefix : "",
      suffix: typeof spec.nameSuffix === "string" ? spec.nameSuffix : "",
    };
    units.push({
      label: `the build of Kustomization ${ks.obj.namespace ?? "flux-system"}/${ks.obj.name} (${show(ks.dir) || "."})`,
      members: resolver.generated(ks.dir, t),
      anchor: ks.obj,
    });
  }
  return units;
}

interface Duplicate {
  first: Member;
  second: Member;
}

/** Pairs of members with one identity, not reported yet (marks them reported). */
function duplicatesIn(unit: Unit, reported: Set<string>): Duplicate[] {
  const out: Duplicate[] = [];
  const first = new Map<string, Member>();
  for (const m of unit.members) {
    if (!m.obj.name) continue;
    const previous = first.get(m.identity);
    if (!previous) {
      first.set(m.identity, m);
      continue;
    }
    const a = `${previous.obj.file}#${previous.obj.index}`;
    const b = `${m.obj.file}#${m.obj.index}`;
    const pair = a < b ? `${a}|${b}` : `${b}|${a}`;
    if (reported.has(pair)) continue;
    reported.add(pair);
    out.push({ first: previous, second: m });
  }
  return out;
}

const EXAMPLES = 3;

export function checkDuplicates(
  repo: Repository,
  show: (file: string) => string = (file) => path.relative(repo.root, file),
): Finding[] {
  const findings: Finding[] = [];
  const reported = new Set<string>();
  const units = buildUnits(repo, show);
  // Objects outside any build still may not repeat within one file.
  const byFile = new Map<string, Member[]>();
  for (const obj of objectsOf(repo)) {
    byFile.set(obj.file, [...(byFile.get(obj.file) ?? []), member(obj, NONE)]);
  }
  for (const members of byFile.values()) units.push({ label: "one file", members });

  const at = (m: Member) => `${show(m.obj.file)}:${m.obj.line}`;
  for (const unit of units) {
    const duplicates = duplicatesIn(unit, reported);
    if (duplicates.length === 0) continue;
    if (unit.anchor) {
      // What Flux generates for a whole folder: one finding, on the Kustomization.
      const examples = duplicates
        .slice(0, EXAMPLES)
        .map((d) =>
          d.first.obj === d.second.obj
            ? `${d.second.display} (${at(d.second)}, included twice)`
            : `${d.second.display} (${at(d.first)} and ${at(d.second)})`,
        );
      const more = duplicates.length - EXAMPLES;
      findings.push({
        severity: "error",
        check: "duplicate",
        file: unit.anchor.file,
        line: unit.anchor.line,
        object: `Kustomization/${unit.anchor.namespace ?? "flux-system"}/${unit.anchor.name}`,
        message: `${unit.label} would hold ${duplicates.length} object${duplicates.length === 1 ? "" : "s"} twice, which kustomize refuses: ${examples.join("; ")}${more > 0 ? `; and ${more} more` : ""}`,
      });
      continue;
    }
    for (const { first, second } of duplicates) {
      const same = first.obj.file === second.obj.file && first.obj.index === second.obj.index;
      findings.push({
        severity: "error",
        check: "duplicate",
        file: second.obj.file,
        line: second.obj.line,
        object: second.identity,
        message: same
          ? `${second.display} is included twice in ${unit.label}`
          : `${second.display} is defined twice in ${unit.label}: at ${at(first)} and here`,
      });
    }
  }
  return findings;
}
