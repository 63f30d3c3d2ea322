/**
 * The controller manager: reacts to store events by scheduling reconciles,
 * runs the work on a bounded queue, and lets reconciles wait for each other
 * through promises. Waiting never holds a queue slot. When nothing can make
 * progress (every reconcile is waiting) it breaks the deadlock: waits on
 * objects that never appeared end as "not found", and waits that form a cycle
 * end as a dependency cycle, reported for every member.
 *
 * Work can also wait for demand (`awaitDemand`): a source is fetched only once
 * something in the run waits for it to be ready. Demand that never comes ends
 * last, when nothing else can progress, so a source that no consumer asked
 * for is never fetched.
 *
 * And for quiet (`awaitQuiet`): a ResourceSet that selects its input providers
 * by label must see every provider the run will produce, so it waits until
 * nothing else can progress; such waits end one at a time, after held reconciles
 * that are needed are released, before anything is called missing.
 *
 * A reconcile can also be held until it is needed (`hold`, for `build ks
 * NAME`): it goes ahead once something waits for its object, or when the run
 * can progress no other way while what was asked for is not done yet (a held
 * one may produce it, or what it waits for); otherwise it ends unneeded.
 */
import PQueue from "p-queue";
import { refString, type ObjectRef } from "../flux/objects.js";
import type { Store, StoreEntry } from "../store/store.js";
import type { Status } from "../store/status.js";
import { errorMessage } from "../util/errors.js";
import { logger } from "../util/log.js";

/** Definitions of one object in one run before it is failed as not converging. */
const MAX_GENERATIONS = 16;

export interface Controller {
  /** Kinds this controller reconciles (store ref kinds, e.g. "Kustomization"). */
  readonly kinds: readonly string[];
  reconcile(entry: StoreEntry, generation: number): Promise<void>;
}

interface Wait {
  /** Key of the reconciling object that waits (if known). */
  waiter?: string;
  target: string;
  kind: "presence" | "ready" | "demand" | "quiet" | "hold";
  resolve: (value: StoreEntry | Status | boolean | undefined) => void;
}

export class Manager {
  readonly queue: PQueue;
  private readonly controllers = new Map<string, Controller>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly waits = new Set<Wait>();
  /** Keys of objects something in the run has waited to be ready. */
  private readonly demanded = new Set<string>();
  /** Keys of objects something in the run has waited to exist. */
  private readonly present = new Set<string>();
  /**
   * With holds (`build ks NAME`): whether what was asked for is done. Until it
   * is, a run that can make no other progress releases every held reconcile.
   */
  wantedDone: (() => boolean) | undefined;
  /**
   * Held reconciles more likely to produce what was asked for (an app's
   * Kustomization is usually named like its HelmRelease): released first.
   */
  wantedHint: ((key: string) => boolean) | undefined;
  private running = 0;
  private idleResolvers: Array<() => void> = [];
  private checkScheduled = false;
  private started = false;

  constructor(
    readonly store: Store,
    concurrency: number,
  ) {
    this.queue = new PQueue({ concurrency });
    store.on("added", (entry) => this.schedule(entry));
    store.on("updated", (entry) => this.schedule(entry));
    store.on("added", (entry) => this.resolvePresence(entry));
  }

  register(controller: Controller): void {
    for (const kind of controller.kinds) this.controllers.set(kind, controller);
  }

  handles(kind: string): boolean {
    return this.controllers.has(kind);
  }

  /** Schedule every existing object of the registered kinds (after seeding the store). */
  start(): void {
    this.started = true;
    for (const entry of this.store.list()) this.schedule(entry);
    this.maybeIdle();
  }

  private schedule(entry: StoreEntry): void {
    if (!this.started) return; // seeding: start() schedules everything at once
    const controller = this.controllers.get(entry.ref.kind);
    if (!controller) return;
    const generation = entry.generation;
    if (generation > MAX_GENERATIONS) {
      // Objects that keep redefining each other (a Kustomization whose build
      // defines another that redefines the first) never reach a fixed point.
      if (entry.status.phase !== "Failed") {
        const producer = entry.origin.producer ? `, last by ${entry.origin.producer}` : "";
        this.store.setStatus(entry.ref, {
          phase: "Failed",
          reason: "BuildFailed",
          message: `${entry.key} does not converge: its definition changed ${generation - 1} times in one run${producer}; objects whose builds keep redefining each other never settle`,
        });
      }
      return;
    }
    this.running++;
    const task = (async () => {
      try {
        await controller.reconcile(entry, generation);
      } catch (err) {
        // Controllers record expected failures as status; anything else is a bug,
        // still reported on the object so the run completes.
        logger.error({ err, object: entry.key }, "reconcile crashed");
        if (entry.generation === generation) {
          this.store.setStatus(entry.ref, {
            phase: "Failed",
            reason: "BuildFailed",
            message: `internal error: ${errorMessage(err)}`,
          });
        }
      }
    })();
    this.inFlight.add(task);
    void task.finally(() => {
      this.inFlight.delete(task);
      this.running--;
      this.maybeIdle();
    });
  }

  /** Wait until an object exists; undefined if it never appears. */
  awaitPresence(target: ObjectRef | string, waiter?: string): Promise<StoreEntry | undefined> {
    const key = typeof target === "string" ? target : refString(target);
    this.release(key);
    const entry = this.store.get(key);
    if (entry) return Promise.resolve(entry);
    return this.park({ waiter, target: key, kind: "presence" }) as Promise<StoreEntry | undefined>;
  }

  /** Wait until an object's status is terminal; a synthetic failure if it never can be. */
  awaitReady(target: ObjectRef | string, waiter?: string): Promise<Status> {
    const key = typeof target === "string" ? target : refString(target);
    this.demand(key);
    const entry = this.store.get(key);
    if (entry && isDone(entry)) return Promise.resolve(entry.status);
    return this.park({ waiter, target: key, kind: "ready" }) as Promise<Status>;
  }

  /**
   * Wait until something in the run needs this object ready (an `awaitReady`
   * on it): true then, false when the run ends without anyone asking.
   */
  awaitDemand(target: ObjectRef | string): Promise<boolean> {
    const key = typeof target === "string" ? target : refString(target);
    if (this.demanded.has(key)) return Promise.resolve(true);
    return this.park({ target: key, kind: "demand" }) as Promise<boolean>;
  }

  /**
   * Wait until nothing else in the run can progress (every other reconcile
   * done or waiting): then everything that will be produced before this
   * object continues has been. Quiet waits end one at a time, by key.
   */
  awaitQuiet(waiter: string): Promise<void> {
    return this.park({ waiter, target: waiter, kind: "quiet" }).then(() => undefined);
  }

  /**
   * Park a reconcile that may not be needed (`build ks NAME`): true as soon
   * as something waits for `key` (to be ready or present), or when the run
   * can progress no other way and what was asked is not done; false when the
   * run is done without it. Like a wait, a hold never keeps a queue slot.
   */
  hold(key: string): Promise<boolean> {
    if (this.demanded.has(key) || this.present.has(key)) return Promise.resolve(true);
    return this.park({ target: key, kind: "hold" }) as Promise<boolean>;
  }

  private demand(key: string): void {
    if (this.demanded.has(key)) return;
    this.demanded.add(key);
    for (const wait of [...this.waits]) {
      if ((wait.kind === "demand" || wait.kind === "hold") && wait.target === key)
        wait.resolve(true);
    }
  }

  /** Something waits for `key` to exist: a held reconcile of it goes ahead. */
  private release(key: string): void {
    if (this.present.has(key)) return;
    this.present.add(key);
    for (const wait of [...this.waits]) {
      if (wait.kind === "hold" && wait.target === key) wait.resolve(true);
    }
  }

  private park(wait: Omit<Wait, "resolve">): Promise<StoreEntry | Status | boolean | undefined> {
    this.running--;
    return new Promise((resolve) => {
      const full: Wait = {
        ...wait,
        resolve: (value) => {
          if (!this.waits.delete(full)) return;
          this.running++;
          resolve(value);
        },
      };
      this.waits.add(full);
      if (wait.kind === "ready") {
        void this.store.waitFor(wait.target).then((status) => full.resolve(status));
      }
      this.maybeIdle();
    });
  }

  private resolvePresence(entry: StoreEntry): void {
    for (const wait of [...this.waits]) {
      if (wait.kind === "presence" && wait.target === entry.key) wait.resolve(entry);
    }
  }

  /** Resolves when every reconcile has finished and nothing is queued. */
  async idle(): Promise<void> {
    if (this.running === 0 && this.waits.size === 0 && this.inFlight.size === 0) return;
    await new Promise<void>((resolve) => this.idleResolvers.push(resolve));
  }

  private maybeIdle(): void {
    if (this.checkScheduled) return;
    this.checkScheduled = true;
    // Let promise chains settle before deciding that nothing can progress.
    setImmediate(() => {
      this.checkScheduled = false;
      if (this.running > 0 || this.queue.size > 0 || this.queue.pending > 0) return;
      if (this.waits.size > 0) {
        this.breakDeadlock();
        return;
      }
      if (this.inFlight.size === 0) {
        const resolvers = this.idleResolvers;
        this.idleResolvers = [];
        for (const resolve of resolvers) resolve();
      }
    });
  }

  private breakDeadlock(): void {
    const all = [...this.waits];
    const waits = all.filter((w) => w.kind === "presence" || w.kind === "ready");
    // 0. Held reconciles may produce what the waits (or the object asked for)
    // need: release them all before deciding anything is missing.
    const holds = all.filter((w) => w.kind === "hold");
    if (holds.length > 0 && waits.length > 0) {
      for (const w of holds) w.resolve(true);
      return;
    }
    // What was asked for is not found yet: any held reconcile may produce it.
    // The likely ones first, else a few at a time by key, so the search stops
    // as soon as it turns up.
    if (holds.length > 0 && !(this.wantedDone?.() ?? true)) {
      const likely = holds.filter((w) => this.wantedHint?.(w.target));
      const next =
        likely.length > 0
          ? likely
          : holds
              .sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0))
              .slice(0, Math.max(1, this.queue.concurrency));
      for (const w of next) w.resolve(true);
      return;
    }
    // Quiet waits next: what they go on to produce may end other waits.
    const quiet = all
      .filter((w) => w.kind === "quiet")
      .sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
    if (quiet[0]) {
      quiet[0].resolve(undefined);
      return;
    }
    // 1. Demand that never came, and holds nothing needed: only once nothing
    // else waits (a wait that ends below may still lead to an object that asks).
    if (waits.length === 0) {
      for (const w of all) w.resolve(false);
      return;
    }
    // 2. Objects that never appeared.
    const missing = waits.filter((w) => !this.store.has(w.target));
    if (missing.length > 0) {
      for (const w of missing) {
        if (w.kind === "presence") w.resolve(undefined);
        else
          w.resolve({
            phase: "Failed",
            reason: "DependencyNotFound",
            message: `${w.target} not found`,
          });
      }
      return;
    }
    // 3. Cycles among waiting reconciles.
    const edges = new Map<string, string[]>();
    for (const w of waits) {
      if (!w.waiter) continue;
      edges.set(w.waiter, [...(edges.get(w.waiter) ?? []), w.target]);
    }
    const cycle = findCycle(edges);
    if (cycle) {
      const members = new Set(cycle);
      const text = [...cycle, cycle[0]].join(" -> ");
      for (const w of waits) {
        if (w.waiter && members.has(w.waiter) && members.has(w.target)) {
          w.resolve({
            phase: "Failed",
            reason: "DependencyCycle",
            message: `dependency cycle: ${text}`,
          });
        }
      }
      return;
    }
    // 4. Waiting on objects nobody reconciles (no controller for their kind).
    for (const w of waits) {
      const entry = this.store.get(w.target);
      if (w.kind === "presence") w.resolve(entry);
      else
        w.resolve(
          entry?.status && isDone(entry)
            ? entry.status
            : {
                phase: "Failed",
                reason: "DependencyNotReady",
                message: `${w.target} is not reconciled in this run`,
              },
        );
    }
  }
}

function isDone(entry: StoreEntry): boolean {
  const p = entry.status.phase;
  return p === "Ready" || p === "Failed" || p === "Suspended" || p === "Skipped";
}

/** A cycle in a directed graph, as the list of its nodes, or undefined. */
export function findCycle(edges: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, "visiting");
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      const s = state.get(next);
      if (s === "visiting") return stack.slice(stack.indexOf(next));
      if (s === undefined) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of [...edges.keys()].sort()) {
    if (state.get(node) === undefined) {
      const found = visit(node);
      if (found) return found;
    }
  }
  return undefined;
}
