/**
 * Schemas of what registries and docker config files send us: OCI/Docker
 * manifests and indexes, tag lists, token responses, docker config files. Only
 * the fields we use; unknown fields are kept.
 */
import { z } from "zod";

export const MEDIA_TYPES = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  /** The layer of a Flux artifact (`flux push artifact`). */
  fluxContent: "application/vnd.cncf.flux.content.v1.tar+gzip",
  /** The config of a Flux artifact. */
  fluxConfig: "application/vnd.cncf.flux.config.v1+json",
} as const;

export const ACCEPT_MANIFESTS = [
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.dockerList,
].join(", ");

export const Digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, "expected sha256:<64 hex digits>");

export const Descriptor = z.looseObject({
  mediaType: z.string(),
  digest: Digest,
  size: z.number().int().nonnegative(),
  annotations: z.record(z.string(), z.string()).optional(),
  platform: z
    .looseObject({ architecture: z.string().optional(), os: z.string().optional() })
    .optional(),
});
export type Descriptor = z.infer<typeof Descriptor>;

export const ImageManifest = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: Descriptor,
  layers: z.array(Descriptor),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type ImageManifest = z.infer<typeof ImageManifest>;

export const ImageIndex = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(Descriptor),
});
export type ImageIndex = z.infer<typeof ImageIndex>;

export const TagList = z.looseObject({
  name: z.string().optional(),
  tags: z.array(z.string()).nullable().optional(),
});

export const TokenResponse = z.looseObject({
  token: z.string().optional(),
  access_token: z.string().optional(),
});

export const DockerConfig = z.looseObject({
  auths: z
    .record(
      z.string(),
      z.looseObject({
        auth: z.string().optional(),
        username: z.string().optional(),
        password: z.string().optional(),
        identitytoken: z.string().optional(),
        registrytoken: z.string().optional(),
      }),
    )
    .optional(),
  credHelpers: z.record(z.string(), z.string()).optional(),
  credsStore: z.string().optional(),
});
export type DockerConfig = z.infer<typeof DockerConfig>;
