/**
 * Pushing OCI artifacts to a test registry over the distribution protocol
 * (monolithic blob uploads, then the manifest), as `flux push artifact` would:
 * a Flux config blob and one tar+gzip content layer.
 */
import { createHash } from "node:crypto";

export const FLUX_CONTENT = "application/vnd.cncf.flux.content.v1.tar+gzip";
export const FLUX_CONFIG = "application/vnd.cncf.flux.config.v1+json";
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

export function digestOf(data: Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

export interface PushOptions {
  /** `user:password` for Basic auth. */
  basic?: string;
  layerMediaType?: string;
  /** Extra layers (pushed after the first). */
  extraLayers?: Array<{ data: Buffer; mediaType: string }>;
  /** Lie about the first layer's size in the manifest. */
  declaredSize?: number;
}

function headers(opts: PushOptions): Record<string, string> {
  return opts.basic ? { authorization: `Basic ${Buffer.from(opts.basic).toString("base64")}` } : {};
}

export async function pushBlob(
  host: string,
  repo: string,
  data: Buffer,
  opts: PushOptions = {},
): Promise<string> {
  const digest = digestOf(data);
  const start = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, {
    method: "POST",
    headers: headers(opts),
  });
  if (start.status !== 202) throw new Error(`blob upload start: HTTP ${start.status}`);
  const location = new URL(start.headers.get("location") ?? "", `http://${host}`);
  location.searchParams.set("digest", digest);
  const put = await fetch(location, {
    method: "PUT",
    headers: { ...headers(opts), "content-type": "application/octet-stream" },
    body: data,
  });
  if (put.status !== 201) throw new Error(`blob upload: HTTP ${put.status} ${await put.text()}`);
  return digest;
}

/** Push a Flux artifact; returns the manifest digest. */
export async function pushArtifact(
  host: string,
  repo: string,
  tag: string,
  layer: Buffer,
  opts: PushOptions = {},
): Promise<string> {
  const config = Buffer.from("{}");
  const configDigest = await pushBlob(host, repo, config, opts);
  const layers = [
    { data: layer, mediaType: opts.layerMediaType ?? FLUX_CONTENT },
    ...(opts.extraLayers ?? []),
  ];
  const descriptors = [];
  for (const [i, l] of layers.entries()) {
    const digest = await pushBlob(host, repo, l.data, opts);
    descriptors.push({
      mediaType: l.mediaType,
      digest,
      size: i === 0 && opts.declaredSize !== undefined ? opts.declaredSize : l.data.length,
    });
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: FLUX_CONFIG, digest: configDigest, size: config.length },
      layers: descriptors,
      annotations: {
        "org.opencontainers.image.revision": "main@sha1:0000000000000000000000000000000000000000",
      },
    }),
  );
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    method: "PUT",
    headers: { ...headers(opts), "content-type": OCI_MANIFEST },
    body: manifest,
  });
  if (res.status !== 201) throw new Error(`manifest push: HTTP ${res.status} ${await res.text()}`);
  return digestOf(manifest);
}
