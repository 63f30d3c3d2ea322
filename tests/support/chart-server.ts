/**
 * A real Helm HTTP chart repository on loopback: a static file server over a
 * folder holding `index.yaml` and packaged charts (built with the real `helm
 * package` and `helm repo index`, see tests/helm/support.ts), with optional
 * basic auth. It records every request so tests can count fetches.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import http from "node:http";
import path from "node:path";

export interface ChartServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Request paths served (or refused), in order. */
  requests: string[];
  /** How many requests asked for a path ending with `suffix`. */
  count(suffix: string): number;
  stop(): Promise<void>;
}

export interface ChartServerOptions {
  /** Require these basic-auth credentials. */
  auth?: { username: string; password: string };
}

export async function startChartServer(
  root: string,
  options: ChartServerOptions = {},
): Promise<ChartServer> {
  const requests: string[] = [];
  const expected = options.auth
    ? `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString("base64")}`
    : undefined;
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    requests.push(urlPath);
    if (expected && req.headers.authorization !== expected) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="charts"' });
      res.end("unauthorized\n");
      return;
    }
    const file = path.join(root, path.normalize(urlPath));
    if (!file.startsWith(root + path.sep)) {
      res.writeHead(403).end();
      return;
    }
    stat(file).then(
      (st) => {
        if (!st.isFile()) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, {
          "content-length": st.size,
          "content-type": file.endsWith(".yaml") ? "application/yaml" : "application/gzip",
        });
        createReadStream(file).pipe(res);
      },
      () => res.writeHead(404).end("not found\n"),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    count: (suffix) => requests.filter((p) => p.endsWith(suffix)).length,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
