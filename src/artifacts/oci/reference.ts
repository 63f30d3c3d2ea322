/**
 * OCIRepository resolution, pure: the `oci://` URL, which `spec.ref` field
 * wins (digest, then semver with its filter, then tag, default `latest`), the
 * revision Flux records (`v1.2.0@sha256:...`, or `sha256:...` for a digest),
 * and which manifest of an index and which layer of a manifest are used.
 */
import { pickSemver } from "../git/refs.js";
import { DOCKER_HUB } from "./docker-config.js";
import { MEDIA_TYPES, type Descriptor, type ImageIndex, type ImageManifest } from "./schema.js";

export interface OciLocation {
  /** Registry host (and port) as used in API URLs: `ghcr.io`, `127.0.0.1:5000`. */
  registry: string;
  /** Repository path: `org/app`. */
  repository: string;
}

// Docker Hub's host lives with the credentials, which need it without semver and the rest of this module.
export { DOCKER_HUB } from "./docker-config.js";

export function parseOciUrl(
  url: string,
): { ok: true; value: OciLocation } | { ok: false; error: string } {
  if (!url.startsWith("oci://"))
    return { ok: false, error: `URL ${url} must be in the form oci://<host>/<repository>` };
  const rest = url.slice("oci://".length).replace(/\/+$/, "");
  const slash = rest.indexOf("/");
  const first = slash < 0 ? rest : rest.slice(0, slash);
  let registry: string;
  let repository: string;
  if (slash > 0 && (first.includes(".") || first.includes(":") || first === "localhost")) {
    registry = first;
    repository = rest.slice(slash + 1);
  } else {
    registry = DOCKER_HUB;
    repository = rest.includes("/") ? rest : `library/${rest}`;
  }
  if (
    !repository ||
    !/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(
      repository,
    )
  ) {
    const tag = repository.split("/").pop()?.split(":")[1];
    if (tag !== undefined)
      return {
        ok: false,
        error: `URL ${url} must not contain a tag; remove ':${tag}' and use spec.ref.tag`,
      };
    if (repository.includes("@"))
      return { ok: false, error: `URL ${url} must not contain a digest; use spec.ref.digest` };
    return {
      ok: false,
      error: `URL ${url}: ${JSON.stringify(repository)} is not a valid repository name`,
    };
  }
  return { ok: true, value: { registry, repository } };
}

export interface OciRefSpec {
  tag?: string;
  semver?: string;
  semverFilter?: string;
  digest?: string;
}

export type OciPlan =
  | { kind: "digest"; digest: string }
  | { kind: "semver"; range: string; filter?: string }
  | { kind: "tag"; tag: string };

export const DEFAULT_TAG = "latest";

export function planOciRef(ref: OciRefSpec | undefined): OciPlan {
  if (ref?.digest) return { kind: "digest", digest: ref.digest };
  if (ref?.semver)
    return {
      kind: "semver",
      range: ref.semver,
      ...(ref.semverFilter ? { filter: ref.semverFilter } : {}),
    };
  return { kind: "tag", tag: ref?.tag || DEFAULT_TAG };
}

/** Digests never move; tags are taken as immutable too, except `latest`. */
export function isOciImmutable(plan: OciPlan): boolean {
  return plan.kind === "digest" || (plan.kind === "tag" && plan.tag !== DEFAULT_TAG);
}

export function describeOciPlan(plan: OciPlan): string {
  switch (plan.kind) {
    case "digest":
      return `digest ${plan.digest}`;
    case "semver":
      return plan.filter ? `semver ${plan.range} (filter ${plan.filter})` : `semver ${plan.range}`;
    case "tag":
      return `tag ${plan.tag}`;
  }
}

export function ociRevision(tag: string | undefined, digest: string): string {
  return tag ? `${tag}@${digest}` : digest;
}

/** The tag to use for a semver plan, from the registry's tag list. */
export function pickOciTag(
  range: string,
  filter: string | undefined,
  tags: readonly string[],
): { ok: true; value: string } | { ok: false; error: string } {
  let candidates = tags;
  if (filter) {
    let re: RegExp;
    try {
      re = new RegExp(filter);
    } catch (err) {
      return {
        ok: false,
        error: `semverFilter ${JSON.stringify(filter)} is not a valid regular expression: ${(err as Error).message}`,
      };
    }
    candidates = tags.filter((t) => re.test(t));
  }
  return pickSemver(range, candidates);
}

export function isIndex(mediaType: string | undefined, body: { manifests?: unknown }): boolean {
  return (
    mediaType === MEDIA_TYPES.ociIndex ||
    mediaType === MEDIA_TYPES.dockerList ||
    (mediaType === undefined && Array.isArray(body.manifests))
  );
}

/** The manifest of an index to use: linux/amd64 if listed, else the only or first one. */
export function selectFromIndex(index: ImageIndex): Descriptor | undefined {
  return (
    index.manifests.find(
      (m) => m.platform?.os === "linux" && m.platform.architecture === "amd64",
    ) ?? index.manifests[0]
  );
}

export interface LayerSelector {
  mediaType?: string;
  operation?: string;
}

export type LayerOperation = "extract" | "copy";

export function layerOperation(
  selector: LayerSelector | undefined,
): { ok: true; value: LayerOperation } | { ok: false; error: string } {
  const op = selector?.operation ?? "extract";
  if (op === "extract" || op === "copy") return { ok: true, value: op };
  return {
    ok: false,
    error: `layerSelector.operation ${JSON.stringify(op)} is not supported (extract or copy)`,
  };
}

/** The layer Flux would use: the first with the selected media type, else the first layer. */
export function selectLayer(
  manifest: ImageManifest,
  selector: LayerSelector | undefined,
): { ok: true; value: Descriptor } | { ok: false; error: string } {
  if (selector?.mediaType) {
    const layer = manifest.layers.find((l) => l.mediaType === selector.mediaType);
    if (!layer) {
      const seen = [...new Set(manifest.layers.map((l) => l.mediaType))].join(", ") || "none";
      return {
        ok: false,
        error: `no layer with media type ${selector.mediaType} in the artifact (layers: ${seen})`,
      };
    }
    return { ok: true, value: layer };
  }
  const first = manifest.layers[0];
  if (!first) return { ok: false, error: "the artifact has no layers" };
  return { ok: true, value: first };
}
