/**
 * A loopback stand-in for the part of GitHub's REST API that pull-request
 * comments use: list (paginated), create, update and delete issue comments of
 * one repository. It keeps the comments in memory and records every call, so
 * tests check exactly what was sent.
 */
import http from "node:http";

export interface ApiCall {
  method: string;
  path: string;
  body?: { body?: string };
  authorization?: string;
}

export interface StoredComment {
  id: number;
  issue: number;
  body: string;
}

export interface FakeGitHub {
  url: string;
  calls: ApiCall[];
  comments: StoredComment[];
  /** Answer every request with this status (e.g. 403), or undefined to serve normally. */
  failWith?: number;
  stop(): Promise<void>;
}

export async function startFakeGitHub(repo: string): Promise<FakeGitHub> {
  const state: Omit<FakeGitHub, "url" | "stop"> = { calls: [], comments: [] };
  let nextId = 1000;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      const text = Buffer.concat(chunks).toString("utf8");
      const call: ApiCall = {
        method: req.method ?? "",
        path: url.pathname + url.search,
        ...(text ? { body: JSON.parse(text) as { body?: string } } : {}),
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      };
      state.calls.push(call);
      const send = (status: number, value?: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(value === undefined ? "" : JSON.stringify(value));
      };
      if (state.failWith)
        return send(state.failWith, { message: "Resource not accessible by integration" });
      const view = (c: StoredComment) => ({
        id: c.id,
        body: c.body,
        html_url: `https://github.example/${repo}/pull/${c.issue}#issuecomment-${c.id}`,
      });
      const list = url.pathname.match(new RegExp(`^/repos/${repo}/issues/(\\d+)/comments$`));
      if (list) {
        const issue = Number(list[1]);
        if (req.method === "GET") {
          const perPage = Number(url.searchParams.get("per_page") ?? 30);
          const page = Number(url.searchParams.get("page") ?? 1);
          const all = state.comments.filter((c) => c.issue === issue);
          return send(200, all.slice((page - 1) * perPage, page * perPage).map(view));
        }
        if (req.method === "POST") {
          const comment = { id: nextId++, issue, body: call.body?.body ?? "" };
          state.comments.push(comment);
          return send(201, view(comment));
        }
      }
      const one = url.pathname.match(new RegExp(`^/repos/${repo}/issues/comments/(\\d+)$`));
      if (one) {
        const comment = state.comments.find((c) => c.id === Number(one[1]));
        if (!comment) return send(404, { message: "Not Found" });
        if (req.method === "PATCH") {
          comment.body = call.body?.body ?? "";
          return send(200, view(comment));
        }
        if (req.method === "DELETE") {
          state.comments.splice(state.comments.indexOf(comment), 1);
          return send(204);
        }
      }
      return send(404, { message: "Not Found" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const fake = state as FakeGitHub;
  fake.url = `http://127.0.0.1:${port}`;
  fake.stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return fake;
}
