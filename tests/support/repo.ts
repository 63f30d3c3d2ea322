/**
 * Temporary Flux repositories for tests: real files in a real git repository
 * (so the bootstrap source maps to its root, as for a user's checkout).
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach } from "vitest";

export interface TempRepo {
  root: string;
  cleanup(): Promise<void>;
}

/** `files` maps relative paths to contents; a value `{ symlink: target }` makes a link. */
export async function makeRepo(
  files: Record<string, string | { symlink: string }>,
  options: { git?: boolean } = {},
): Promise<TempRepo> {
  const root = await mkdtemp(path.join(os.tmpdir(), "flux-local-repo-"));
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel);
    await mkdir(path.dirname(file), { recursive: true });
    if (typeof content === "string") await writeFile(file, content);
    else await symlink(content.symlink, file);
  }
  if (options.git !== false) {
    const git = (...args: string[]) => execFileSync("git", args, { cwd: root, stdio: "ignore" });
    git("init", "-q");
    git("add", "-A");
    git(
      "-c",
      "user.name=test",
      "-c",
      "user.email=test@example.com",
      "commit",
      "-qm",
      "init",
      "--no-gpg-sign",
    );
  }
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/**
 * Temp repositories removed after each test: call once in a test file (or a
 * describe block); the function it returns makes one, as makeRepo does.
 */
export function useTempRepos(): typeof makeRepo {
  const made: TempRepo[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((repo) => repo.cleanup()));
  });
  return async (files, options) => {
    const repo = await makeRepo(files, options);
    made.push(repo);
    return repo;
  };
}

/** A bootstrap GitRepository plus a flux-system Kustomization building `clusterPath`. */
export function bootstrap(clusterPath = "./clusters/prod"): string {
  return `---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  url: https://git.example.com/fleet.git
  ref:
    branch: main
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  path: ${clusterPath}
  sourceRef:
    kind: GitRepository
    name: flux-system
`;
}

/** A Flux Kustomization document. */
export function fluxKustomization(name: string, spec: Record<string, unknown>): string {
  const doc = {
    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
    kind: "Kustomization",
    metadata: { name, namespace: "flux-system" },
    spec: { sourceRef: { kind: "GitRepository", name: "flux-system" }, ...spec },
  };
  return `---\n${JSON.stringify(doc, null, 2)}\n`;
}

/**
 * A Kustomization `bad` built from an OCIRepository that cannot be fetched
 * (`registry.invalid`), and a Kustomization `after` that depends on it.
 */
export const failingSource: Record<string, string> = {
  "clusters/prod/bad.yaml": fluxKustomization("bad", {
    path: "./apps",
    sourceRef: { kind: "OCIRepository", name: "remote" },
  }),
  "clusters/prod/remote.yaml":
    "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: remote\n  namespace: flux-system\nspec:\n  url: oci://registry.invalid/manifests\n  ref:\n    tag: latest\n",
  "clusters/prod/after.yaml": fluxKustomization("after", {
    path: "./apps",
    dependsOn: [{ name: "bad" }],
  }),
};

export function configMap(
  name: string,
  data: Record<string, string>,
  namespace = "default",
): string {
  return `---\n${JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace }, data }, null, 2)}\n`;
}

/** Every file of `testdata/NAME`, by path relative to it: a temp repository's content. */
export async function exampleFiles(name: string, rel = ""): Promise<Record<string, string>> {
  const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../testdata", name);
  const out: Record<string, string> = {};
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const child = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, await exampleFiles(name, child));
    else out[child] = await readFile(path.join(dir, child), "utf8");
  }
  return out;
}
