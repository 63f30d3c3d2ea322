import { mkdtemp, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  isSpecialTarget,
  removeStaleOutput,
  writeAtomically,
} from "../../src/cli/format/output.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "flux-local-output-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("--output-file onto devices and links to them", () => {
  it("writes through /dev/null and never replaces or removes it", async () => {
    expect(await isSpecialTarget("/dev/null")).toBe(true);
    await writeAtomically("/dev/null", "kind: ConfigMap\n");
    await removeStaleOutput("/dev/null");
    expect((await stat("/dev/null")).isCharacterDevice()).toBe(true);
  });

  it("treats a link to a device (as /dev/stdout is) as the device", async () => {
    const link = path.join(dir, "out");
    await symlink("/dev/null", link);
    expect(await isSpecialTarget(link)).toBe(true);
    await writeAtomically(link, "x\n");
    await removeStaleOutput(link);
    expect((await stat(link)).isCharacterDevice()).toBe(true);
  });

  it("still replaces and removes ordinary files", async () => {
    const file = path.join(dir, "out.yaml");
    expect(await isSpecialTarget(file)).toBe(false);
    await writeFile(file, "old\n");
    await writeAtomically(file, "new\n");
    expect((await stat(file)).isFile()).toBe(true);
    await removeStaleOutput(file);
    await expect(stat(file)).rejects.toThrow();
  });
});
