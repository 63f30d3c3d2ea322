/**
 * Fetching a Git repository over HTTP(S) with isomorphic-git: list the remote's
 * refs, fetch the one commit needed (depth 1 when it is a ref tip) into a
 * temporary bare repository, and write that commit's tree as a Flux artifact
 * would hold it: regular files only, symlinks that point inside the tree
 * replaced by what they point at (as source-controller does), submodules left
 * out, and the artifact ignore rules applied.
 */
import fs from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type IsomorphicGit from "isomorphic-git";

/** isomorphic-git, loaded on first use: a run that fetches no Git source never pays for it. */
let gitModule: Promise<typeof IsomorphicGit> | undefined;
function isogit(): Promise<typeof IsomorphicGit> {
  gitModule ??= import("isomorphic-git").then((m) => m.default);
  return gitModule;
}
import { ArtifactFilter, SOURCEIGNORE_FILE } from "./ignore.js";
import {
  FetchError,
  describeNetworkError,
  gitHttpClient,
  redactUrl,
  type HttpAuth,
} from "../http.js";
import type { AdvertisedRef, ResolvedRef } from "./refs.js";

export interface GitRemote {
  /** HTTP(S) URL, without credentials. */
  url: string;
  auth?: HttpAuth;
  /** Where `auth` came from, for messages ("spec.secretRef x", "the URL's userinfo"). */
  authSource?: string;
  /** Aborts the operation (spec.timeout combined with the run's signal). */
  signal?: AbortSignal;
  /** For messages: the timeout behind `signal`. */
  timeoutMs?: number;
  onRequest?: (url: string) => void;
}

/** Schemes isomorphic-git can fetch. */
export function isHttpUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

function wrap(err: unknown, remote: GitRemote, what: string): FetchError {
  if (err instanceof FetchError) return err;
  const e = err as { code?: string; data?: { statusCode?: number } };
  const status = e?.code === "HttpError" ? e.data?.statusCode : undefined;
  let detail = describeNetworkError(err, remote.timeoutMs);
  if (status === 401 || status === 403) {
    detail += remote.auth
      ? ` (the credentials from ${remote.authSource ?? "spec.secretRef"} were refused)`
      : " (the repository needs credentials: set spec.secretRef and give the Secret with --secret-file)";
  } else if (status === 404) {
    detail += " (no repository at this URL)";
  }
  return new FetchError(`${what} ${redactUrl(remote.url)}: ${detail}`, { cause: err });
}

/** The refs the remote advertises (branches, tags with their peeled commits). */
export async function listRemoteRefs(remote: GitRemote): Promise<AdvertisedRef[]> {
  const git = await isogit();
  try {
    const refs = await git.listServerRefs({
      http: gitHttpClient(options(remote)),
      url: remote.url,
      protocolVersion: 1,
      peelTags: true,
    });
    return refs.map((r) => ({ ref: r.ref, oid: r.oid, ...(r.peeled ? { peeled: r.peeled } : {}) }));
  } catch (err) {
    throw wrap(err, remote, "listing refs of");
  }
}

function options(remote: GitRemote) {
  return {
    ...(remote.auth ? { auth: remote.auth } : {}),
    ...(remote.signal ? { signal: remote.signal } : {}),
    ...(remote.onRequest ? { onRequest: remote.onRequest } : {}),
  };
}

export interface CheckoutOptions {
  /** `spec.ignore` of the source. */
  specIgnore?: string;
}

export interface CheckoutResult {
  files: number;
  skippedSymlinks: string[];
}

/**
 * Fetch `resolved.commit` and write its tree into `dest` (an existing empty
 * directory). Uses a temporary bare repository that is always removed.
 */
export async function checkoutCommit(
  remote: GitRemote,
  resolved: ResolvedRef,
  dest: string,
  opts: CheckoutOptions = {},
): Promise<CheckoutResult> {
  const git = await isogit();
  const gitdir = await mkdtemp(path.join(os.tmpdir(), "flux-local-git-"));
  try {
    await git.init({ fs, gitdir, bare: true });
    await git.addRemote({ fs, gitdir, remote: "origin", url: remote.url });
    const http = gitHttpClient(options(remote));
    try {
      await git.fetch({
        fs,
        http,
        gitdir,
        remote: "origin",
        ...(resolved.fetchRef
          ? { ref: resolved.fetchRef, singleBranch: true }
          : { singleBranch: false }),
        ...(resolved.shallow ? { depth: 1 } : {}),
        tags: false,
      });
    } catch (err) {
      throw wrap(err, remote, "fetching");
    }
    try {
      await git.readCommit({ fs, gitdir, oid: resolved.commit });
    } catch {
      throw new FetchError(`commit ${resolved.commit} not found in ${redactUrl(remote.url)}`);
    }
    return await writeCommitTree(gitdir, resolved.commit, dest, opts);
  } finally {
    await rm(gitdir, { recursive: true, force: true });
  }
}

interface TreeItem {
  type: "blob" | "tree" | "commit";
  mode: string;
  oid: string;
}

const MAX_LINK_HOPS = 40;
const WRITE_CONCURRENCY = 16;
const MAX_LINK_NESTING = 8;

/** Write a commit's tree from a repository into `dest`, filtered. */
export async function writeCommitTree(
  gitdir: string,
  commit: string,
  dest: string,
  opts: CheckoutOptions = {},
): Promise<CheckoutResult> {
  const git = await isogit();
  const cache = {};
  const items = new Map<string, TreeItem>();
  const children = new Map<string, string[]>();
  const { commit: c } = await git.readCommit({ fs, gitdir, oid: commit, cache });
  // 1. Index the whole tree.
  const queue: Array<{ dir: string; oid: string }> = [{ dir: "", oid: c.tree }];
  items.set("", { type: "tree", mode: "040000", oid: c.tree });
  while (queue.length > 0) {
    const next = queue.shift();
    if (!next) break;
    const { tree } = await git.readTree({ fs, gitdir, oid: next.oid, cache });
    const names: string[] = [];
    for (const entry of tree) {
      const p = next.dir ? `${next.dir}/${entry.path}` : entry.path;
      items.set(p, { type: entry.type, mode: entry.mode, oid: entry.oid });
      names.push(p);
      if (entry.type === "tree") queue.push({ dir: p, oid: entry.oid });
    }
    children.set(next.dir, names);
  }
  const readText = async (oid: string) =>
    Buffer.from((await git.readBlob({ fs, gitdir, oid, cache })).blob).toString("utf8");

  /** Follow symlinks inside the tree; undefined when a link leaves it or dangles. */
  const resolve = async (p: string): Promise<{ path: string; item: TreeItem } | undefined> => {
    let current = p;
    for (let hop = 0; hop < MAX_LINK_HOPS; hop++) {
      // Resolve parent components first (a link may sit on a directory above).
      const parts = current.split("/");
      let prefix = "";
      let rewritten = false;
      for (let i = 0; i < parts.length - 1; i++) {
        prefix = prefix ? `${prefix}/${parts[i]}` : (parts[i] ?? "");
        const it = items.get(prefix);
        if (it?.mode === "120000") {
          const target = joinLink(prefix, await readText(it.oid));
          if (target === undefined) return undefined;
          current = [target, ...parts.slice(i + 1)].filter(Boolean).join("/");
          rewritten = true;
          break;
        }
      }
      if (rewritten) continue;
      const item = items.get(current);
      if (!item) return undefined;
      if (item.mode !== "120000") return { path: current, item };
      const target = joinLink(current, await readText(item.oid));
      if (target === undefined) return undefined;
      current = target;
    }
    return undefined;
  };

  // 2. The artifact's layout: links inside the tree replaced by what they
  // point at (as source-controller resolves symlinks before archiving).
  const result: CheckoutResult = { files: 0, skippedSymlinks: [] };
  const planned: Array<{ rel: string; item: TreeItem }> = [];
  const planDir = async (source: string, target: string, nesting: number): Promise<void> => {
    for (const child of children.get(source) ?? []) {
      const item = items.get(child);
      if (!item) continue;
      const name = path.posix.basename(child);
      await planEntry(child, item, target ? `${target}/${name}` : name, nesting);
    }
  };
  const planEntry = async (
    source: string,
    item: TreeItem,
    rel: string,
    nesting: number,
  ): Promise<void> => {
    if (item.type === "commit") return; // submodule: not fetched
    if (item.mode === "120000") {
      const resolved = nesting < MAX_LINK_NESTING ? await resolve(source) : undefined;
      // A link to a directory above itself would copy the tree into itself.
      const cycle =
        resolved?.item.type === "tree" &&
        (resolved.path === "" || source.startsWith(`${resolved.path}/`));
      if (!resolved || cycle) {
        result.skippedSymlinks.push(rel);
        return;
      }
      await planEntry(resolved.path, resolved.item, rel, nesting + 1);
      return;
    }
    planned.push({ rel, item });
    if (item.type === "tree") await planDir(source, rel, nesting);
  };
  await planDir("", "", 0);

  // 3. The ignore rules: every .sourceignore of the artifact, and spec.ignore.
  const sourceignores = new Map<string, string>();
  for (const { rel, item } of planned) {
    if (item.type === "blob" && path.posix.basename(rel) === SOURCEIGNORE_FILE) {
      const dir = path.posix.dirname(rel);
      sourceignores.set(dir === "." ? "" : dir, await readText(item.oid));
    }
  }
  const filter = ArtifactFilter.create({
    sourceignores,
    ...(opts.specIgnore ? { specIgnore: opts.specIgnore } : {}),
  });

  // 4. Write what is kept (parents come before their children in `planned`).
  const dropped: string[] = [];
  const writes: Array<Promise<void>> = [];
  try {
    for (const { rel, item } of planned) {
      if (dropped.some((d) => rel.startsWith(`${d}/`))) continue;
      const isDir = item.type === "tree";
      if (filter.ignores(rel, isDir)) {
        if (isDir) dropped.push(rel);
        continue;
      }
      const out = path.join(dest, ...rel.split("/"));
      if (isDir) {
        await mkdir(out, { recursive: true });
        continue;
      }
      // Directories were made above (parents come first): write files a few at a time.
      const { blob } = await git.readBlob({ fs, gitdir, oid: item.oid, cache });
      const write = writeFile(out, blob, { mode: item.mode === "100755" ? 0o755 : 0o644 });
      write.catch(() => undefined); // awaited below
      writes.push(write);
      if (writes.length >= WRITE_CONCURRENCY) await writes.shift();
      result.files++;
    }
    await Promise.all(writes);
  } finally {
    // Nothing may still be writing when the caller removes a failed fill.
    await Promise.allSettled(writes);
  }
  return result;
}

/** The tree path a link at `linkPath` with `target` points to, or undefined outside the tree. */
export function joinLink(linkPath: string, target: string): string | undefined {
  if (target.startsWith("/") || target.includes("\0")) return undefined;
  const joined = path.posix.normalize(path.posix.join(path.posix.dirname(linkPath), target));
  if (joined === ".." || joined.startsWith("../")) return undefined;
  return joined === "." ? "" : joined.replace(/\/$/, "");
}
