/**
 * HTTP for source fetching: an isomorphic-git HTTP client over Node's fetch,
 * with the caller's abort signal (spec.timeout and the run's signal) and
 * credentials sent as an Authorization header. Errors are described without
 * the credentials: URLs lose their user-info, headers are never printed.
 */
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { GitHttpRequest, GitHttpResponse, HttpClient } from "isomorphic-git";
import { FluxLocalError } from "../util/errors.js";

/** A fetch failed for a reason that is the remote's or the network's, not a bug. */
export class FetchError extends FluxLocalError {}

export interface HttpAuth {
  username?: string;
  password?: string;
  bearerToken?: string;
}

/** The Authorization header value for these credentials, if any. */
export function authorizationHeader(auth: HttpAuth | undefined): string | undefined {
  if (!auth) return undefined;
  if (auth.bearerToken) return `Bearer ${auth.bearerToken}`;
  if (auth.username !== undefined || auth.password !== undefined) {
    return `Basic ${Buffer.from(`${auth.username ?? ""}:${auth.password ?? ""}`).toString("base64")}`;
  }
  return undefined;
}

/** A URL with any user-info removed, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = "";
    u.password = "";
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@]*@/, "//");
  }
}

/** Credentials written in a URL's user-info (`https://user:pass@host/...`), and the URL without them. */
export function splitUrlCredentials(url: string): { url: string; auth?: HttpAuth } {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return { url };
    const auth = {
      username: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
    };
    u.username = "";
    u.password = "";
    return { url: u.toString(), auth };
  } catch {
    return { url };
  }
}

async function collect(
  body: AsyncIterableIterator<Uint8Array> | undefined,
): Promise<Buffer | undefined> {
  if (!body) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

export interface GitHttpOptions {
  auth?: HttpAuth;
  signal?: AbortSignal;
  /** Counts requests (tests and `--verbose` use it). */
  onRequest?: (url: string) => void;
}

/** An isomorphic-git HTTP client over Node's fetch. */
export function gitHttpClient(options: GitHttpOptions): HttpClient {
  const authorization = authorizationHeader(options.auth);
  return {
    async request(req: GitHttpRequest): Promise<GitHttpResponse> {
      const headers: Record<string, string> = { ...(req.headers ?? {}) };
      if (authorization) headers.authorization = authorization;
      options.onRequest?.(req.url);
      const body = await collect(req.body);
      const res = await fetch(req.url, {
        method: req.method ?? "GET",
        headers,
        ...(body ? { body } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const responseHeaders: Record<string, string> = {};
      res.headers.forEach((value, key) => {
        responseHeaders[key] = value;
      });
      const stream = res.body
        ? Readable.fromWeb(res.body as WebReadableStream<Uint8Array>)
        : undefined;
      return {
        url: res.url || req.url,
        method: req.method ?? "GET",
        statusCode: res.status,
        statusMessage: res.statusText,
        headers: responseHeaders,
        ...(stream
          ? { body: stream[Symbol.asyncIterator]() as AsyncIterableIterator<Uint8Array> }
          : {}),
      };
    },
  };
}

/**
 * One line saying why a network operation failed: a timeout, a refused or
 * unknown host, an HTTP status. Never includes credentials.
 */
export function describeNetworkError(err: unknown, timeoutMs?: number): string {
  const e = err as {
    name?: string;
    message?: string;
    code?: string;
    cause?: unknown;
    data?: { statusCode?: number; statusMessage?: string };
  };
  if (
    e?.name === "TimeoutError" ||
    (e?.name === "AbortError" && timeoutMs !== undefined && isTimeoutCause(e))
  ) {
    return timeoutMs !== undefined ? `timed out after ${formatMs(timeoutMs)}` : "timed out";
  }
  if (e?.name === "AbortError") return "cancelled";
  if (e?.code === "HttpError" && e.data?.statusCode) {
    return `HTTP ${e.data.statusCode}${e.data.statusMessage ? ` ${e.data.statusMessage}` : ""}`;
  }
  const cause = e?.cause as { code?: string; message?: string; name?: string } | undefined;
  if (cause?.name === "TimeoutError")
    return timeoutMs !== undefined ? `timed out after ${formatMs(timeoutMs)}` : "timed out";
  const code = cause?.code ?? e?.code;
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host not found";
    case "ECONNRESET":
      return "connection reset";
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return "connection timed out";
    default:
      break;
  }
  const message = cause?.message ?? e?.message ?? String(err);
  return stripCredentials(message);
}

function isTimeoutCause(e: { cause?: unknown }): boolean {
  return (e.cause as { name?: string } | undefined)?.name === "TimeoutError";
}

/** Remove anything that looks like URL user-info from a message. */
export function stripCredentials(message: string): string {
  return message.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, "$1");
}

export function formatMs(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** An abort signal that fires after `timeoutMs` or when `parent` aborts. */
export function deadline(timeoutMs: number, parent?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return parent ? AbortSignal.any([timeout, parent]) : timeout;
}
