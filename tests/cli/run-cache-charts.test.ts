/**
 * The run cache and a chart in the checkout: a run that rendered it is kept
 * and replayed; a changed chart file, or a file added in one of its folders,
 * renders again. (The chart's files are listed one folder at a time, so each
 * listing is checked on replay.)
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli, type CliResult } from "../support/cli.js";
import { bootstrap, fluxKustomization, useTempRepos } from "../support/repo.js";
import { chartFiles, docs, gitChart, helmRelease } from "../helm/support.js";

const REPLAYED = "run cache: replayed";
const makeRepo = useTempRepos();

let cacheDir: string;
beforeEach(async () => {
  cacheDir = await mkdtemp(path.join(os.tmpdir(), "flux-local-run-cache-charts-"));
});
afterEach(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

function build(root: string): Promise<CliResult> {
  return runCli(["build", "all", "--path", "clusters/prod", "--enable-helm", "-v"], {
    cwd: root,
    env: { FLUX_LOCAL_CACHE_DIR: cacheDir },
    runCache: true,
  });
}

describe("the run cache and a chart in the checkout", () => {
  it("replays a run that rendered it, and renders again when a file is added in a chart folder", async () => {
    const repo = await makeRepo({
      "clusters/prod/flux-system/gotk.yaml": bootstrap(),
      "clusters/prod/apps.yaml": fluxKustomization("apps", { path: "./apps" }),
      ...(await chartFiles("podinfo", "charts/podinfo")),
      "apps/release.yaml": docs(
        helmRelease("podinfo", "web", { chart: gitChart("./charts/podinfo") }),
      ),
    });
    const first = await build(repo.root);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stderr).not.toContain("not kept");
    const second = await build(repo.root);
    expect(second.stderr).toContain(REPLAYED);
    expect(second.stdout).toBe(first.stdout);

    const sub = path.join(repo.root, "charts", "podinfo", "templates", "extra");
    await mkdir(sub);
    await writeFile(
      path.join(sub, "added.yaml"),
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: added\n",
    );
    const third = await build(repo.root);
    expect(third.stderr).not.toContain(REPLAYED);
    expect(third.exitCode, third.stderr).toBe(0);
    expect(third.stdout).toContain("name: added");
    expect((await build(repo.root)).stderr).toContain(REPLAYED);
  });
});
