/**
 * Typed reads of the store: an entry's object parsed with its kind's schema,
 * once per definition (a new definition is a new object, so the cache keyed by
 * the object never serves a stale parse). Consumers read fields from the
 * parsed object instead of casting `spec`.
 */
import type { KubeObject } from "../flux/objects.js";
import {
  describeSchemaError,
  KIND_SCHEMAS,
  Suspendable,
  type TypedKind,
  type TypedObject,
} from "../flux/schema.js";
import type { StoreEntry } from "./store.js";

export type Parsed<T> = { ok: true; object: T } | { ok: false; error: string };

const cache = new WeakMap<KubeObject, Parsed<unknown>>();

/** The entry's object as its kind's schema reads it, or why it does not parse. */
export function parseEntry<K extends TypedKind>(
  entry: Pick<StoreEntry, "object">,
  kind: K,
): Parsed<TypedObject<K>> {
  const hit = cache.get(entry.object);
  if (hit) return hit as Parsed<TypedObject<K>>;
  const result = KIND_SCHEMAS[kind].safeParse(entry.object);
  const parsed: Parsed<unknown> = result.success
    ? { ok: true, object: result.data }
    : { ok: false, error: describeSchemaError(result.error) };
  cache.set(entry.object, parsed);
  return parsed as Parsed<TypedObject<K>>;
}

/** The parsed object, or undefined when it is not of `kind` or does not parse. */
export function typed<K extends TypedKind>(
  entry: Pick<StoreEntry, "object" | "ref"> | undefined,
  kind: K,
): TypedObject<K> | undefined {
  if (!entry || entry.ref.kind !== kind) return undefined;
  const parsed = parseEntry(entry, kind);
  return parsed.ok ? parsed.object : undefined;
}

/** True when the object says `spec.suspend: true`. */
export function isSuspended(entry: Pick<StoreEntry, "object">): boolean {
  const parsed = Suspendable.safeParse(entry.object);
  return parsed.success && parsed.data.spec?.suspend === true;
}
