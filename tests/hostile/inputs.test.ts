/**
 * Issue 10, items 12 and 13: inputs Flux would reject are refused with the
 * file and line, and each failure is said once, in the right words.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { fluxKustomization } from "../support/repo.js";
import { appRepo, buildAll, settings, useHostile } from "./support.js";

const hostile = useHostile();

const withDuplicatePath = `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: dup
  namespace: flux-system
spec:
  path: ./app
  path: ./elsewhere
  sourceRef:
    kind: GitRepository
    name: flux-system
`;

function diagnostics(root: string) {
  return runCli(["diagnostics", "--path", "clusters/prod"], { cwd: root });
}

describe("item 12: Flux objects the API server would refuse", () => {
  it("a key defined twice is refused with both lines, by build, kustomize's message and diagnostics", async () => {
    const repo = await appRepo(hostile.makeRepo, {
      "app/cm.yaml": settings,
      "clusters/prod/dup.yaml": withDuplicatePath,
    });
    const line = withDuplicatePath.split("\n").indexOf("  path: ./elsewhere") + 1;
    const out = await buildAll(repo);
    expect(out.exitCode).toBe(1);
    const said = `key spec.path is defined twice (lines ${line - 1} and ${line})`;
    expect(out.stderr).toContain(
      `clusters/prod/dup.yaml:${line}): ParseFailed: Kustomization dup: ${said}`,
    );
    // The parent's kustomize build refuses the file too: named, in the file's own lines.
    expect(out.stderr).toContain(`kustomize build failed: clusters/prod/dup.yaml:${line}: ${said}`);
    expect(out.stderr).not.toContain("./elsewhere not found");

    const diag = await diagnostics(repo.root);
    expect(diag.exitCode).toBe(1);
    expect(diag.stdout + diag.stderr).toContain(
      `clusters/prod/dup.yaml:${line}\` Kustomization dup: ${said}`,
    );
  });

  it("duplicate keys in other objects are left to kustomize, which names the file", async () => {
    const repo = await appRepo(hostile.makeRepo, {
      "app/cm.yaml": settings.replace("  a: b\n", "  a: b\n  a: c\n"),
    });
    const out = await buildAll(repo);
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toMatch(
      /kustomize build failed: app\/cm\.yaml:8: key data\.a is defined twice \(lines 7 and 8\)/,
    );
  });

  it("bytes that are not UTF-8 in a Flux object are refused with the line, not rendered as U+FFFD", async () => {
    const repo = await appRepo(hostile.makeRepo, { "app/cm.yaml": settings });
    const text = fluxKustomization("team", { path: "./app", targetNamespace: "teamX" });
    const line = text.split("\n").findIndex((l) => l.includes("teamX")) + 1;
    await writeFile(
      path.join(repo.root, "clusters/prod/team.yaml"),
      Buffer.concat(
        text
          .split("X")
          .flatMap((part, i) =>
            i === 0 ? [Buffer.from(part)] : [Buffer.from([0xff]), Buffer.from(part)],
          ),
      ),
    );
    const out = await buildAll(repo);
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toContain(
      `clusters/prod/team.yaml:${line}): ParseFailed: Kustomization team: line ${line} is not valid UTF-8`,
    );
    expect(out.stdout).not.toContain("\uFFFD");
    const diag = await diagnostics(repo.root);
    expect(diag.exitCode).toBe(1);
    expect(diag.stdout + diag.stderr).toContain(
      `team.yaml:${line}\` Kustomization team: line ${line} is not valid UTF-8`,
    );
  });

  it("an unknown API version is one failure of the object, not two", async () => {
    const repo = await appRepo(hostile.makeRepo, {
      "app/cm.yaml": settings,
      "clusters/prod/v9.yaml": fluxKustomization("v9", { path: "./app" }).replace(
        "kustomize.toolkit.fluxcd.io/v1",
        "kustomize.toolkit.fluxcd.io/v9",
      ),
    });
    const out = await buildAll(repo);
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toMatch(/^1 failure:/m);
    expect(out.stderr).toMatch(
      /Kustomization flux-system\/v9 \(clusters\/prod\/v9\.yaml:\d+.*\): InvalidObject: .*kustomize\.toolkit\.fluxcd\.io\/v9 is not a version of Kustomization/,
    );
  });
});

describe("item 13: smaller messages", () => {
  it("spec.path to a file says it is a file, not 'not found'", async () => {
    const repo = await appRepo(hostile.makeRepo, {
      "app/cm.yaml": settings,
      "clusters/prod/file.yaml": fluxKustomization("file", { path: "./app/cm.yaml" }),
    });
    const out = await buildAll(repo);
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toContain(
      "PathNotFound: spec.path ./app/cm.yaml is a file, not a folder (Flux builds a folder, e.g. ./app)",
    );
  });

  it("--path to a file says it is a file and which folder to give, for build and diagnostics", async () => {
    const repo = await appRepo(hostile.makeRepo, { "app/cm.yaml": settings });
    for (const command of [["build", "all"], ["diagnostics"]]) {
      const out = await runCli([...command, "--path", "clusters/prod/app.yaml"], {
        cwd: repo.root,
      });
      expect(out.exitCode).toBe(2);
      expect(out.stderr).toContain(
        "--path clusters/prod/app.yaml is a file: give the folder of a cluster (--path clusters/prod)",
      );
    }
  });

  it("a --sources mapping to a missing folder is a usage error before rendering", async () => {
    const repo = await appRepo(hostile.makeRepo, { "app/cm.yaml": settings });
    const out = await buildAll(repo, ["--sources", "flux-system=./missing"]);
    expect(out.exitCode).toBe(2);
    expect(out.stderr).toBe("flux-local: --sources flux-system=./missing: no such directory\n");
  });
});
