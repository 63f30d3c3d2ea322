/**
 * Pulling an OCIRepository artifact: resolve the reference to a manifest
 * digest, pick the manifest (from an index if need be) and the layer, then
 * extract it (safe tar+gzip, then the artifact ignore rules) or copy it as
 * `<digest>.tgz`, as source-controller stores it.
 */
import { createWriteStream } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { ArchiveError, extractTarGz, type ExtractLimits } from "../archive.js";
import { ArtifactFilter, SOURCEIGNORE_FILE } from "../git/ignore.js";
import { FetchError } from "../http.js";
import type { RegistryClient } from "./client.js";
import {
  isIndex,
  ociRevision,
  pickOciTag,
  selectFromIndex,
  selectLayer,
  type LayerOperation,
  type LayerSelector,
  type OciLocation,
  type OciPlan,
} from "./reference.js";
import { ImageIndex, ImageManifest } from "./schema.js";

export interface ResolvedOci {
  tag?: string;
  digest: string;
  revision: string;
}

/** The digest (and tag) a plan stands for now. */
export async function resolveOci(
  client: RegistryClient,
  loc: OciLocation,
  plan: OciPlan,
): Promise<ResolvedOci> {
  switch (plan.kind) {
    case "digest": {
      if (!/^sha256:[0-9a-f]{64}$/.test(plan.digest)) {
        throw new FetchError(
          `ref.digest ${plan.digest} is not a sha256 digest (sha256:<64 hex digits>)`,
        );
      }
      return { digest: plan.digest, revision: ociRevision(undefined, plan.digest) };
    }
    case "semver": {
      const tags = await client.listTags(loc.repository);
      const picked = pickOciTag(plan.range, plan.filter, tags);
      if (!picked.ok) throw new FetchError(`${picked.error} in ${loc.registry}/${loc.repository}`);
      const digest = await client.resolveDigest(loc.repository, picked.value);
      return { tag: picked.value, digest, revision: ociRevision(picked.value, digest) };
    }
    case "tag": {
      const digest = await client.resolveDigest(loc.repository, plan.tag);
      return { tag: plan.tag, digest, revision: ociRevision(plan.tag, digest) };
    }
  }
}

export interface PullOptions {
  selector?: LayerSelector;
  operation: LayerOperation;
  specIgnore?: string;
  limits?: ExtractLimits;
}

/** Pull the artifact with manifest `digest` into `dest` (an existing empty directory). */
export async function pullOci(
  client: RegistryClient,
  loc: OciLocation,
  digest: string,
  dest: string,
  opts: PullOptions,
): Promise<{ files: number; layer: string }> {
  const where = `${loc.registry}/${loc.repository}@${digest}`;
  let response = await client.getManifest(loc.repository, digest);
  let json = parseJson(response.body, where);
  if (isIndex(response.mediaType, json)) {
    const index = ImageIndex.safeParse(json);
    if (!index.success) throw new FetchError(`${where}: not a valid image index`);
    const chosen = selectFromIndex(index.data);
    if (!chosen) throw new FetchError(`${where}: the image index lists no manifests`);
    response = await client.getManifest(loc.repository, chosen.digest);
    json = parseJson(response.body, where);
  }
  const manifest = ImageManifest.safeParse(json);
  if (!manifest.success) throw new FetchError(`${where}: not a valid image manifest`);
  const layer = selectLayer(manifest.data, opts.selector);
  if (!layer.ok) throw new FetchError(`${where}: ${layer.error}`);
  const blob = await client.openBlob(loc.repository, layer.value);
  if (opts.operation === "copy") {
    await pipeline(blob, createWriteStream(path.join(dest, `${digest}.tgz`)));
    return { files: 1, layer: layer.value.digest };
  }
  try {
    const { files } = await extractTarGz(blob, dest, opts.limits);
    await pruneIgnored(dest, opts.specIgnore);
    return { files, layer: layer.value.digest };
  } catch (err) {
    if (err instanceof ArchiveError)
      throw new FetchError(`${where}: layer ${layer.value.digest}: ${err.message}`, { cause: err });
    throw err;
  }
}

function parseJson(body: Buffer, where: string): { manifests?: unknown } {
  try {
    return JSON.parse(body.toString("utf8")) as { manifests?: unknown };
  } catch {
    throw new FetchError(`${where}: the manifest is not JSON`);
  }
}

/** Remove what the artifact ignore rules exclude from an extracted directory. */
export async function pruneIgnored(root: string, specIgnore?: string): Promise<void> {
  const sourceignores = new Map<string, string>();
  const all: Array<{ rel: string; isDir: boolean }> = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(path.join(root, rel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      all.push({ rel: p, isDir: e.isDirectory() });
      if (e.isDirectory()) await walk(p);
      else if (e.name === SOURCEIGNORE_FILE)
        sourceignores.set(rel, await readFile(path.join(root, p), "utf8"));
    }
  };
  await walk("");
  const filter = ArtifactFilter.create({ sourceignores, ...(specIgnore ? { specIgnore } : {}) });
  const removed: string[] = [];
  for (const { rel, isDir } of all) {
    if (removed.some((r) => rel.startsWith(`${r}/`))) continue;
    if (filter.ignores(rel, isDir)) {
      await rm(path.join(root, rel), { recursive: true, force: true });
      removed.push(rel);
    }
  }
}
