/**
 * The run cache's recorder (src/cli/run-cache/record.ts) on its own: a file
 * read whole is hashed as the run read it, and the run is kept only when the
 * file did not change since the run began — never with a hash of bytes the
 * run did not see. Real files in a temporary folder; the recorder wraps the
 * real `fs` while it records.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Invocation, Observation, RunRecord } from "../../src/cli/run-cache/invocation.js";
import { unpackObservations } from "../../src/cli/run-cache/observe.js";
import { startRecording } from "../../src/cli/run-cache/record.js";

let dir: string;
let inv: Invocation;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "flux-local-record-"));
  const cacheRoot = path.join(dir, "cache");
  inv = {
    key: "test-key",
    cacheRoot,
    entryDir: path.join(cacheRoot, "runs", "ab", "a".repeat(64)),
    verifyAll: false,
    verbose: false,
  };
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A file written well before the recording starts (file times are coarse). */
async function oldFile(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  await new Promise((r) => setTimeout(r, 120));
  return file;
}

async function recorded(): Promise<RunRecord & { observations: Observation[] }> {
  const text = await readFile(path.join(inv.entryDir, "content", "record.json"), "utf8");
  const record = JSON.parse(text) as RunRecord;
  return { ...record, observations: record.paths.flatMap(unpackObservations) };
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("RunRecorder", () => {
  it("keeps the hash of the bytes the run read, and the file's times", async () => {
    const file = await oldFile("a.yaml", "a: 1\n");
    const recorder = startRecording(inv);
    expect(fs.readFileSync(file).toString()).toBe("a: 1\n");
    expect(await recorder.finish(0)).toBeUndefined();
    const seen = (await recorded()).observations.find((o) => o.p === file);
    expect(seen).toMatchObject({ k: "file", h: sha256("a: 1\n") });
    expect(seen && "q" in seen && seen.q).toHaveLength(4);
  });

  it.each([
    ["rewritten", (file: string) => fs.writeFileSync(file, "a: 2\n")],
    ["rewritten with the same bytes", (file: string) => fs.writeFileSync(file, "a: 1\n")],
    ["removed", (file: string) => fs.unlinkSync(file)],
  ])("does not keep a run when a file it read was %s before it ended", async (_name, change) => {
    const file = await oldFile("a.yaml", "a: 1\n");
    const recorder = startRecording(inv);
    fs.readFileSync(file);
    change(file);
    expect(await recorder.finish(0)).toContain(`${file} changed while the run read it`);
    expect(fs.existsSync(inv.entryDir)).toBe(false);
  });

  it("does not keep a run that read two different contents of one file", async () => {
    const file = await oldFile("a.yaml", "a: 1\n");
    const recorder = startRecording(inv);
    fs.readFileSync(file);
    fs.writeFileSync(file, "a: 2\n");
    fs.readFileSync(file);
    expect(await recorder.finish(0)).toContain(`${file} changed while the run read it`);
  });

  it("hashes at the end a file read as text or through a link", async () => {
    const file = await oldFile("a.yaml", "a: 1\n");
    const link = path.join(dir, "link.yaml");
    fs.symlinkSync(file, link);
    await new Promise((r) => setTimeout(r, 120));
    const recorder = startRecording(inv);
    fs.readFileSync(file, "utf8");
    fs.readFileSync(link);
    expect(await recorder.finish(0)).toBeUndefined();
    const observations = (await recorded()).observations;
    for (const p of [file, link])
      expect(observations.find((o) => o.p === p)).toMatchObject({ k: "file", h: sha256("a: 1\n") });
  });

  it("does not keep a run when the file behind a link it read changed", async () => {
    const file = await oldFile("a.yaml", "a: 1\n");
    const link = path.join(dir, "link.yaml");
    fs.symlinkSync(file, link);
    await new Promise((r) => setTimeout(r, 120));
    const recorder = startRecording(inv);
    fs.readFileSync(link);
    fs.writeFileSync(file, "a: 2\n");
    expect(await recorder.finish(0)).toContain("changed while the run read it");
  });
});
