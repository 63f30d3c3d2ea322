/**
 * HTTP GETs for chart sources: a timeout and the run's abort signal, a size
 * cap while reading, and errors that name the URL without its credentials.
 */
import { describeNetworkError } from "../http.js";
import { ChartError } from "./errors.js";

export const DEFAULT_HTTP_TIMEOUT_MS = 2 * 60_000;

export interface GetOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Refuse bodies larger than this many bytes. */
  maxBytes: number;
  method?: "GET" | "HEAD";
}

/** A URL safe to print: no user info, no query string. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    u.search = "";
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, "//");
  }
}

export async function httpGet(url: string, options: GetOptions): Promise<Response> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    return await fetch(url, {
      method: options.method ?? "GET",
      headers: options.headers,
      signal,
      redirect: "follow",
    });
  } catch (err) {
    const reason = describeNetworkError(err, options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS);
    throw new ChartError(`GET ${displayUrl(url)} failed: ${reason}`, { cause: err });
  }
}

/** The whole body, refusing more than `maxBytes`. */
export async function readBody(response: Response, url: string, maxBytes: number): Promise<Buffer> {
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw new ChartError(
      `GET ${displayUrl(url)}: ${declared} bytes is more than the limit of ${maxBytes}`,
    );
  }
  const chunks: Buffer[] = [];
  let total = 0;
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new ChartError(`GET ${displayUrl(url)}: more than the limit of ${maxBytes} bytes`);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}

/** A ChartError for a non-2xx response (the body is discarded). */
export async function statusError(response: Response, url: string, hint = ""): Promise<ChartError> {
  await response.body?.cancel().catch(() => undefined);
  const text = `${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
  return new ChartError(`GET ${displayUrl(url)}: ${text}${hint ? ` (${hint})` : ""}`);
}
