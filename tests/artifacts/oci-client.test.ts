/**
 * The registry client against a small protocol-level fake on loopback: the
 * Bearer token dance, what happens when a registry misbehaves (a blob longer
 * than declared, streamed without Content-Length; content with another
 * digest), and that credentials go to neither messages nor other origins.
 */
import { createHash } from "node:crypto";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryClient } from "../../src/artifacts/oci/client.js";

const USER = "robot";
const PASSWORD = "s3cr3t-Pa55word";
const TOKEN = "tok-123";
const blob = Buffer.from("hello blob");
const digest = `sha256:${createHash("sha256").update(blob).digest("hex")}`;
const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, config: {}, layers: [] }));
const manifestDigest = `sha256:${createHash("sha256").update(manifest).digest("hex")}`;

let server: http.Server;
let other: http.Server;
let base: string;
let otherBase: string;
const seen: Array<{ url: string; authorization?: string }> = [];
const otherSeen: Array<{ url: string; authorization?: string }> = [];

function listen(s: http.Server): Promise<string> {
  return new Promise((resolve) =>
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      resolve(`127.0.0.1:${typeof a === "object" && a ? a.port : 0}`);
    }),
  );
}

beforeAll(async () => {
  other = http.createServer((req, res) => {
    otherSeen.push({ url: req.url ?? "", authorization: req.headers.authorization });
    res.end(blob);
  });
  otherBase = await listen(other);
  server = http.createServer((req, res) => {
    const url = req.url ?? "";
    seen.push({ url, authorization: req.headers.authorization });
    if (url.startsWith("/token")) {
      const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;
      if (req.headers.authorization !== basic) {
        res.writeHead(401).end();
        return;
      }
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ token: TOKEN }));
      return;
    }
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res
        .writeHead(401, {
          "www-authenticate": `Bearer realm="http://${base}/token",service="fake",scope="repository:app:pull"`,
        })
        .end();
      return;
    }
    if (url === "/v2/app/tags/list?n=1000") {
      res.writeHead(200, { link: `</v2/app/tags/list?n=1000&last=b>; rel="next"` });
      res.end(JSON.stringify({ tags: ["a", "b"] }));
    } else if (url.startsWith("/v2/app/tags/list")) {
      res.end(JSON.stringify({ tags: ["c"] }));
    } else if (url.startsWith("/v2/app/manifests/")) {
      res.writeHead(200, {
        "content-type": "application/vnd.oci.image.manifest.v1+json",
        "docker-content-digest": manifestDigest,
      });
      res.end(req.method === "HEAD" ? undefined : manifest);
    } else if (url === `/v2/app/blobs/${digest}`) {
      res.end(blob);
    } else if (url === `/v2/big/blobs/${digest}`) {
      // Streamed (no Content-Length), far longer than declared.
      res.writeHead(200, { "transfer-encoding": "chunked" });
      res.write(blob);
      res.end(Buffer.alloc(1024 * 1024, 1));
    } else if (url === `/v2/liar/blobs/${digest}`) {
      res.end(Buffer.from("other blob"));
    } else if (url === `/v2/moved/blobs/${digest}`) {
      res.writeHead(307, { location: `http://${otherBase}/signed?sig=abc` }).end();
    } else {
      res.writeHead(404).end();
    }
  });
  base = await listen(server);
});

afterAll(async () => {
  server.closeAllConnections();
  other.closeAllConnections();
  await new Promise((r) => server.close(r));
  await new Promise((r) => other.close(r));
});

const client = (credentials?: { username: string; password: string }) =>
  new RegistryClient({ registry: base, insecure: true, ...(credentials ? { credentials } : {}) });

async function drain(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

describe("RegistryClient", () => {
  it("gets a Bearer token with Basic credentials and reuses it", async () => {
    const c = client({ username: USER, password: PASSWORD });
    expect(await c.listTags("app")).toEqual(["a", "b", "c"]);
    expect(await c.resolveDigest("app", "a")).toBe(manifestDigest);
    const m = await c.getManifest("app", manifestDigest);
    expect(m.body.equals(manifest)).toBe(true);
    expect(
      (await drain(await c.openBlob("app", { mediaType: "x", digest, size: blob.length }))).equals(
        blob,
      ),
    ).toBe(true);
    expect(seen.filter((s) => s.url.startsWith("/token"))).toHaveLength(1);
  });

  it("says the credentials were refused, without them", async () => {
    const err = await client({ username: USER, password: "wrong-password" })
      .listTags("app")
      .catch((e: Error) => e);
    expect(String(err)).toMatch(
      /getting a token from http:\/\/127\.0\.0\.1:\d+: HTTP 401 \(the registry refused the credentials\)/,
    );
    expect(String(err)).not.toContain("wrong-password");
  });

  it("asks for credentials when it has none", async () => {
    await expect(client().listTags("app")).rejects.toThrow(
      /HTTP 401 \(the registry needs credentials\)/,
    );
  });

  it("cuts off a blob longer than its descriptor declares", async () => {
    const stream = await client({ username: USER, password: PASSWORD }).openBlob("big", {
      mediaType: "x",
      digest,
      size: blob.length,
    });
    await expect(drain(stream)).rejects.toThrow(
      /larger than the 10 bytes its descriptor declares; refused/,
    );
  });

  it("refuses content with another digest", async () => {
    const stream = await client({ username: USER, password: PASSWORD }).openBlob("liar", {
      mediaType: "x",
      digest,
      size: blob.length,
    });
    await expect(drain(stream)).rejects.toThrow(/content digest sha256:[0-9a-f]+ does not match/);
  });

  it("follows a redirect to another origin without the credentials", async () => {
    const stream = await client({ username: USER, password: PASSWORD }).openBlob("moved", {
      mediaType: "x",
      digest,
      size: blob.length,
    });
    expect((await drain(stream)).equals(blob)).toBe(true);
    expect(otherSeen).toEqual([{ url: "/signed?sig=abc", authorization: undefined }]);
  });

  it("times out on a registry that never answers", async () => {
    const hang = http.createServer(() => undefined);
    const host = await listen(hang);
    const c = new RegistryClient({
      registry: host,
      insecure: true,
      signal: AbortSignal.timeout(200),
      timeoutMs: 200,
    });
    await expect(c.listTags("app")).rejects.toThrow(
      /GET http:\/\/127\.0\.0\.1:\d+\/v2\/app\/tags\/list: timed out after 200ms/,
    );
    hang.closeAllConnections();
    await new Promise((r) => hang.close(r));
  });
});
