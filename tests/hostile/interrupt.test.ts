/**
 * Issue 10, item 8: Ctrl-C or a SIGTERM mid-run removes the run's scratch
 * folder and any half-filled cache entry, and exits 130 / 143 as a shell
 * reports a process ended by that signal.
 */
import { execa } from "execa";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { remoteAppsCluster, useHostile } from "./support.js";

const hostile = useHostile();
const entry = fileURLToPath(new URL("../support/cli-entry.ts", import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

/** A git server on loopback that accepts requests and never answers them. */
async function silentServer(): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const held: ServerResponse[] = [];
  const server: Server = createServer((_req, res) => {
    requests++;
    held.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    for (const res of held) res.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests: () => requests };
}

async function waitFor(check: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the run never reached the point to interrupt");
}

describe("item 8: an interrupted run leaves nothing behind", () => {
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    it(`${signal} removes the scratch folder and exits ${code}`, async () => {
      const server = await silentServer();
      const repo = await hostile.makeRepo(
        remoteAppsCluster(`${server.url}/apps.git`, "branch: main"),
      );
      const tmp = await mkdtemp(path.join(os.tmpdir(), "flux-local-interrupt-"));
      cleanups.push(() => rm(tmp, { recursive: true, force: true }));
      const cacheDir = path.join(tmp, "cache");
      const child = execa(
        process.execPath,
        [
          "--import",
          tsx,
          entry,
          "build",
          "all",
          "--path",
          "clusters/prod",
          "--cache-dir",
          cacheDir,
        ],
        { cwd: repo.root, env: { NO_COLOR: "1", TMPDIR: tmp }, reject: false },
      );
      const scratch = async () =>
        (await readdir(tmp)).filter((name) => name.startsWith("flux-local-"));
      // Mid-run: the scratch folder exists and the source fetch is waiting on the server.
      await waitFor(async () => server.requests() > 0 && (await scratch()).length > 0);
      child.kill(signal);
      const result = await child;
      expect(result.exitCode).toBe(code);
      expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(await scratch()).toEqual([]);
      const leftovers = await readdir(cacheDir, { recursive: true }).catch(() => []);
      expect(leftovers.filter((name) => String(name).includes(".tmp-"))).toEqual([]);
    });
  }
});
