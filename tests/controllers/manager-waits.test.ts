/**
 * The manager on its own, with controllers that only wait and set status:
 * waits never hold a queue slot, objects that appear later end presence waits,
 * and a run that cannot progress ends its waits as not found or as a cycle.
 */
import { describe, expect, it } from "vitest";
import { Manager, type Controller } from "../../src/controllers/manager.js";
import type { Status } from "../../src/store/status.js";
import { Store, type StoreEntry } from "../../src/store/store.js";

const READY: Status = { phase: "Ready", reason: "ReconciliationSucceeded", message: "" };
const ks = (name: string) => ({ kind: "Kustomization", namespace: "flux-system", name });
const key = (name: string) => `Kustomization/flux-system/${name}`;

/** A controller whose objects wait for the objects named in `waits`, then copy their status. */
function waiting(manager: () => Manager, store: Store, waits: Record<string, string[]>) {
  const controller: Controller = {
    kinds: ["Kustomization"],
    async reconcile(entry: StoreEntry) {
      for (const target of waits[entry.ref.name] ?? []) {
        const status = await manager().awaitReady(key(target), entry.key);
        if (status.phase !== "Ready") {
          store.setStatus(entry.ref, { ...status, rootCause: key(target) });
          return;
        }
      }
      await manager().queue.add(async () => {}); // some queued work
      store.setStatus(entry.ref, READY);
    },
  };
  return controller;
}

async function runWith(names: string[], waits: Record<string, string[]>, concurrency = 1) {
  const store = new Store();
  const manager = new Manager(store, concurrency);
  manager.register(waiting(() => manager, store, waits));
  for (const name of names) store.put(ks(name), {}, {});
  manager.start();
  await manager.idle();
  return store;
}

describe("Manager", () => {
  it("runs a chain with one queue slot: waiting never holds the slot", async () => {
    const store = await runWith(["c", "b", "a"], { c: ["b"], b: ["a"] }, 1);
    expect(store.list().map((e) => [e.ref.name, e.status.phase])).toEqual([
      ["c", "Ready"],
      ["b", "Ready"],
      ["a", "Ready"],
    ]);
  });

  it("ends a wait on an object that never appears as DependencyNotFound", async () => {
    const store = await runWith(["app"], { app: ["missing"] });
    expect(store.get(ks("app"))?.status).toMatchObject({
      phase: "Failed",
      reason: "DependencyNotFound",
      message: `${key("missing")} not found`,
      rootCause: key("missing"),
    });
  });

  it("reports a cycle on every member", async () => {
    const store = await runWith(["a", "b", "c", "outside"], {
      a: ["b"],
      b: ["c"],
      c: ["a"],
      outside: ["a"],
    });
    for (const name of ["a", "b", "c"]) {
      expect(store.get(ks(name))?.status).toMatchObject({
        phase: "Failed",
        reason: "DependencyCycle",
      });
    }
    expect(store.get(ks("a"))?.status.message).toMatch(/a -> .*b -> .*c -> .*a/);
    // Depending on a member fails with the member as the root cause.
    expect(store.get(ks("outside"))?.status).toMatchObject({
      phase: "Failed",
      rootCause: key("a"),
    });
  });

  it("resolves a presence wait when the object is added later", async () => {
    const store = new Store();
    const manager = new Manager(store, 2);
    let seen: StoreEntry | undefined;
    manager.register({
      kinds: ["Kustomization"],
      async reconcile(entry) {
        if (entry.ref.name === "consumer") {
          seen = await manager.awaitPresence(
            { kind: "ConfigMap", namespace: "flux-system", name: "vars" },
            entry.key,
          );
        } else {
          store.put({ kind: "ConfigMap", namespace: "flux-system", name: "vars" }, {}, {});
        }
        store.setStatus(entry.ref, READY);
      },
    });
    store.put(ks("consumer"), {}, {});
    store.put(ks("producer"), {}, {});
    manager.start();
    await manager.idle();
    expect(seen?.key).toBe("ConfigMap/flux-system/vars");
  });

  it("ends a presence wait with undefined when nothing will add the object", async () => {
    const store = new Store();
    const manager = new Manager(store, 1);
    let seen: StoreEntry | undefined | "unset" = "unset";
    manager.register({
      kinds: ["Kustomization"],
      async reconcile(entry) {
        seen = await manager.awaitPresence("ConfigMap/flux-system/nowhere", entry.key);
        store.setStatus(entry.ref, READY);
      },
    });
    store.put(ks("consumer"), {}, {});
    manager.start();
    await manager.idle();
    expect(seen).toBeUndefined();
  });

  it("ends quiet waits one at a time, by key, before deciding anything is missing", async () => {
    const store = new Store();
    const manager = new Manager(store, 1);
    const order: string[] = [];
    manager.register({
      kinds: ["Kustomization"],
      async reconcile(entry: StoreEntry) {
        if (entry.ref.name.startsWith("quiet-")) {
          await manager.awaitQuiet(entry.key);
          order.push(entry.ref.name);
          // What a quiet waiter produces is there for what waits on it.
          if (entry.ref.name === "quiet-b") store.put(ks("made"), {}, { producer: entry.key });
        } else if (entry.ref.name === "needs-made") {
          await manager.awaitPresence(key("made"), entry.key);
          order.push("needs-made");
        }
        store.setStatus(entry.ref, READY);
      },
    });
    for (const name of ["quiet-b", "needs-made", "quiet-a"]) store.put(ks(name), {}, {});
    manager.start();
    await manager.idle();
    expect(order).toEqual(["quiet-a", "quiet-b", "needs-made"]);
    expect(store.get(ks("made"))).toBeDefined();
  });
});
