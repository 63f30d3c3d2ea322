/**
 * The container images the rendered objects run: every container of every Pod
 * template (Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets,
 * ReplicationControllers, Jobs, CronJobs), init and ephemeral containers
 * included, and image volumes (`volumes[].image.reference`). A few operators'
 * resources name the images their operator runs in their own fields (a
 * CloudNativePG `Cluster`'s `imageName`, `image` in Rook's `CephCluster` and
 * the Prometheus operator's `Prometheus`/`Alertmanager`): those count too, as
 * flux-local counted them.
 */
import { apiGroup, type KubeObject } from "../flux/objects.js";
import type { RenderResult } from "../run.js";
import type { StoreEntry } from "../store/store.js";
import { typed } from "../store/typed.js";
import { compare, kustomizationInfos } from "./kustomizations.js";
import { selectEntries, type Selection } from "./select.js";

export type ImageSource = "container" | "initContainer" | "ephemeralContainer" | "volume" | "spec";

/** One image used by one object: which container (or field) uses it. */
export interface ImageUse {
  kind: string;
  namespace: string;
  name: string;
  /** The container (or volume) name; for operator resources, the field path. */
  container: string;
  source: ImageSource;
  image: string;
}

/** Where the Pod spec sits in each workload kind. */
const POD_SPEC_PATHS: Record<string, readonly string[]> = {
  Pod: ["spec"],
  Deployment: ["spec", "template", "spec"],
  StatefulSet: ["spec", "template", "spec"],
  DaemonSet: ["spec", "template", "spec"],
  ReplicaSet: ["spec", "template", "spec"],
  ReplicationController: ["spec", "template", "spec"],
  Job: ["spec", "template", "spec"],
  CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
  PodTemplate: ["template", "spec"],
};

/** Operator resources whose fields name images: group, kind, and the key holding them. */
const OPERATOR_IMAGE_KEYS: ReadonlyArray<{ group: string; kind: string; key: string }> = [
  { group: "postgresql.cnpg.io", kind: "Cluster", key: "imageName" },
  { group: "ceph.rook.io", kind: "CephCluster", key: "image" },
  { group: "monitoring.coreos.com", kind: "Prometheus", key: "image" },
  { group: "monitoring.coreos.com", kind: "Alertmanager", key: "image" },
  { group: "apps.emqx.io", kind: "EMQX", key: "image" },
  { group: "actions.github.com", kind: "AutoscalingRunnerSet", key: "image" },
  { group: "gateway.envoyproxy.io", kind: "EnvoyProxy", key: "image" },
  { group: "upgrade.cattle.io", kind: "Plan", key: "image" },
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function at(value: unknown, keys: readonly string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (!isRecord(current)) return undefined;
    current = current[key];
  }
  return current;
}

const CONTAINER_LISTS: ReadonlyArray<[string, ImageSource]> = [
  ["initContainers", "initContainer"],
  ["containers", "container"],
  ["ephemeralContainers", "ephemeralContainer"],
];

function podSpecImages(spec: unknown): Array<Pick<ImageUse, "container" | "source" | "image">> {
  if (!isRecord(spec)) return [];
  const out: Array<Pick<ImageUse, "container" | "source" | "image">> = [];
  for (const [list, source] of CONTAINER_LISTS) {
    const containers = spec[list];
    if (!Array.isArray(containers)) continue;
    for (const c of containers) {
      if (!isRecord(c) || typeof c.image !== "string" || c.image === "") continue;
      out.push({ container: typeof c.name === "string" ? c.name : "", source, image: c.image });
    }
  }
  const volumes = spec.volumes;
  if (Array.isArray(volumes)) {
    for (const v of volumes) {
      const reference = at(v, ["image", "reference"]);
      if (typeof reference !== "string" || reference === "") continue;
      const name = isRecord(v) && typeof v.name === "string" ? v.name : "";
      out.push({ container: name, source: "volume", image: reference });
    }
  }
  return out;
}

/** Every string under `key` anywhere in `value`, with its dotted path. */
function valuesOfKey(
  value: unknown,
  key: string,
  path: string,
  out: Array<[string, string]>,
): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => valuesOfKey(item, key, `${path}[${i}]`, out));
    return;
  }
  if (!isRecord(value)) return;
  for (const [k, v] of Object.entries(value)) {
    const here = path ? `${path}.${k}` : k;
    if (k === key && typeof v === "string" && v !== "") out.push([here, v]);
    else valuesOfKey(v, key, here, out);
  }
}

/** The images one object uses, in the order they appear. */
export function imageUses(obj: KubeObject): ImageUse[] {
  const kind = obj.kind ?? "";
  const id = {
    kind,
    namespace: obj.metadata?.namespace ?? "",
    name: obj.metadata?.name ?? "",
  };
  const podPath = POD_SPEC_PATHS[kind];
  // Core and apps kinds only: a CRD that happens to be called `Job` is not a workload.
  const group = apiGroup(obj.apiVersion ?? "");
  if (podPath && ["", "apps", "batch"].includes(group)) {
    return podSpecImages(at(obj, podPath)).map((u) => ({ ...id, ...u }));
  }
  const operator = OPERATOR_IMAGE_KEYS.find((o) => o.kind === kind && o.group === group);
  if (!operator) return [];
  const found: Array<[string, string]> = [];
  valuesOfKey(obj.spec, operator.key, "spec", found);
  return found.map(([field, image]) => ({ ...id, container: field, source: "spec", image }));
}

/** The images of many objects. */
export function imagesUsed(objects: readonly KubeObject[]): ImageUse[] {
  return objects.flatMap(imageUses);
}

/** Distinct images, sorted. */
export function distinctImages(uses: readonly ImageUse[]): string[] {
  return [...new Set(uses.map((u) => u.image))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The images of one Kustomization or HelmRelease: what its rendered objects run. */
export interface OwnerImages {
  entry: StoreEntry;
  kind: "Kustomization" | "HelmRelease";
  namespace: string;
  name: string;
  /** The built folder (Kustomizations). */
  path?: string;
  uses: ImageUse[];
  images: string[];
}

/**
 * Every selected Kustomization's and HelmRelease's images (HelmReleases only
 * when rendered), Kustomizations first, each kind by namespace and name.
 */
export function ownerImages(
  result: RenderResult,
  selection: Selection,
  cwd: string,
): OwnerImages[] {
  const out: OwnerImages[] = [];
  for (const info of kustomizationInfos(result, selection, cwd)) {
    const uses = imagesUsed(info.objects);
    out.push({
      entry: info.entry,
      kind: "Kustomization",
      namespace: info.namespace,
      name: info.name,
      path: info.path,
      uses,
      images: distinctImages(uses),
    });
  }
  const releases = selectEntries(result, "HelmRelease", selection).sort(
    (a, b) => compare(a.ref.namespace, b.ref.namespace) || compare(a.ref.name, b.ref.name),
  );
  for (const entry of releases) {
    const objects = entry.artifact?.type === "render" ? entry.artifact.objects : [];
    // helm leaves the namespace out of most templates: they land in the release's.
    const namespace = typed(entry, "HelmRelease")?.spec.targetNamespace ?? entry.ref.namespace;
    const uses = imagesUsed(objects).map((u) => (u.namespace ? u : { ...u, namespace }));
    out.push({
      entry,
      kind: "HelmRelease",
      namespace: entry.ref.namespace,
      name: entry.ref.name,
      uses,
      images: distinctImages(uses),
    });
  }
  return out;
}
