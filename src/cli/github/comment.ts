/**
 * One pull-request comment per key (a cluster path and resource), kept up to
 * date: found by a hidden marker line, created on the first run, updated in
 * place on later pushes (never a new comment per run), and replaced with "no
 * changes" (or deleted) when the diff becomes empty. Everything comes from the
 * environment a GitHub Actions runner provides: GITHUB_EVENT_PATH (the pull
 * request), GITHUB_REPOSITORY, GITHUB_API_URL, GITHUB_TOKEN, GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY.
 */
import { appendFile, readFile } from "node:fs/promises";
import { errorMessage, FluxLocalError, UsageError } from "../../util/errors.js";
import { notReplayable } from "../../util/run-record.js";

/** GitHub refuses comment bodies longer than this. */
export const MAX_COMMENT = 65_536;

export type CommentAction = "created" | "updated" | "unchanged" | "deleted" | "none";

export interface CommentRequest {
  /** The Markdown to post; empty or blank means "no changes". */
  body: string;
  /** What the comment is about (e.g. `clusters/prod (kustomization)`): one comment per key. */
  key: string;
  /** When the body is empty: replace the comment with "no changes", or delete it. */
  empty: "update" | "delete";
  env: Readonly<Record<string, string | undefined>>;
}

export interface CommentResult {
  action: CommentAction;
  id?: number;
  url?: string;
  /** Why nothing was done, when nothing was. */
  note?: string;
}

interface IssueComment {
  id: number;
  body?: string | null;
  html_url?: string;
}

/** The hidden line that finds our comment again (the key is escaped so it cannot end the HTML comment). */
export function markerFor(key: string): string {
  return `<!-- flux-local diff: ${key.replace(/--/g, "- -").replace(/>/g, "&gt;")} -->`;
}

export function commentBody(key: string, body: string): string {
  const marker = markerFor(key);
  const title = `### flux-local diff: \`${key.replace(/`/g, "'")}\``;
  const text = body.trim() === "" ? "No changes." : body.trimEnd();
  const full = `${marker}\n${title}\n\n${text}\n`;
  if (full.length <= MAX_COMMENT) return full;
  const notice =
    "\n\n_[cut: the diff is longer than a GitHub comment allows; run flux-local diff to see all of it]_\n";
  return `${full.slice(0, MAX_COMMENT - notice.length)}${notice}`;
}

/** The pull request number of the event, if the event is about one. */
export function pullRequestNumber(event: unknown): number | undefined {
  if (typeof event !== "object" || event === null) return undefined;
  const e = event as {
    pull_request?: { number?: unknown };
    issue?: { number?: unknown; pull_request?: unknown };
    number?: unknown;
  };
  const candidates = [
    e.pull_request?.number,
    e.issue?.pull_request ? e.issue.number : undefined,
    e.pull_request ? e.number : undefined,
  ];
  const found = candidates.find((n) => typeof n === "number" && Number.isInteger(n) && n > 0);
  return found as number | undefined;
}

class GitHubApi {
  constructor(
    private readonly base: string,
    private readonly token: string,
  ) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.base.replace(/\/+$/, "")}${path}`;
    notReplayable("talked to the GitHub API");
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          accept: "application/vnd.github+json",
          authorization: `Bearer ${this.token}`,
          "x-github-api-version": "2022-11-28",
          "user-agent": "flux-local",
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new FluxLocalError(`GitHub API ${method} ${path}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    const text = await response.text();
    if (!response.ok) {
      let message = text.slice(0, 300);
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        // not JSON: the start of the text says enough
      }
      const hint =
        response.status === 403 || response.status === 404
          ? " (the token needs `pull-requests: write`; pull requests from forks get a read-only token)"
          : "";
      throw new FluxLocalError(
        `GitHub API ${method} ${path}: ${response.status} ${message}${hint}`,
      );
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

async function findComment(
  api: GitHubApi,
  repo: string,
  pr: number,
  marker: string,
): Promise<IssueComment | undefined> {
  for (let page = 1; page <= 100; page++) {
    const comments = await api.call<IssueComment[]>(
      "GET",
      `/repos/${repo}/issues/${pr}/comments?per_page=100&page=${page}`,
    );
    const found = comments.find((c) => (c.body ?? "").includes(marker));
    if (found) return found;
    if (comments.length < 100) return undefined;
  }
  return undefined;
}

/** Post, update or delete the comment; record the outcome in GITHUB_OUTPUT and the step summary. */
export async function syncComment(request: CommentRequest): Promise<CommentResult> {
  const { env } = request;
  const result = await sync(request);
  const lines = [
    `comment-action=${result.action}`,
    ...(result.id ? [`comment-id=${result.id}`] : []),
  ];
  if (env.GITHUB_OUTPUT) await appendFile(env.GITHUB_OUTPUT, `${lines.join("\n")}\n`);
  if (env.GITHUB_STEP_SUMMARY) {
    const where = result.url ? ` ([comment](${result.url}))` : "";
    await appendFile(
      env.GITHUB_STEP_SUMMARY,
      `flux-local diff \`${request.key}\`: comment ${result.action}${where}${result.note ? `: ${result.note}` : ""}\n`,
    );
  }
  return result;
}

async function sync(request: CommentRequest): Promise<CommentResult> {
  const { env } = request;
  const eventPath = env.GITHUB_EVENT_PATH;
  if (!eventPath)
    throw new UsageError("GITHUB_EVENT_PATH is not set: run this in a GitHub Actions job");
  let event: unknown;
  try {
    event = JSON.parse(await readFile(eventPath, "utf8"));
  } catch (err) {
    throw new FluxLocalError(`GITHUB_EVENT_PATH ${eventPath}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  const pr = pullRequestNumber(event);
  if (pr === undefined) return { action: "none", note: "the event is not a pull request" };
  const repo = env.GITHUB_REPOSITORY;
  if (!repo || !/^[\w.-]+\/[\w.-]+$/.test(repo)) {
    throw new UsageError(`GITHUB_REPOSITORY ${repo ?? "(unset)"}: expected OWNER/REPO`);
  }
  const token = env.GITHUB_TOKEN;
  if (!token) throw new UsageError("GITHUB_TOKEN is not set: pass the job's token to this step");
  const api = new GitHubApi(env.GITHUB_API_URL ?? "https://api.github.com", token);

  const marker = markerFor(request.key);
  const existing = await findComment(api, repo, pr, marker);
  const empty = request.body.trim() === "";
  if (empty && request.empty === "delete") {
    if (!existing) return { action: "none", note: "no changes, and no comment to remove" };
    await api.call("DELETE", `/repos/${repo}/issues/comments/${existing.id}`);
    return { action: "deleted", id: existing.id };
  }
  if (empty && !existing) return { action: "none", note: "no changes" };
  const body = commentBody(request.key, request.body);
  if (existing) {
    if (existing.body === body) {
      return {
        action: "unchanged",
        id: existing.id,
        ...(existing.html_url ? { url: existing.html_url } : {}),
      };
    }
    const updated = await api.call<IssueComment>(
      "PATCH",
      `/repos/${repo}/issues/comments/${existing.id}`,
      { body },
    );
    return {
      action: "updated",
      id: updated.id,
      ...(updated.html_url ? { url: updated.html_url } : {}),
    };
  }
  const created = await api.call<IssueComment>("POST", `/repos/${repo}/issues/${pr}/comments`, {
    body,
  });
  return {
    action: "created",
    id: created.id,
    ...(created.html_url ? { url: created.html_url } : {}),
  };
}
