/**
 * The in-memory object store that drives the controllers. Objects are keyed by
 * `Kind/namespace/name`; each has a status, an origin and, once reconciled, an
 * artifact. Controllers learn about objects and status changes through typed
 * events, and wait for each other with `waitFor` (promises, no polling).
 */
import { EventEmitter } from "node:events";
import { isDeepStrictEqual } from "node:util";
import type { KubeObject, ObjectRef, Origin } from "../flux/objects.js";
import { refString } from "../flux/objects.js";
import type { RenderInputs } from "../flux/render-inputs.js";
import { isTerminal, PENDING, type Status } from "./status.js";

/** What a source resolves to: a revision and a local directory holding its content. */
export interface SourceArtifact {
  type: "source";
  revision: string;
  /** Absolute local path of the source root. */
  path: string;
  /** True when the source is the user's own checkout (or a `--sources` mapping). */
  local: boolean;
  url?: string;
  /**
   * Where the files of a generated artifact were copied from (ArtifactGenerators):
   * path relative to `path` (`/`-separated) -> absolute path of the original.
   */
  origins?: ReadonlyMap<string, string>;
}

/** Objects a Kustomization or HelmRelease produced. */
export interface RenderArtifact {
  type: "render";
  objects: KubeObject[];
  /** Absolute directory that was built (Kustomizations). */
  path?: string;
  /** What the render read (files, spec, substitutions, values, chart), as digests. */
  inputs?: RenderInputs;
}

export type Artifact = SourceArtifact | RenderArtifact;

export interface StoreEntry {
  ref: ObjectRef;
  key: string;
  /** The object as defined (after its producer's build, if any). */
  object: KubeObject;
  origin: Origin;
  status: Status;
  artifact?: Artifact;
  /** Incremented each time the definition changes; stale reconciles compare it. */
  generation: number;
}

export interface StoreEvents {
  added: [entry: StoreEntry];
  updated: [entry: StoreEntry, previous: KubeObject];
  status: [entry: StoreEntry];
}

export type AddOutcome = "added" | "updated" | "unchanged";

export class Store {
  private readonly entries = new Map<string, StoreEntry>();
  private readonly events = new EventEmitter<StoreEvents>();
  private readonly waiters = new Map<string, Array<(status: Status) => void>>();

  constructor() {
    this.events.setMaxListeners(0);
  }

  on<E extends keyof StoreEvents>(event: E, listener: (...args: StoreEvents[E]) => void): this {
    this.events.on(event, listener as never);
    return this;
  }

  get(ref: ObjectRef | string): StoreEntry | undefined {
    return this.entries.get(typeof ref === "string" ? ref : refString(ref));
  }

  has(ref: ObjectRef | string): boolean {
    return this.get(ref) !== undefined;
  }

  /** Every entry, in insertion order; optionally of one kind. */
  list(kind?: string): StoreEntry[] {
    const all = [...this.entries.values()];
    return kind ? all.filter((e) => e.ref.kind === kind) : all;
  }

  /**
   * Add or replace an object definition. An identical definition is a no-op, so
   * the same object produced twice does not trigger a second reconcile.
   */
  put(ref: ObjectRef, object: KubeObject, origin: Origin): AddOutcome {
    const key = refString(ref);
    const existing = this.entries.get(key);
    if (!existing) {
      const entry: StoreEntry = { ref, key, object, origin, status: { ...PENDING }, generation: 1 };
      this.entries.set(key, entry);
      this.events.emit("added", entry);
      return "added";
    }
    if (isDeepStrictEqual(comparable(existing.object), comparable(object))) {
      existing.origin = mergeOrigin(existing.origin, origin);
      return "unchanged";
    }
    const previous = existing.object;
    existing.object = object;
    existing.origin = mergeOrigin(existing.origin, origin);
    existing.generation++;
    existing.status = { ...PENDING };
    delete existing.artifact;
    this.events.emit("updated", existing, previous);
    return "updated";
  }

  setStatus(ref: ObjectRef | string, status: Status): void {
    const entry = this.get(ref);
    if (!entry)
      throw new Error(`store: no object ${typeof ref === "string" ? ref : refString(ref)}`);
    entry.status = status;
    this.events.emit("status", entry);
    if (isTerminal(status.phase)) {
      const pending = this.waiters.get(entry.key);
      if (pending) {
        this.waiters.delete(entry.key);
        for (const resolve of pending) resolve(status);
      }
    }
  }

  setArtifact(ref: ObjectRef | string, artifact: Artifact): void {
    const entry = this.get(ref);
    if (!entry)
      throw new Error(`store: no object ${typeof ref === "string" ? ref : refString(ref)}`);
    entry.artifact = artifact;
  }

  /**
   * Resolve with the object's status once it is terminal (Ready, Failed,
   * Suspended, Skipped). Resolves at once if it already is. If the object does not
   * exist yet, waits for it to appear; `release` ends such waits.
   */
  waitFor(ref: ObjectRef | string): Promise<Status> {
    const key = typeof ref === "string" ? ref : refString(ref);
    const entry = this.entries.get(key);
    if (entry && isTerminal(entry.status.phase)) return Promise.resolve(entry.status);
    return new Promise((resolve) => {
      const list = this.waiters.get(key) ?? [];
      list.push(resolve);
      this.waiters.set(key, list);
    });
  }

  /** Keys that somebody is waiting for. */
  awaitedKeys(): string[] {
    return [...this.waiters.keys()];
  }

  /** End the waits on `key` with `status` (used to break deadlocks: missing objects, cycles). */
  release(key: string, status: Status): void {
    const pending = this.waiters.get(key);
    if (!pending) return;
    this.waiters.delete(key);
    for (const resolve of pending) resolve(status);
  }
}

/**
 * The most precise origin: a producer beats a bare file scan, and a line found
 * by the scan is kept when the producer reports the same file without one.
 */
function mergeOrigin(previous: Origin, next: Origin): Origin {
  if (!next.producer && previous.producer) return previous;
  const line = next.line ?? (next.file && next.file === previous.file ? previous.line : undefined);
  return { ...next, ...(line ? { line } : {}) };
}

/** Labels that builds add do not make a definition different. */
function comparable(object: KubeObject): unknown {
  const md = object.metadata ?? {};
  const labels = { ...(md.labels ?? {}) };
  delete labels["kustomize.toolkit.fluxcd.io/name"];
  delete labels["kustomize.toolkit.fluxcd.io/namespace"];
  return { ...object, metadata: { ...md, labels } };
}
