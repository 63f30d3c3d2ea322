import path from "node:path";
import { describe, expect, it } from "vitest";
import { ignoreRulesAt, IgnoreRulesCache } from "../../src/discovery/scan.js";
import { useTempRepos } from "../support/repo.js";

const makeRepo = useTempRepos();

describe("IgnoreRulesCache", () => {
  it("gives the rules ignoreRulesAt gives, reading each folder once", async () => {
    const repo = await makeRepo(
      {
        ".sourceignore": "*.tmp.yaml\n",
        "apps/.krmignore": "drafts/\n",
        "apps/team/.sourceignore": "secret.yaml\n",
        "apps/team/x.yaml": "",
      },
      { git: false },
    );
    const cache = new IgnoreRulesCache();
    for (const dir of [repo.root, "apps", "apps/team", "apps/team/deeper", "../outside"]) {
      const abs = path.resolve(repo.root, dir);
      const cached = await cache.at(repo.root, abs);
      const direct = await ignoreRulesAt(repo.root, abs);
      for (const [file, isDir] of [
        ["apps/team/a.tmp.yaml", false],
        ["apps/drafts", true],
        ["apps/team/secret.yaml", false],
        ["apps/team/ok.yaml", false],
      ] as const) {
        const target = path.join(repo.root, file);
        expect(cached.ignores(target, isDir)).toBe(direct.ignores(target, isDir));
      }
    }
    expect(await cache.at(repo.root, path.join(repo.root, "apps"))).toBe(
      await cache.at(repo.root, path.join(repo.root, "apps")),
    );
  });
});
