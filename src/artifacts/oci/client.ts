/**
 * A small client of the OCI distribution protocol: tag lists, manifests and
 * blobs, with the registry's auth challenge answered (Basic, or a Bearer token
 * from the realm it names, with credentials or anonymously). Blobs are checked
 * while they stream: a blob longer than its descriptor says is cut off at once,
 * and its digest must match. Credentials go only to the registry's own origin
 * and its token realm, and never into a message.
 */
import { createHash } from "node:crypto";
import { Readable, Transform, type TransformCallback } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { FetchError, describeNetworkError } from "../http.js";
import type { RegistryCredentials } from "./docker-config.js";
import { ACCEPT_MANIFESTS, TagList, TokenResponse, type Descriptor } from "./schema.js";

export interface RegistryClientOptions {
  registry: string;
  /** Use plain HTTP (`spec.insecure`). */
  insecure?: boolean;
  credentials?: RegistryCredentials;
  signal?: AbortSignal;
  timeoutMs?: number;
  onRequest?: (method: string, url: string) => void;
}

export interface ManifestResponse {
  digest: string;
  mediaType: string | undefined;
  body: Buffer;
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parse a `WWW-Authenticate` header: `Bearer realm="...",service="...",scope="..."`. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (let p = re.exec(m[2] ?? ""); p; p = re.exec(m[2] ?? "")) {
    params[(p[1] ?? "").toLowerCase()] = (p[2] ?? p[3] ?? "").replace(/\\(.)/g, "$1");
  }
  return { scheme: (m[1] ?? "").toLowerCase(), params };
}

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_REDIRECTS = 5;

export class RegistryClient {
  private readonly base: string;
  /** Authorization header per scope, once a challenge was answered. */
  private readonly authorization = new Map<string, string>();

  constructor(private readonly options: RegistryClientOptions) {
    this.base = `${options.insecure ? "http" : "https"}://${options.registry}`;
  }

  private fail(what: string, detail: string, cause?: unknown): FetchError {
    return new FetchError(`${what}: ${detail}`, cause === undefined ? undefined : { cause });
  }

  /** Every tag of a repository (follows `Link` pagination). */
  async listTags(repository: string): Promise<string[]> {
    const tags: string[] = [];
    let next: string | undefined = `${this.base}/v2/${repository}/tags/list?n=1000`;
    for (let page = 0; next && page < 100; page++) {
      const res = await this.request("GET", next, repository, { accept: "application/json" });
      if (!res.ok)
        throw this.statusError(`listing tags of ${this.options.registry}/${repository}`, res);
      const parsed = TagList.safeParse(await res.json());
      if (!parsed.success)
        throw this.fail(
          `listing tags of ${this.options.registry}/${repository}`,
          "unexpected response",
        );
      tags.push(...(parsed.data.tags ?? []));
      const link = res.headers.get("link");
      const m = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
      next = m?.[1] ? new URL(m[1], this.base).toString() : undefined;
    }
    return tags;
  }

  /** The digest a tag or digest points to, by a HEAD request (GET if HEAD gives none). */
  async resolveDigest(repository: string, reference: string): Promise<string> {
    const url = `${this.base}/v2/${repository}/manifests/${reference}`;
    const res = await this.request("HEAD", url, repository, { accept: ACCEPT_MANIFESTS });
    if (res.ok) {
      const digest = res.headers.get("docker-content-digest");
      if (digest && /^sha256:[0-9a-f]{64}$/.test(digest)) return digest;
    } else if (res.status !== 405) {
      throw this.statusError(`resolving ${this.options.registry}/${repository}:${reference}`, res);
    }
    return (await this.getManifest(repository, reference)).digest;
  }

  async getManifest(repository: string, reference: string): Promise<ManifestResponse> {
    const what = `getting manifest ${this.options.registry}/${repository}${reference.startsWith("sha256:") ? "@" : ":"}${reference}`;
    const url = `${this.base}/v2/${repository}/manifests/${reference}`;
    const res = await this.request("GET", url, repository, { accept: ACCEPT_MANIFESTS });
    if (!res.ok) throw this.statusError(what, res);
    const declared = Number(res.headers.get("content-length") ?? "0");
    if (declared > MAX_MANIFEST_BYTES)
      throw this.fail(what, `manifest larger than ${MAX_MANIFEST_BYTES} bytes`);
    const body = Buffer.from(await res.arrayBuffer());
    if (body.length > MAX_MANIFEST_BYTES)
      throw this.fail(what, `manifest larger than ${MAX_MANIFEST_BYTES} bytes`);
    const digest = `sha256:${createHash("sha256").update(body).digest("hex")}`;
    if (reference.startsWith("sha256:") && reference !== digest) {
      throw this.fail(what, `the registry sent content with digest ${digest}`);
    }
    const mediaType = res.headers.get("content-type")?.split(";")[0]?.trim() || undefined;
    return { digest, mediaType, body };
  }

  /**
   * A blob as a stream that fails if the registry sends more bytes than the
   * descriptor declares, fewer, or content with another digest.
   */
  async openBlob(repository: string, descriptor: Descriptor): Promise<Readable> {
    const what = `downloading blob ${descriptor.digest} of ${this.options.registry}/${repository}`;
    const url = `${this.base}/v2/${repository}/blobs/${descriptor.digest}`;
    const res = await this.request("GET", url, repository, {});
    if (!res.ok || !res.body) throw this.statusError(what, res);
    const length = res.headers.get("content-length");
    if (length !== null && Number(length) > descriptor.size) {
      await res.body.cancel().catch(() => undefined);
      throw this.fail(
        what,
        `the registry announces ${length} bytes but the manifest declares ${descriptor.size}`,
      );
    }
    const source = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
    const verify = new VerifyStream(descriptor, what);
    source.on("error", (err) => verify.destroy(err));
    return source.pipe(verify);
  }

  private statusError(what: string, res: Response): FetchError {
    let detail = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`;
    if (res.status === 401 || res.status === 403) {
      detail += this.options.credentials
        ? " (the registry refused the credentials)"
        : " (the registry needs credentials: set spec.secretRef and give the Secret with --secret-file, or log in so that the docker config has them, or pass --registry-config)";
    } else if (res.status === 404) {
      detail += " (not found)";
    }
    return this.fail(what, detail);
  }

  /** A request with auth challenge handling and same-origin redirects for credentials. */
  private async request(
    method: string,
    url: string,
    repository: string,
    headers: Record<string, string>,
  ): Promise<Response> {
    const scope = `repository:${repository}:pull`;
    let res = await this.send(method, url, headers, this.authorization.get(scope));
    if (res.status !== 401) return res;
    const challenge = parseChallenge(res.headers.get("www-authenticate"));
    await res.body?.cancel().catch(() => undefined);
    const authorization = await this.answer(challenge, scope);
    if (!authorization) return res;
    this.authorization.set(scope, authorization);
    res = await this.send(method, url, headers, authorization);
    return res;
  }

  private async answer(
    challenge: Challenge | undefined,
    scope: string,
  ): Promise<string | undefined> {
    const creds = this.options.credentials;
    if (!challenge) return undefined;
    if (challenge.scheme === "basic") {
      if (!creds || creds.username === undefined) return undefined;
      return `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ""}`).toString("base64")}`;
    }
    if (challenge.scheme !== "bearer") return undefined;
    if (creds?.registryToken) return `Bearer ${creds.registryToken}`;
    const realm = challenge.params.realm;
    if (!realm) return undefined;
    const tokenUrl = new URL(realm);
    if (challenge.params.service) tokenUrl.searchParams.set("service", challenge.params.service);
    tokenUrl.searchParams.set("scope", challenge.params.scope ?? scope);
    let res: Response;
    if (creds?.identityToken) {
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: creds.identityToken,
        service: challenge.params.service ?? "",
        scope: challenge.params.scope ?? scope,
        client_id: "flux-local",
      });
      res = await this.send(
        "POST",
        realm,
        { "content-type": "application/x-www-form-urlencoded" },
        undefined,
        form.toString(),
      );
    } else {
      const basic =
        creds?.username !== undefined
          ? `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ""}`).toString("base64")}`
          : undefined;
      res = await this.send("GET", tokenUrl.toString(), { accept: "application/json" }, basic);
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      const refused = res.status === 401 || res.status === 403;
      throw this.fail(
        `getting a token from ${tokenUrl.origin}`,
        `HTTP ${res.status}${refused ? (creds ? " (the registry refused the credentials)" : " (the registry needs credentials)") : ""}`,
      );
    }
    const parsed = TokenResponse.safeParse(await res.json().catch(() => undefined));
    const token = parsed.success ? (parsed.data.token ?? parsed.data.access_token) : undefined;
    if (!token)
      throw this.fail(`getting a token from ${tokenUrl.origin}`, "no token in the response");
    return `Bearer ${token}`;
  }

  private async send(
    method: string,
    url: string,
    headers: Record<string, string>,
    authorization: string | undefined,
    body?: string,
  ): Promise<Response> {
    let current = url;
    const origin = new URL(url).origin;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const sameOrigin = new URL(current).origin === origin;
      this.options.onRequest?.(method, current);
      let res: Response;
      try {
        res = await fetch(current, {
          method,
          headers: { ...headers, ...(authorization && sameOrigin ? { authorization } : {}) },
          redirect: "manual",
          ...(body !== undefined ? { body } : {}),
          ...(this.options.signal ? { signal: this.options.signal } : {}),
        });
      } catch (err) {
        throw this.fail(
          `${method} ${stripQuery(current)}`,
          describeNetworkError(err, this.options.timeoutMs),
          err,
        );
      }
      const location = res.headers.get("location");
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel().catch(() => undefined);
        current = new URL(location, current).toString();
        continue;
      }
      return res;
    }
    throw this.fail(`${method} ${stripQuery(url)}`, "too many redirects");
  }
}

/** Signed blob URLs carry credentials in their query: keep them out of messages. */
function stripQuery(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

class VerifyStream extends Transform {
  private readonly hash = createHash("sha256");
  private bytes = 0;

  constructor(
    private readonly descriptor: Descriptor,
    private readonly what: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.descriptor.size) {
      callback(
        new FetchError(
          `${this.what}: the blob is larger than the ${this.descriptor.size} bytes its descriptor declares; refused`,
        ),
      );
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.bytes !== this.descriptor.size) {
      callback(
        new FetchError(
          `${this.what}: got ${this.bytes} bytes, the descriptor declares ${this.descriptor.size}`,
        ),
      );
      return;
    }
    const digest = `sha256:${this.hash.digest("hex")}`;
    if (digest !== this.descriptor.digest) {
      callback(new FetchError(`${this.what}: content digest ${digest} does not match`));
      return;
    }
    callback();
  }
}
