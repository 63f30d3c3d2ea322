/**
 * Secret handling. Secret values are never used nor printed: every value of a
 * Secret becomes `..PLACEHOLDER_<key>..` (what flux-local did, safe to paste in a
 * pull-request comment), and SOPS metadata is dropped. Builds still see which
 * keys a Secret has, so substitution and values keep their shape.
 */
import { createHash } from "node:crypto";
import type { KubeObject } from "../flux/objects.js";
import { isSecret } from "../flux/objects.js";

/**
 * A digest of each wiped Secret's real values, kept beside the object (never
 * in it, never printed), so `diff` can say that a Secret's values changed
 * without showing them.
 */
const valueDigests = new WeakMap<KubeObject, string>();

export function secretDigest(secret: KubeObject): string | undefined {
  return valueDigests.get(secret);
}

export function placeholder(key: string): string {
  return `..PLACEHOLDER_${key}..`;
}

/** A copy of a Secret with every value replaced by its placeholder. */
export function wipeSecret(secret: KubeObject): KubeObject {
  const out: KubeObject = { ...secret };
  delete out.sops;
  const data = secret.data as Record<string, unknown> | null | undefined;
  const stringData = secret.stringData as Record<string, unknown> | null | undefined;
  if (data && typeof data === "object") {
    out.data = Object.fromEntries(
      Object.keys(data).map((key) => [key, Buffer.from(placeholder(key)).toString("base64")]),
    );
  }
  if (stringData && typeof stringData === "object") {
    out.stringData = Object.fromEntries(
      Object.keys(stringData).map((key) => [key, placeholder(key)]),
    );
  }
  valueDigests.set(
    out,
    createHash("sha256")
      .update(JSON.stringify([data ?? null, stringData ?? null]))
      .digest("hex"),
  );
  return out;
}

export function wipeSecrets(objects: KubeObject[]): KubeObject[] {
  return objects.map((obj) => (isSecret(obj) ? wipeSecret(obj) : obj));
}

/** The (placeholder) values of a Secret as plain strings, as substitution sees them. */
export function secretValues(secret: KubeObject): Map<string, string> {
  const values = new Map<string, string>();
  const data = secret.data as Record<string, unknown> | null | undefined;
  const stringData = secret.stringData as Record<string, unknown> | null | undefined;
  for (const key of Object.keys(data ?? {})) values.set(key, placeholder(key));
  for (const key of Object.keys(stringData ?? {})) values.set(key, placeholder(key));
  return values;
}
