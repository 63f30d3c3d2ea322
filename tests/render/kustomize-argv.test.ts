import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { onCommand } from "../../src/exec/run.js";
import { ProcessRunner } from "../../src/render/kustomize/runner.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "flux-local-argv-"));
  await writeFile(path.join(dir, "kustomization.yaml"), "resources: [cm.yaml]\n");
  await writeFile(
    path.join(dir, "cm.yaml"),
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: b\n",
  );
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("kustomize, one process per build", () => {
  it("runs exactly `kustomize build DIR --load-restrictor LoadRestrictionsNone`", async () => {
    const seen: Array<readonly string[]> = [];
    const stop = onCommand((event) => seen.push(event.argv));
    try {
      const out = await new ProcessRunner().build(dir, { loadRestrictionsNone: true });
      expect(out).toContain("name: cm");
    } finally {
      stop();
    }
    expect(seen).toHaveLength(1);
    const [argv] = seen;
    // kustomize itself, or `kubectl kustomize` as the fallback.
    const tool = path.basename(argv![0]!);
    const args = tool === "kubectl" ? argv!.slice(2) : argv!.slice(1);
    expect(tool === "kubectl" ? argv![1] : tool).toBe("kustomize");
    expect(args).toEqual(["build", dir, "--load-restrictor", "LoadRestrictionsNone"]);
  });
});
