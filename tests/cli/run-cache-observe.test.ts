/**
 * The run cache's checks (src/cli/run-cache/observe.ts) on their own: what a
 * Probe derives from one lstat — a path's stat, its real path — is what the
 * system answers when asked directly, for plain files, folders, links (to
 * files, to folders, dangling, in the middle of a path) and missing paths;
 * a bigint stat describes a file as a plain stat does; short folder listings
 * are kept as they are. Real files in a temporary folder.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Observation } from "../../src/cli/run-cache/invocation.js";
import { shortHash } from "../../src/util/short-hash.js";
import {
  describeEntries,
  describeStat,
  errorCode,
  holds,
  changedAt,
  packObservations,
  unpackObservations,
  plainMtimeMs,
  Probe,
  sha256,
  statNow,
} from "../../src/cli/run-cache/observe.js";

let dir: string;
beforeEach(async () => {
  dir = fs.realpathSync(await mkdtemp(path.join(os.tmpdir(), "flux-local-observe-")));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A tree with every kind of path a run meets; returns the paths to ask about. */
function tree(): string[] {
  const at = (p: string) => path.join(dir, p);
  fs.mkdirSync(at("real/sub"), { recursive: true });
  fs.writeFileSync(at("real/sub/a.yaml"), "a: 1\n");
  fs.writeFileSync(at("real/b.yaml"), "b: 2\n");
  fs.symlinkSync(at("real"), at("linked")); // a link to a folder
  fs.symlinkSync("sub/a.yaml", at("real/to-a.yaml")); // a relative link to a file
  fs.symlinkSync(at("nowhere"), at("dangling"));
  fs.symlinkSync("..", at("real/sub/up")); // a link up the tree
  return [
    dir,
    "/",
    at("real"),
    at("real/sub"),
    at("real/sub/a.yaml"),
    at("real/b.yaml"),
    at("linked"),
    at("linked/sub/a.yaml"),
    at("linked/b.yaml"),
    at("real/to-a.yaml"),
    at("linked/to-a.yaml"),
    at("dangling"),
    at("missing.yaml"),
    at("missing/deeper.yaml"),
    at("real/b.yaml/under-a-file"),
    at("real/sub/up/b.yaml"),
    at("real/sub/up/sub/up/sub/a.yaml"),
    `${at("real")}/`,
    `${at("real")}//b.yaml`,
    `${at("real/sub")}/../b.yaml`,
    `${at("real")}/./b.yaml`,
    at("real/.."),
  ];
}

const direct = {
  realpath: (p: string) => {
    try {
      return fs.realpathSync.native(p);
    } catch (err) {
      return errorCode(err);
    }
  },
};

describe("Probe", () => {
  it("derives what the system answers: stat, lstat and real path of every kind of path", () => {
    const paths = tree();
    // Twice over one probe: remembered answers stay right, in any order.
    const probe = new Probe();
    for (const p of [...paths, ...paths.slice().reverse()]) {
      const ask = (st: ReturnType<Probe["stat"]>) =>
        typeof st === "string" ? st : describeStat(st);
      expect(ask(probe.stat(p)), `stat ${p}`).toBe(statNow(p, true));
      expect(ask(probe.lstat(p)), `lstat ${p}`).toBe(statNow(p, false));
      expect(probe.realpath(p), `realpath ${p}`).toBe(direct.realpath(p));
    }
  });

  it("holds() with a probe agrees with the system on observations made before a change", () => {
    const paths = tree();
    const observations = paths.flatMap((p) => [
      { k: "stat" as const, p, follow: true, d: statNow(p, true) },
      { k: "stat" as const, p, follow: false, d: statNow(p, false) },
      { k: "realpath" as const, p, r: direct.realpath(p) },
    ]);
    const before = new Probe();
    expect(observations.filter((o) => !holds(o, false, before))).toEqual([]);
    // A folder link moved elsewhere: the paths through it change their real path.
    fs.rmSync(path.join(dir, "linked"));
    fs.symlinkSync(path.join(dir, "real/sub"), path.join(dir, "linked"));
    const after = new Probe();
    const changed = observations.filter((o) => !holds(o, false, after)).map((o) => o.p);
    expect(changed).toContain(path.join(dir, "linked"));
    expect(changed).toContain(path.join(dir, "linked/b.yaml"));
    expect(changed).not.toContain(path.join(dir, "real/b.yaml"));
  });
});

describe("a path's observations, packed as a record keeps them", () => {
  /** What a recorder notes about `p`: its stat and lstat, then its content. */
  function noted(p: string): Observation[] {
    const big = fs.statSync(p, { bigint: true });
    return [
      { k: "stat", p, follow: true, d: statNow(p, true) },
      { k: "stat", p, follow: false, d: statNow(p, false) },
      {
        k: "file",
        p,
        h: sha256(fs.readFileSync(p)),
        q: [String(big.size), String(big.mtimeNs), String(big.ctimeNs), String(big.ino)],
      },
    ];
  }
  const changed = (observations: Observation[]) => {
    const probe = new Probe();
    return packObservations(observations)!
      .map((f) => changedAt(f, false, probe))
      .filter((c) => c !== undefined);
  };

  it("unpacks to what was packed, one object per path; a path seen one way twice differently is refused", () => {
    const paths = [...new Set(tree())];
    const observations: Observation[] = paths.flatMap((p) => [
      { k: "stat" as const, p, follow: true, d: statNow(p, true) },
      { k: "realpath" as const, p, r: direct.realpath(p) },
      { k: "access" as const, p, mode: fs.constants.R_OK, ok: true },
      { k: "access" as const, p, mode: fs.constants.X_OK, ok: false },
      { k: "dir" as const, p, h: "=a", types: true },
      { k: "dir" as const, p, h: "=b", types: false },
      { k: "readlink" as const, p, r: "!EINVAL" },
      { k: "stat" as const, p, follow: false, d: statNow(p, false) },
    ]);
    const packed = packObservations(observations)!;
    expect(packed.map((f) => f.p)).toEqual(paths);
    const again = packed.flatMap(unpackObservations);
    const key = (o: Observation) => JSON.stringify(o);
    expect(again.map(key).sort()).toEqual(observations.map(key).sort());
    const twice: Observation[] = [
      { k: "realpath", p: "/x", r: "/x" },
      { k: "realpath", p: "/x", r: "/y" },
    ];
    expect(packObservations(twice)).toBeUndefined();
    expect(packObservations([twice[0]!, twice[0]!])).toHaveLength(1);
  });

  it("a file left alone holds every way; one rewritten with the same bytes fails its stat, not its content", () => {
    const file = path.join(dir, "a.yaml");
    fs.writeFileSync(file, "a: 1\n");
    fs.utimesSync(file, 1_700_000_000, 1_700_000_000);
    const observations = noted(file);
    expect(changed(observations)).toEqual([]);
    fs.writeFileSync(file, "a: 1\n"); // same bytes, a new time
    expect(changed(observations)).toEqual(["stat"]);
  });

  it("through a link: a link pointed at another file fails its content", () => {
    const a = path.join(dir, "a.yaml");
    const b = path.join(dir, "b.yaml");
    const link = path.join(dir, "link.yaml");
    fs.writeFileSync(a, "a: 1\n");
    fs.writeFileSync(b, "b: 22\n");
    fs.symlinkSync(a, link);
    const observations = noted(link);
    expect(changed(observations)).toEqual([]);
    fs.rmSync(link);
    fs.symlinkSync(b, link);
    expect(changed(observations)).toEqual(["file"]);
  });
});

describe("describeStat", () => {
  it("describes a file the same from a bigint stat as from a plain one, to the millisecond Node rounds to", () => {
    const file = path.join(dir, "f.yaml");
    fs.writeFileSync(file, "x");
    // Times within a nanosecond of a millisecond, where floating point rounds
    // up (.999999999 s is 1000 ms to a plain stat): set with touch, as
    // fs.utimes takes seconds as a double and cannot say such a time.
    let roundedUp = 0;
    for (const ns of ["000000000", "000000001", "000999999", "999999999", "123999999"]) {
      execFileSync("touch", ["-m", "-d", `@1700000000.${ns}`, file]);
      const plain = fs.statSync(file);
      const big = fs.statSync(file, { bigint: true });
      expect(plainMtimeMs(big)).toBe(plain.mtimeMs);
      expect(describeStat(big)).toBe(describeStat(plain));
      if (Math.trunc(plain.mtimeMs) !== Number(big.mtimeMs)) roundedUp++;
    }
    expect(roundedUp).toBeGreaterThan(0); // the case is met, not only described
  });
});

describe("describeEntries", () => {
  it("keeps a short listing as it is and hashes a long one", () => {
    const short = describeEntries(["b.yaml", "a.yaml"]);
    expect(short).toBe("=a.yaml\u0000b.yaml");
    const long = describeEntries(Array.from({ length: 200 }, (_, i) => `file-${i}.yaml`));
    expect(long).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("shortHash (run cache entry names)", () => {
  it("is 16 hex digits, the same for the same key, another for another", () => {
    const a = shortHash('{"argv":["build","ks"]}');
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(shortHash('{"argv":["build","ks"]}')).toBe(a);
    const names = new Set(Array.from({ length: 5000 }, (_, i) => shortHash(`key-${i}`)));
    expect(names.size).toBe(5000);
  });
});
