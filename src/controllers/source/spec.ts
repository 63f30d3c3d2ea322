/**
 * The fields of the source kinds the fetchers read (beyond src/flux/schema.ts,
 * which validates what discovery needs): timeouts, `insecure`, includes,
 * layer selectors. Unknown fields are kept and ignored.
 */
import { z } from "zod";

const SecretRef = z.looseObject({ name: z.string().min(1) });

export const GitRepositorySpec = z.looseObject({
  url: z.string().min(1),
  ref: z
    .looseObject({
      branch: z.string().optional(),
      tag: z.string().optional(),
      semver: z.string().optional(),
      commit: z.string().optional(),
      name: z.string().optional(),
    })
    .optional(),
  secretRef: SecretRef.optional(),
  ignore: z.string().optional(),
  timeout: z.string().optional(),
  recurseSubmodules: z.boolean().optional(),
  include: z
    .array(
      z.looseObject({
        repository: z.looseObject({ name: z.string().min(1) }),
        fromPath: z.string().optional(),
        toPath: z.string().optional(),
      }),
    )
    .optional(),
});
export type GitRepositorySpec = z.infer<typeof GitRepositorySpec>;

export const OCIRepositorySpec = z.looseObject({
  url: z.string().min(1),
  ref: z
    .looseObject({
      tag: z.string().optional(),
      semver: z.string().optional(),
      semverFilter: z.string().optional(),
      digest: z.string().optional(),
    })
    .optional(),
  layerSelector: z
    .looseObject({ mediaType: z.string().optional(), operation: z.string().optional() })
    .optional(),
  secretRef: SecretRef.optional(),
  provider: z.string().optional(),
  insecure: z.boolean().optional(),
  ignore: z.string().optional(),
  timeout: z.string().optional(),
});
export type OCIRepositorySpec = z.infer<typeof OCIRepositorySpec>;

/** Flux's default `spec.timeout` for Git and OCI sources. */
export const DEFAULT_SOURCE_TIMEOUT_MS = 60_000;
