/**
 * `flux-local pr-comment FILE --key KEY`: post the Markdown in FILE (what
 * `diff -o markdown` wrote) as the pull request's one comment for KEY, or
 * update it in place; an empty FILE means no changes. Used by the GitHub
 * Action (action/diff); works in any workflow step with GITHUB_TOKEN set.
 */
import { readFile } from "node:fs/promises";
import { Command, Option } from "commander";
import { errorMessage, UsageError } from "../../util/errors.js";
import { syncComment } from "../github/comment.js";
import { addExamples } from "../help.js";
import { EXIT_OK } from "../settings.js";

export function prCommentCommand(setExit: (code: number) => void): Command {
  const cmd = new Command("pr-comment")
    .description(
      "post a diff as the pull request's one comment for KEY, updated in place on each run (GitHub Actions)",
    )
    .argument("<file>", "the Markdown to post (`diff -o markdown` output); empty: no changes")
    .requiredOption(
      "--key <key>",
      "what the comment is about, e.g. the cluster path: one comment per key",
    )
    .addOption(
      new Option(
        "--empty <what>",
        'when FILE is empty: replace the comment with "No changes.", or delete it',
      )
        .choices(["update", "delete"])
        .default("update"),
    );
  addExamples(
    cmd,
    [
      {
        does: "the diff of a cluster as its pull-request comment",
        run: "flux-local pr-comment diff.md --key clusters/prod",
      },
      {
        does: "delete the comment once the pull request changes nothing there",
        run: "flux-local pr-comment diff.md --key clusters/prod --empty delete",
      },
    ],
    "Reads GITHUB_EVENT_PATH, GITHUB_REPOSITORY, GITHUB_API_URL and GITHUB_TOKEN (the job needs\n" +
      "`permissions: pull-requests: write`); writes comment-action and comment-id to GITHUB_OUTPUT.",
  );
  cmd.action(async (file: string, opts: { key: string; empty: "update" | "delete" }) => {
    let body: string;
    try {
      body = await readFile(file, "utf8");
    } catch (err) {
      throw new UsageError(`${file}: cannot read: ${errorMessage(err)}`);
    }
    const result = await syncComment({ body, key: opts.key, empty: opts.empty, env: process.env });
    process.stdout.write(
      `flux-local: comment ${result.action}${result.url ? `: ${result.url}` : ""}${result.note ? ` (${result.note})` : ""}\n`,
    );
    setExit(EXIT_OK);
  });
  return cmd;
}
