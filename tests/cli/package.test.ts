/**
 * What `npm pack` ships (only runtime files), `--version` (the package's
 * version and the tools found) and `doctor`, run as a user runs them.
 */
import { execa } from "execa";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { doctorExitCode, formatDoctorReport, type ToolStatus } from "../../src/render/toolchain.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

async function packageJson(): Promise<{ version: string; scripts: Record<string, string> }> {
  return JSON.parse(await readFile(path.join(projectRoot, "package.json"), "utf8")) as {
    version: string;
    scripts: Record<string, string>;
  };
}

describe("npm pack", () => {
  it("ships bin/, dist/ (no tests, no tools), README and package.json only", async () => {
    // --ignore-scripts: the list, not a rebuild (prepack builds dist/ on a real pack).
    const { stdout } = await execa(
      "npm",
      ["pack", "--dry-run", "--json", "--ignore-scripts", "--loglevel=error"],
      { cwd: projectRoot },
    );
    const [pack] = JSON.parse(stdout) as [{ files: { path: string }[] }];
    const files = pack.files.map((f) => f.path);
    const outside = files.filter(
      (f) =>
        !f.startsWith("bin/") &&
        !f.startsWith("dist/") &&
        !["README.md", "LICENSE", "package.json"].includes(f),
    );
    expect(outside).toEqual([]);
    expect(files).toContain("bin/flux-local.js");
    expect(files).toContain("dist/cli/main.js");
    expect(files).toContain("dist/index.js");
    expect(files).toContain("README.md");
    expect(files).toContain("package.json");
    expect(files).toContain("LICENSE");
    expect(files.filter((f) => /(^|\/)(tests?|tools|\.tools|worker|src)\//.test(f))).toEqual([]);
    expect(
      files.filter((f) => f.endsWith(".go") || (f.endsWith(".ts") && !f.endsWith(".d.ts"))),
    ).toEqual([]);
  });

  it("is Apache-2.0, as package.json says and LICENSE holds", async () => {
    const pkg = JSON.parse(await readFile(path.join(projectRoot, "package.json"), "utf8")) as {
      license: string;
    };
    expect(pkg.license).toBe("Apache-2.0");
    const license = await readFile(path.join(projectRoot, "LICENSE"), "utf8");
    expect(license).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(license).toContain("TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION");
  });

  it("builds dist/ from scratch before packing", async () => {
    const { scripts } = await packageJson();
    expect(scripts.prepack).toMatch(/clean/);
    expect(scripts.prepack).toMatch(/build/);
  });
});

describe("flux-local --version", () => {
  it("prints package.json's version and the tools found, with where", async () => {
    const { version } = await packageJson();
    const { stdout, exitCode } = await runCli(["--version"], { cwd: projectRoot });
    expect(exitCode).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(`flux-local ${version}`);
    expect(lines[1]).toMatch(/^kustomize v\d+\.\d+\.\d+ \(\/.+\/kustomize, from \.tools\/bin\)$/);
    expect(lines[2]).toMatch(/^helm v\d+\.\d+.* \(\/.+\/helm, from \.tools\/bin\)$/);
    expect(lines[3]).toMatch(/^kustomize worker v\d+\.\d+\.\d+ \(\/.+flux-local-kustomize-worker/);
    expect(lines[4]).toMatch(/^helm worker v4\.\d+\.\d+ \(\/.+flux-local-helm-worker/);
  });

  it("says where a tool named by its environment variable is", async () => {
    const kustomize = path.join(projectRoot, ".tools", "bin", "kustomize");
    const { stdout } = await runCli(["--version"], {
      cwd: projectRoot,
      env: { FLUX_LOCAL_KUSTOMIZE: kustomize },
    });
    expect(stdout).toContain(`kustomize v`);
    expect(stdout).toContain(`(${kustomize}, from FLUX_LOCAL_KUSTOMIZE)`);
    expect(stdout).toContain("kustomize worker: not used: FLUX_LOCAL_KUSTOMIZE");
    expect(stdout).toMatch(/^helm worker v4/m);
  });

  it("says when the helm worker is switched off", async () => {
    const { stdout } = await runCli(["--version"], {
      cwd: projectRoot,
      env: { FLUX_LOCAL_HELM_WORKER: "0" },
    });
    expect(stdout).toContain(
      "helm worker: switched off by FLUX_LOCAL_HELM_WORKER (one helm process per render)",
    );
  });
});

describe("flux-local doctor", () => {
  it("lists every tool with its path and version, exit 0 when kustomize is there", async () => {
    const { stdout, exitCode } = await runCli(["doctor"], { cwd: projectRoot });
    expect(exitCode).toBe(0);
    for (const name of ["kustomize", "helm", "kustomize worker", "helm worker", "git"]) {
      expect(stdout).toMatch(new RegExp(`^ok +${name} \\S+ \\(/`, "m"));
    }
    // flux-operator is optional (ResourceSets): whether it is installed is the machine's business.
    expect(stdout).not.toMatch(/^absent +(kustomize|helm|git)\b/m);
  });

  it("exits 1 with the install command when kustomize is unusable", async () => {
    const { stdout, exitCode } = await runCli(["doctor"], {
      cwd: projectRoot,
      env: { FLUX_LOCAL_KUSTOMIZE: "/nonexistent/kustomize" },
    });
    expect(exitCode).toBe(1);
    expect(stdout).toMatch(/^MISSING kustomize: FLUX_LOCAL_KUSTOMIZE=\/nonexistent\/kustomize/m);
    expect(stdout).toContain("kustomize (required): go install sigs.k8s.io/kustomize/kustomize/v5");
  });

  it("reports missing optional tools with how to install them, without failing", () => {
    const statuses: ToolStatus[] = [
      {
        name: "kustomize",
        purpose: "builds Kustomizations",
        required: true,
        path: "/usr/bin/kustomize",
        via: "PATH",
        version: "v5.7.1",
        install: "",
      },
      {
        name: "helm",
        purpose: "renders HelmReleases",
        required: false,
        problem: "not found (searched PATH)",
        install: "brew install helm",
      },
    ];
    expect(formatDoctorReport(statuses)).toBe(
      "ok      kustomize v5.7.1 (/usr/bin/kustomize, from PATH)\n" +
        "        builds Kustomizations\n" +
        "absent  helm: not found (searched PATH)\n" +
        "        renders HelmReleases\n" +
        "\n" +
        "To install:\n" +
        "  helm: brew install helm\n",
    );
    expect(doctorExitCode(statuses)).toBe(0);
    expect(doctorExitCode([{ ...statuses[0]!, path: undefined }])).toBe(1);
  });
});
