import { mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ArchiveError, extractTarGz, safeEntryPath } from "../../src/artifacts/archive.js";
import { tar, tarGz, type TarEntry } from "./helpers/tar.js";

let parent: string;
let dest: string;
beforeEach(async () => {
  parent = await mkdtemp(path.join(os.tmpdir(), "flux-local-archive-"));
  dest = path.join(parent, "dest");
  await mkdir(dest);
});
afterEach(async () => {
  await rm(parent, { recursive: true, force: true });
});

const extract = (entries: TarEntry[], limits = {}) =>
  extractTarGz(Readable.from([tarGz(entries)]), dest, limits);

/** Everything under `parent`, to prove nothing was written outside `dest`. */
async function everything(): Promise<string[]> {
  return (await readdir(parent, { recursive: true })).map(String).sort();
}

describe("safeEntryPath", () => {
  it("accepts relative paths and normalises ./ and //", () => {
    expect(safeEntryPath("./apps//cm.yaml")).toEqual({ path: "apps/cm.yaml" });
    expect(safeEntryPath("a/./b/")).toEqual({ path: "a/b" });
  });
  it.each([
    ["../evil", "climbs out"],
    ["apps/../../evil", "climbs out"],
    ["/etc/passwd", "absolute"],
    ["C:\\evil", "absolute"],
    ["a\0b", "NUL"],
  ])("refuses %j", (name, why) => {
    const r = safeEntryPath(name);
    expect("error" in r && r.error).toContain(why);
  });
});

describe("extractTarGz", () => {
  it("extracts files and directories, keeping the executable bit", async () => {
    const long = `deep/${"x".repeat(120)}/file.yaml`;
    const result = await extract([
      { name: "apps/", type: "5" },
      { name: "apps/cm.yaml", content: "kind: ConfigMap\n" },
      { name: "bin/run.sh", content: "#!/bin/sh\n", mode: 0o755 },
      { name: long, content: "long: name\n" },
      { name: "empty.txt", content: "" },
    ]);
    expect(result).toEqual({ files: 4, bytes: 16 + 10 + 11 });
    expect(await readFile(path.join(dest, "apps/cm.yaml"), "utf8")).toBe("kind: ConfigMap\n");
    expect(await readFile(path.join(dest, long), "utf8")).toBe("long: name\n");
    expect((await stat(path.join(dest, "bin/run.sh"))).mode & 0o111).not.toBe(0);
  });

  it.each<[string, TarEntry]>([
    ["a path with ..", { name: "../outside.yaml", content: "x" }],
    ["a nested path with ..", { name: "apps/../../outside.yaml", content: "x" }],
    ["an absolute path", { name: "/tmp/flux-local-absolute.yaml", content: "x" }],
    ["a symlink", { name: "link", type: "2", linkname: "/etc/passwd" }],
    ["a relative symlink", { name: "link", type: "2", linkname: "../outside" }],
    ["a hard link", { name: "hard", type: "1", linkname: "/etc/passwd" }],
    ["a character device", { name: "null", type: "3" }],
    ["a block device", { name: "sda", type: "4" }],
    ["a FIFO", { name: "pipe", type: "6" }],
  ])("refuses an archive with %s and writes nothing outside", async (_what, evil) => {
    await expect(extract([{ name: "ok.yaml", content: "ok" }, evil])).rejects.toBeInstanceOf(
      ArchiveError,
    );
    const all = await everything();
    expect(all.every((p) => p === "dest" || p.startsWith(`dest${path.sep}`))).toBe(true);
    await expect(stat("/tmp/flux-local-absolute.yaml")).rejects.toThrow();
  });

  it("names the refused entry and why", async () => {
    await expect(extract([{ name: "link", type: "2", linkname: "/etc" }])).rejects.toThrow(
      /refused archive entry "link": a symlink/,
    );
    await expect(extract([{ name: "../x", content: "" }])).rejects.toThrow(/climbs out/);
  });

  it("stops at the size limit (a small archive that inflates a lot)", async () => {
    const bomb = Buffer.alloc(5 * 1024 * 1024, 0x61);
    const archive = tarGz([{ name: "bomb.txt", content: bomb }]);
    expect(archive.length).toBeLessThan(64 * 1024);
    await expect(
      extractTarGz(Readable.from([archive]), dest, { maxBytes: 1024 * 1024 }),
    ).rejects.toThrow(/exceeds the limit of 1048576 bytes/);
  });

  it("stops at the entry limit", async () => {
    const entries = Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, content: "x" }));
    await expect(extract(entries, { maxEntries: 10 })).rejects.toThrow(/more than 10 entries/);
  });

  it("refuses what is not tar+gzip", async () => {
    await expect(
      extractTarGz(Readable.from([Buffer.from("not gzip at all")]), dest),
    ).rejects.toThrow(ArchiveError);
    await expect(
      extractTarGz(Readable.from([gzipSync(Buffer.alloc(512, 1))]), dest),
    ).rejects.toThrow(/not a valid tar archive/);
  });

  it("refuses a truncated archive", async () => {
    const whole = tar([{ name: "a.txt", content: "x".repeat(2000) }]);
    await expect(
      extractTarGz(Readable.from([gzipSync(whole.subarray(0, 1024))]), dest),
    ).rejects.toThrow(/truncated/);
  });
});
