/**
 * Hostile repositories for the hardening tests: a tiny Flux repository whose
 * one Kustomization `app` builds `./app`, plus a folder outside the repository
 * holding a secret that must never be read.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach } from "vitest";
import { runCli, type CliResult } from "../support/cli.js";
import { bootstrap, fluxKustomization, useTempRepos, type TempRepo } from "../support/repo.js";

export const SECRET = "TOP-SECRET-OUTSIDE-THE-REPOSITORY";

export interface Hostile {
  makeRepo: ReturnType<typeof useTempRepos>;
  /** A folder outside any repository with `secret.txt`, `secret.env` and `patch.yaml`. */
  outside(): Promise<string>;
}

export function useHostile(): Hostile {
  const makeRepo = useTempRepos();
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  return {
    makeRepo,
    async outside() {
      const dir = await mkdtemp(path.join(os.tmpdir(), "flux-local-outside-"));
      dirs.push(dir);
      await writeFile(path.join(dir, "secret.txt"), `${SECRET}\n`);
      await writeFile(path.join(dir, "secret.env"), `LEAK=${SECRET}\n`);
      await writeFile(
        path.join(dir, "patch.yaml"),
        `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  leak: ${SECRET}\n`,
      );
      return dir;
    },
  };
}

/**
 * A cluster whose Kustomization `apps` builds `./app` of a GitRepository
 * `apps` at `url` (`ref` as Flux writes it, e.g. `branch: main`).
 */
export function remoteAppsCluster(url: string, ref: string, more = ""): Record<string, string> {
  return {
    "clusters/prod/flux-system/gotk.yaml": bootstrap(),
    "clusters/prod/apps.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: apps
  namespace: flux-system
spec:
  url: ${url}
  ref:
    ${ref}
---
${fluxKustomization("apps", { path: "./app", sourceRef: { kind: "GitRepository", name: "apps" } })}${more}`,
  };
}

/** The repository: bootstrap, Kustomization `app` at `./app`, plus `files`. */
export function appRepo(
  makeRepo: Hostile["makeRepo"],
  files: Record<string, string | { symlink: string }>,
): Promise<TempRepo> {
  return makeRepo({
    "clusters/prod/flux-system/gotk.yaml": bootstrap(),
    "clusters/prod/app.yaml": fluxKustomization("app", { path: "./app" }),
    ...files,
  });
}

export const settings =
  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  a: b\n";

export function buildAll(
  repo: TempRepo,
  extra: string[] = [],
  env?: Record<string, string>,
): Promise<CliResult> {
  return runCli(["build", "all", "--path", "clusters/prod", ...extra], {
    cwd: repo.root,
    ...(env ? { env } : {}),
  });
}
