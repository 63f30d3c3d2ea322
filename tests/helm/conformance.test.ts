/**
 * The offline HelmRelease cases of flux-local's recorded CLI outputs (the
 * cluster12 flag fixture: --is-upgrade, --show-only twice, --no-skip-crds),
 * run through our CLI and compared as sets of documents (kustomize's index
 * annotations ignored). The data lives in ../shared/conformance.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareDocuments } from "../../tools/conformance/normalize.js";
import { runCli } from "../support/cli.js";
import { makeRepo, type TempRepo } from "../support/repo.js";
import { filesUnder, projectRoot } from "./support.js";

const data = path.resolve(projectRoot, "..", "shared", "conformance", "flux-local");

interface Case {
  id: string;
  argv: string[];
  expected_file: string | null;
  needs_network: boolean;
}

const available = existsSync(path.join(data, "cases.json"));

describe.skipIf(!available)("flux-local conformance: offline HelmRelease cases", () => {
  let repo: TempRepo;
  let cases: Case[] = [];

  beforeAll(async () => {
    const all = JSON.parse(await readFile(path.join(data, "cases.json"), "utf8")) as Case[];
    cases = all.filter((c) => c.argv.includes("flag-fixture") && !c.needs_network);
    repo = await makeRepo({
      ".krmignore": await readFile(path.join(data, ".krmignore"), "utf8"),
      ...(await filesUnder(
        path.join(data, "tests", "testdata", "cluster12"),
        "tests/testdata/cluster12",
      )),
    });
  });
  afterAll(async () => {
    await repo?.cleanup();
  });

  it("has the three flag-fixture cases", () => {
    expect(cases.map((c) => c.id).sort()).toEqual([
      "build-hr-flag-fixture-include-crds",
      "build-hr-flag-fixture-show-only-multiple",
      "build-hr-flag-fixture-upgrade",
    ]);
  });

  for (const id of [
    "build-hr-flag-fixture-upgrade",
    "build-hr-flag-fixture-show-only-multiple",
    "build-hr-flag-fixture-include-crds",
  ]) {
    it(`${id} matches the recorded output`, async () => {
      const c = cases.find((x) => x.id === id);
      expect(c?.expected_file).toBeTruthy();
      if (!c?.expected_file) return;
      const expected = await readFile(path.join(data, c.expected_file), "utf8");
      const out = await runCli([...c.argv, "--quiet"], { cwd: repo.root });
      expect(out.stderr).toBe("");
      expect(out.exitCode).toBe(0);
      const result = compareDocuments(expected, out.stdout);
      expect(result.details, result.summary).toEqual([]);
      expect(result.equal).toBe(true);
    });
  }
});
