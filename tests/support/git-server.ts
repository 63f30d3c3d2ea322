/**
 * A real Git HTTP server on loopback: `git http-backend` (smart HTTP, CGI)
 * behind a small Node server that can require Basic or Bearer auth and counts
 * requests. Serves the bare repositories under a temp root that the tests
 * create. Also a "blackhole" server that accepts connections and never
 * answers, for timeouts.
 */
import { spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export interface GitServerOptions {
  /** Require these credentials (Basic `username:password`, or `Bearer token`). */
  auth?: { username: string; password: string } | { bearerToken: string };
}

export interface GitServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Directory holding the served bare repositories (`<name>.git`). */
  root: string;
  /** Every request seen: `METHOD /path?query`. */
  requests: string[];
  /** Requests answered 401. */
  refused: number;
  stop(): Promise<void>;
}

const GIT_ENV = {
  GIT_AUTHOR_NAME: "Flux Local",
  GIT_AUTHOR_EMAIL: "test@flux-local.invalid",
  GIT_COMMITTER_NAME: "Flux Local",
  GIT_COMMITTER_EMAIL: "test@flux-local.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};

/** Run git synchronously in `cwd` (test fixtures only). */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    env: { ...process.env, ...GIT_ENV },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}

/**
 * A working repository whose commits the test makes, published as
 * `<server.root>/<name>.git` after each `push()`.
 */
export class TestRepo {
  private constructor(
    readonly work: string,
    readonly bare: string,
  ) {}

  static async create(server: GitServer, name: string): Promise<TestRepo> {
    const work = await mkdtemp(path.join(os.tmpdir(), `flux-local-repo-${name}-`));
    git(work, "init", "-q", "-b", "main");
    const bare = path.join(server.root, `${name}.git`);
    git(server.root, "init", "-q", "--bare", "-b", "main", bare);
    git(work, "remote", "add", "origin", bare);
    return new TestRepo(work, bare);
  }

  /** Write files (path -> content; null deletes) and commit them; returns the commit hash. */
  async commit(files: Record<string, string | null>, message = "change"): Promise<string> {
    for (const [rel, content] of Object.entries(files)) {
      const file = path.join(this.work, rel);
      if (content === null) {
        await rm(file, { force: true });
      } else {
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, content);
      }
    }
    git(this.work, "add", "-A");
    git(this.work, "commit", "-q", "--allow-empty", "-m", message);
    return git(this.work, "rev-parse", "HEAD");
  }

  tag(name: string, annotated = false): void {
    if (annotated) git(this.work, "tag", "-a", name, "-m", `release ${name}`);
    else git(this.work, "tag", name);
  }

  branch(name: string): void {
    git(this.work, "checkout", "-q", "-B", name);
  }

  push(): void {
    git(this.work, "push", "-q", "--force", "--all", "origin");
    git(this.work, "push", "-q", "--force", "--tags", "origin");
  }

  async remove(): Promise<void> {
    await rm(this.work, { recursive: true, force: true });
  }
}

function authorized(req: http.IncomingMessage, options: GitServerOptions): boolean {
  const auth = options.auth;
  if (!auth) return true;
  const header = req.headers.authorization ?? "";
  if ("bearerToken" in auth) return header === `Bearer ${auth.bearerToken}`;
  return header === `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
}

export async function startGitServer(options: GitServerOptions = {}): Promise<GitServer> {
  const root = await mkdtemp(path.join(os.tmpdir(), "flux-local-git-server-"));
  const requests: string[] = [];
  const state = { refused: 0 };
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (!authorized(req, options)) {
      state.refused++;
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="git"' });
      res.end("unauthorized\n");
      return;
    }
    const url = new URL(req.url ?? "/", "http://localhost");
    const child = spawn("git", ["http-backend"], {
      env: {
        ...process.env,
        ...GIT_ENV,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: "1",
        PATH_INFO: decodeURIComponent(url.pathname),
        REQUEST_METHOD: req.method ?? "GET",
        QUERY_STRING: url.search.replace(/^\?/, ""),
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        ...(req.headers["content-length"] ? { CONTENT_LENGTH: req.headers["content-length"] } : {}),
        REMOTE_ADDR: "127.0.0.1",
        REMOTE_USER: "test",
        ...(req.headers["git-protocol"]
          ? { HTTP_GIT_PROTOCOL: String(req.headers["git-protocol"]) }
          : {}),
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    req.pipe(child.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on("data", (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const crlf = head.indexOf("\r\n\r\n");
      const lf = head.indexOf("\n\n");
      const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
      if (end < 0) return;
      const sep = end === crlf ? 4 : 2;
      const lines = head.subarray(0, end).toString("utf8").split(/\r?\n/);
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        if (colon < 0) continue;
        const key = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (key.toLowerCase() === "status") status = Number(value.split(" ")[0]);
        else headers[key] = value;
      }
      res.writeHead(status, headers);
      headersDone = true;
      const rest = head.subarray(end + sep);
      if (rest.length) res.write(rest);
    });
    child.on("close", () => {
      if (!headersDone) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    root,
    requests,
    get refused() {
      return state.refused;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A TCP server that accepts connections and never answers (an unreachable host). */
export async function startBlackhole(): Promise<{ url: string; stop(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
