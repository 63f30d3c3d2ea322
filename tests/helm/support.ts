/**
 * Helpers for the HelmRelease tests: packaging the test charts with the real
 * helm, writing an index for them, pushing them to a registry, and building
 * Flux repositories around them.
 */
import { execFile } from "node:child_process";
import http from "node:http";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { parse, stringify } from "yaml";
import { findTool } from "../../src/exec/tools.js";

const exec = promisify(execFile);

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const chartsDir = path.join(projectRoot, "testdata", "charts");

/** Run the real helm with a private home (no user config). */
export async function helm(args: string[], cwd: string, home: string): Promise<string> {
  return (await helmOutput(args, cwd, home)).stdout;
}

async function helmOutput(
  args: string[],
  cwd: string,
  home: string,
): Promise<{ stdout: string; stderr: string }> {
  const tool = await findTool("helm");
  const env = {
    ...process.env,
    HELM_CACHE_HOME: path.join(home, "cache"),
    HELM_CONFIG_HOME: path.join(home, "config"),
    HELM_DATA_HOME: path.join(home, "data"),
  };
  return exec(tool.file, args, { cwd, env });
}

export interface PackagedRepo {
  dir: string;
  home: string;
  cleanup(): Promise<void>;
}

/**
 * Package `charts/<name>` once per version into a fresh folder (`helm package
 * --version`), without an index yet.
 */
export async function packageCharts(versions: Record<string, string[]>): Promise<PackagedRepo> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "flux-local-charts-"));
  const home = await mkdtemp(path.join(os.tmpdir(), "flux-local-helm-home-"));
  for (const [name, list] of Object.entries(versions)) {
    for (const version of list) {
      await helm(
        ["package", path.join(chartsDir, name), "--version", version, "--destination", dir],
        dir,
        home,
      );
    }
  }
  return {
    dir,
    home,
    cleanup: async () => {
      await rm(dir, { recursive: true, force: true });
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** `helm repo index` the folder for `url` (absolute chart URLs). */
export async function indexCharts(repo: PackagedRepo, url?: string): Promise<void> {
  await helm(["repo", "index", ".", ...(url ? ["--url", url] : [])], repo.dir, repo.home);
}

/** `helm push` packaged charts to `oci://host/charts`; returns each file's manifest digest. */
export async function pushCharts(
  repo: PackagedRepo,
  host: string,
  files: string[],
): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  for (const file of files) {
    const { stdout, stderr } = await helmOutput(
      ["push", path.join(repo.dir, file), `oci://${host}/charts`, "--plain-http"],
      repo.dir,
      repo.home,
    );
    const digest = /Digest: (sha256:[0-9a-f]{64})/.exec(`${stdout}\n${stderr}`)?.[1];
    if (digest) digests[file] = digest;
  }
  return digests;
}

/** A tar entry for `tarGz`. */
export interface TarEntry {
  name: string;
  /** "0" file, "2" symlink, "1" hard link, "5" directory. */
  type?: string;
  content?: string;
  linkname?: string;
}

/** A hand-made tar+gzip archive (for hostile archives that real tools refuse to make). */
export function tarGz(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const data = Buffer.from(entry.content ?? "");
    const header = Buffer.alloc(512);
    header.write(entry.name, 0, 100, "utf8");
    header.write("0000644\0", 100);
    header.write("0000000\0", 108);
    header.write("0000000\0", 116);
    header.write(`${data.length.toString(8).padStart(11, "0")}\0`, 124);
    header.write("00000000000\0", 136);
    header.write("        ", 148);
    header.write(entry.type ?? "0", 156);
    if (entry.linkname) header.write(entry.linkname, 157, 100);
    header.write("ustar\u000000", 257);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

/** Add a hand-made archive to an index as chart `name` version `version`. */
export async function addToIndex(
  repo: PackagedRepo,
  name: string,
  version: string,
  archive: Buffer,
): Promise<void> {
  const file = `${name}-${version}.tgz`;
  await writeFile(path.join(repo.dir, file), archive);
  const indexFile = path.join(repo.dir, "index.yaml");
  const index = parse(await readFile(indexFile, "utf8")) as {
    entries: Record<string, unknown[]>;
  };
  index.entries[name] = [
    ...(index.entries[name] ?? []),
    { apiVersion: "v2", name, version, urls: [file], created: new Date().toISOString() },
  ];
  await writeFile(indexFile, stringify(index));
}

/** Copy a test chart into a folder of a repository being built. */
export async function copyChart(name: string, dest: string): Promise<void> {
  await mkdir(path.dirname(dest), { recursive: true });
  await cp(path.join(chartsDir, name), dest, { recursive: true });
}

/** YAML documents of Flux objects, as a file's content. */
export function docs(...objects: unknown[]): string {
  return objects.map((o) => `---\n${stringify(o)}`).join("");
}

export function helmRelease(
  name: string,
  namespace: string,
  spec: Record<string, unknown>,
): Record<string, unknown> {
  return {
    apiVersion: "helm.toolkit.fluxcd.io/v2",
    kind: "HelmRelease",
    metadata: { name, namespace },
    spec: { interval: "10m", ...spec },
  };
}

export function helmRepository(
  name: string,
  spec: Record<string, unknown>,
): Record<string, unknown> {
  return {
    apiVersion: "source.toolkit.fluxcd.io/v1",
    kind: "HelmRepository",
    metadata: { name, namespace: "flux-system" },
    spec: { interval: "10m", ...spec },
  };
}

/** A chart spec pointing at a chart folder of the local checkout. */
export function gitChart(chartPath: string): Record<string, unknown> {
  return {
    spec: {
      chart: chartPath,
      sourceRef: { kind: "GitRepository", name: "flux-system", namespace: "flux-system" },
    },
  };
}

/** The files under a folder, as `makeRepo` entries under `at`. */
export async function filesUnder(root: string, at: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out[path.join(at, path.relative(root, full))] = await readFile(full, "utf8");
  }
  return out;
}

/** The files of a test chart, as `makeRepo` entries under `at`. */
export function chartFiles(name: string, at: string): Promise<Record<string, string>> {
  return filesUnder(path.join(chartsDir, name), at);
}

export interface AuthProxy {
  /** `127.0.0.1:PORT` */
  host: string;
  stop(): Promise<void>;
}

/**
 * A registry front that asks for a bearer token, as ghcr.io or Docker Hub do:
 * its token endpoint accepts only `username:password`, then requests with the
 * token are passed to the real registry behind it.
 */
export async function startAuthProxy(
  registryHost: string,
  credentials: { username: string; password: string },
): Promise<AuthProxy> {
  const token = "token-for-tests";
  const basic = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
  let host = "";
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/token") {
      if (req.headers.authorization !== basic) {
        res
          .writeHead(401, { "content-type": "application/json" })
          .end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token }));
      return;
    }
    if (req.headers.authorization !== `Bearer ${token}`) {
      res
        .writeHead(401, {
          "www-authenticate": `Bearer realm="http://${host}/token",service="test-registry",scope="repository:charts/podinfo:pull"`,
        })
        .end();
      return;
    }
    fetch(`http://${registryHost}${req.url ?? "/"}`, {
      method: req.method ?? "GET",
      headers: { accept: req.headers.accept ?? "*/*" },
    }).then(
      async (upstream) => {
        const headers: Record<string, string> = {};
        upstream.headers.forEach((value, key) => {
          if (key !== "content-encoding" && key !== "transfer-encoding") headers[key] = value;
        });
        res.writeHead(upstream.status, headers);
        res.end(Buffer.from(await upstream.arrayBuffer()));
      },
      () => res.writeHead(502).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  host = `127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  return {
    host,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
