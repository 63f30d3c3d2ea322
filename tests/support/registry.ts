/**
 * A real OCI registry (Debian's `docker-registry`, the CNCF distribution
 * registry) on a free loopback port, with its storage in a temp dir. Started
 * and stopped by the tests that need it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export interface Registry {
  /** `127.0.0.1:PORT` */
  host: string;
  stop(): Promise<void>;
}

export const REGISTRY_BINARY = process.env.FLUX_LOCAL_REGISTRY ?? "/usr/bin/docker-registry";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`registry did not start at ${url}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RegistryOptions {
  /** htpasswd file content (bcrypt) to require basic auth. */
  htpasswd?: string;
}

export async function startRegistry(options: RegistryOptions = {}): Promise<Registry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "flux-local-registry-"));
  const port = await freePort();
  const auth = options.htpasswd
    ? `auth:\n  htpasswd:\n    realm: test\n    path: ${path.join(dir, "htpasswd")}\n`
    : "";
  if (options.htpasswd) await writeFile(path.join(dir, "htpasswd"), options.htpasswd);
  const config = `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${path.join(dir, "data")}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
  secret: flux-local-test
${auth}`;
  const configFile = path.join(dir, "config.yml");
  await writeFile(configFile, config);
  const child: ChildProcess = spawn(REGISTRY_BINARY, ["serve", configFile], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const host = `127.0.0.1:${port}`;
  try {
    await waitForHttp(`http://${host}/v2/`, 10_000);
  } catch (err) {
    child.kill("SIGKILL");
    throw new Error(`${(err as Error).message}: ${stderr}`);
  }
  return {
    host,
    async stop() {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      });
      await rm(dir, { recursive: true, force: true });
    },
  };
}
