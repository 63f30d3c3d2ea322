/**
 * Controllers loaded on their first object (src/controllers/lazy.ts): loaded
 * once however many objects arrive together, and a part that cannot be
 * loaded fails the object with the part named instead of crashing the run.
 */
import { describe, expect, it } from "vitest";
import { lazyReconciler } from "../../src/controllers/lazy.js";
import type { Outcome, Reconciler } from "../../src/controllers/harness.js";
import type { StoreEntry } from "../../src/store/store.js";

const entry = {} as StoreEntry;
const object = {} as never;

/** What the harness does with a body: reconcile, and recover from what it throws. */
async function reconcileWith(body: Reconciler<"ResourceSet">): Promise<Outcome> {
  try {
    return await body.reconcile(object, entry, 1);
  } catch (err) {
    if (body.recover) return body.recover(err);
    throw err;
  }
}

describe("lazyReconciler", () => {
  it("loads its controller once, on the first object, and delegates to it", async () => {
    let loads = 0;
    const body = lazyReconciler(
      ["ResourceSet"],
      "the ResourceSet controller",
      "BuildFailed",
      () => {
        loads++;
        return Promise.resolve({
          kinds: ["ResourceSet"],
          reconcile: () =>
            Promise.resolve({ phase: "Ready", reason: "ReconciliationSucceeded", message: "" }),
        } satisfies Reconciler<"ResourceSet">);
      },
    );
    expect(loads).toBe(0);
    const outcomes = await Promise.all([1, 2, 3].map(() => reconcileWith(body)));
    expect(outcomes.map((o) => o.phase)).toEqual(["Ready", "Ready", "Ready"]);
    expect(loads).toBe(1);
  });

  it("fails the object, naming the part, when the module cannot be loaded", async () => {
    const body = lazyReconciler(["ResourceSet"], "the ResourceSet controller", "BuildFailed", () =>
      Promise.reject(new Error("Cannot find module '/x/controller.js'\n    at somewhere")),
    );
    const outcome = await reconcileWith(body);
    expect(outcome).toMatchObject({ phase: "Failed", reason: "BuildFailed" });
    expect(outcome.message).toBe(
      "the ResourceSet controller could not be loaded: Cannot find module '/x/controller.js' (the installation of flux-local is incomplete; reinstall it)",
    );
  });

  it("hands what the loaded controller throws to its own recover", async () => {
    const body = lazyReconciler(["ResourceSet"], "the ResourceSet controller", "BuildFailed", () =>
      Promise.resolve({
        kinds: ["ResourceSet"],
        reconcile: () => Promise.reject(new Error("boom")),
        recover: (err: unknown): Outcome => ({
          phase: "Failed",
          reason: "BuildFailed",
          message: `recovered: ${(err as Error).message}`,
        }),
      } satisfies Reconciler<"ResourceSet">),
    );
    expect((await reconcileWith(body)).message).toBe("recovered: boom");
  });
});
