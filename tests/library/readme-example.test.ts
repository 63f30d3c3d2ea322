/**
 * The library example of the README, run as it is written (with its import
 * pointed at this checkout): a user must be able to start from it alone.
 */
import { execa } from "execa";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { useTempRepos } from "../support/repo.js";

const projectRoot = path.resolve(import.meta.dirname, "..", "..");

function readmeExample(): string {
  const readme = readFileSync(path.join(projectRoot, "README.md"), "utf8");
  const block = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((m) => m[1] ?? "")
    .find((code) => code.includes('from "flux-local"'));
  if (!block) throw new Error("README has no ```ts example importing flux-local");
  const entry = pathToFileURL(path.join(projectRoot, "src", "index.ts")).href;
  return block.replace('from "flux-local"', `from ${JSON.stringify(entry)}`);
}

const ks = (name: string, p: string) =>
  `apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: ${name}\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ${p}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n`;

describe("the README's library example", () => {
  const makeRepo = useTempRepos();

  it("runs as written: lists the Kustomizations and prints the failures", async () => {
    const repo = await makeRepo({
      "clusters/prod/apps.yaml": ks("apps", "./apps") + "---\n" + ks("broken", "./missing"),
      "apps/configmap.yaml":
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\n",
    });
    const script = path.join(repo.root, "example.mts");
    await writeFile(script, readmeExample());
    const out = await execa(path.join(projectRoot, "node_modules", ".bin", "tsx"), [script], {
      cwd: repo.root,
      reject: false,
    });
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toContain("Kustomization/flux-system/apps Ready");
    expect(out.stdout).toContain("Kustomization/flux-system/broken Failed");
    expect(out.stderr).toMatch(
      /^1 failure:\n- Kustomization flux-system\/broken \(clusters\/prod\/apps.yaml:\d+\)/,
    );
  });
});
