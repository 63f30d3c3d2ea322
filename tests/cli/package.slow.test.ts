/**
 * The packed package in a fresh folder, as a user installs it: `npm pack`
 * (prepack builds dist/), `npm install ./flux-local-X.tgz`, then `npx
 * flux-local` with kustomize/helm found on PATH or through FLUX_LOCAL_*, and
 * the message when they are missing.
 */
import { execa } from "execa";
import { cp, mkdir, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const tools = path.join(projectRoot, ".tools", "bin");

describe("the packed package, installed in a fresh folder", () => {
  let dir: string;
  let toolBin: string;
  let version: string;
  /** PATH with node and git, without kustomize/helm. */
  let basePath: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "flux-local-pack-"));
    ({ version } = JSON.parse(await readFile(path.join(projectRoot, "package.json"), "utf8")) as {
      version: string;
    });
    await execa("npm", ["pack", "--pack-destination", dir, "--loglevel=error"], {
      cwd: projectRoot,
    });
    const app = path.join(dir, "app");
    await mkdir(app);
    await execa("npm", ["init", "-y"], { cwd: app });
    await execa(
      "npm",
      [
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        path.join(dir, `flux-local-${version}.tgz`),
      ],
      { cwd: app },
    );
    await cp(path.join(projectRoot, "testdata", "example"), path.join(app, "testdata", "example"), {
      recursive: true,
    });
    // A user's checkout: the example's Kustomization paths are relative to the git root.
    const git = (...args: string[]) => execa("git", args, { cwd: app });
    await git("init", "-q");
    await git("add", "testdata");
    await git(
      "-c",
      "user.name=t",
      "-c",
      "user.email=t@example.com",
      "commit",
      "-qm",
      "example",
      "--no-gpg-sign",
    );
    toolBin = path.join(dir, "bin");
    await mkdir(toolBin);
    await symlink(path.join(tools, "kustomize"), path.join(toolBin, "kustomize"));
    await symlink(path.join(tools, "helm"), path.join(toolBin, "helm"));
    // Only node, npm and what npx needs: no kustomize, helm or kubectl (this machine has one).
    const baseBin = path.join(dir, "base-bin");
    await mkdir(baseBin);
    const nodeBin = path.dirname(process.execPath);
    for (const name of ["node", "npm", "npx"]) {
      await symlink(path.join(nodeBin, name), path.join(baseBin, name));
    }
    for (const name of ["sh", "env", "git"]) {
      const { stdout } = await execa("sh", ["-c", `command -v ${name}`]);
      await symlink(stdout.trim(), path.join(baseBin, name));
    }
    basePath = baseBin;
  }, 300_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const npx = (args: string[], env: Record<string, string>) =>
    execa("npx", ["--no-install", "flux-local", ...args], {
      cwd: path.join(dir, "app"),
      env: { NO_COLOR: "1", NPM_CONFIG_UPDATE_NOTIFIER: "false", ...env },
      extendEnv: false,
      reject: false,
    });

  it("renders testdata/example with the tools on PATH", async () => {
    const result = await npx(["build", "all", "--path", "testdata/example"], {
      PATH: [toolBin, basePath].join(path.delimiter),
      HOME: dir,
    });
    expect(result.stderr).not.toContain("internal error");
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(String(result.stdout)).toMatch(/^kind: /m);
  });

  it("renders with the tools named by FLUX_LOCAL_KUSTOMIZE/FLUX_LOCAL_HELM", async () => {
    const result = await npx(["build", "all", "--path", "testdata/example"], {
      PATH: basePath,
      HOME: dir,
      FLUX_LOCAL_KUSTOMIZE: path.join(toolBin, "kustomize"),
      FLUX_LOCAL_HELM: path.join(toolBin, "helm"),
    });
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(String(result.stdout)).toMatch(/^kind: /m);
  });

  it("--version prints the package version and the tools found on PATH", async () => {
    const result = await npx(["--version"], {
      PATH: [toolBin, basePath].join(path.delimiter),
      HOME: dir,
    });
    expect(result.exitCode).toBe(0);
    const stdout = String(result.stdout);
    expect(stdout.split("\n")[0]).toBe(`flux-local ${version}`);
    expect(stdout).toContain(`(${path.join(toolBin, "kustomize")}, from PATH)`);
    expect(stdout).toContain(`(${path.join(toolBin, "helm")}, from PATH)`);
    expect(stdout).toContain("kustomize worker: not found");
  });

  it("without kustomize: doctor exits 1 and a render says how to install it", async () => {
    const doctor = await npx(["doctor"], { PATH: basePath, HOME: dir });
    expect(doctor.exitCode).toBe(1);
    expect(String(doctor.stdout)).toMatch(/^MISSING kustomize: not found/m);
    expect(String(doctor.stdout)).toContain("go install sigs.k8s.io/kustomize/kustomize/v5");

    const build = await npx(["build", "all", "--path", "testdata/example"], {
      PATH: basePath,
      HOME: dir,
    });
    expect(build.exitCode).not.toBe(0);
    expect(String(build.stderr)).toContain("kustomize not found on PATH. Install it: go install");
    expect(String(build.stderr)).not.toContain("internal error");
  });

  it("get and diff stop once with the same message when kustomize or helm is missing", async () => {
    for (const args of [
      ["get", "ks", "--path", "testdata/example/clusters/prod"],
      ["diff", "ks", "--path", "testdata/example/clusters/prod"],
    ]) {
      const result = await npx(args, { PATH: basePath, HOME: dir });
      expect(result.exitCode, args.join(" ")).toBe(1);
      expect(String(result.stderr), args.join(" ")).toMatch(
        /^flux-local: kustomize not found on PATH\. Install it: /,
      );
      expect(String(result.stderr).split("\n").filter(Boolean), args.join(" ")).toHaveLength(1);
      expect(String(result.stderr)).toContain("go install sigs.k8s.io/kustomize/kustomize/v5");
    }
    // kustomize alone: diff hr needs helm too, and says so before rendering anything.
    const onlyKustomize = path.join(dir, "only-kustomize");
    await mkdir(onlyKustomize, { recursive: true });
    await symlink(path.join(tools, "kustomize"), path.join(onlyKustomize, "kustomize")).catch(
      () => undefined,
    );
    const hr = await npx(["diff", "hr", "--path", "testdata/example/clusters/prod"], {
      PATH: [onlyKustomize, basePath].join(path.delimiter),
      HOME: dir,
    });
    expect(hr.exitCode).toBe(1);
    expect(String(hr.stderr)).toMatch(/^flux-local: helm not found on PATH\. Install it: /);
    expect(String(hr.stderr).split("\n").filter(Boolean)).toHaveLength(1);
  });

  it("without flux-operator: ResourceSets are skipped, saying how to install it; the rest renders", async () => {
    const repo = path.join(dir, "app", "rsets");
    await cp(path.join(projectRoot, "testdata", "resourceset-example"), repo, { recursive: true });
    const git = (...args: string[]) => execa("git", args, { cwd: repo });
    await git("init", "-q");
    await git("add", ".");
    await git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "rsets");
    const result = await npx(["test", "--path", "rsets/clusters/prod"], {
      PATH: [toolBin, basePath].join(path.delimiter),
      HOME: dir,
    });
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    const stdout = String(result.stdout).replace(/ \(\d+\.\d+ s\)/g, "");
    expect(stdout).toContain("PASSED  Kustomization flux-system/flux-system\n");
    for (const name of ["matrix", "tenants"]) {
      expect(stdout).toContain(
        `SKIPPED ResourceSet flux-system/${name}: not rendered: flux-operator not found on PATH. Install it: `,
      );
    }
    expect(stdout).toContain("or set FLUX_LOCAL_FLUX_OPERATOR to its path");
    expect(stdout).not.toContain("team-alpha");
  });
});
