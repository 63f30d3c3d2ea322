/**
 * `flux-local ... | head`: when stdout's reader goes away, the command ends
 * as a process killed by SIGPIPE (exit 141), without an unhandled error.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { describe, expect, it } from "vitest";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/flux-local.js");

describe("a stdout closed by its reader", () => {
  it("ends the command quietly with exit 141", async () => {
    // The reader leaves before reading anything (`true` is gone long before
    // Node has started), so the first write finds the pipe closed. (Reading a
    // byte first raced: on a busy machine the whole text fit the pipe first.)
    const script = `"$0" "$1" cache info --help | true; echo "exit $\{PIPESTATUS[0]}" >&2`;
    const { stderr } = await execa("bash", ["-c", script, process.execPath, bin], {
      reject: false,
    });
    expect(stderr).toContain("exit 141");
    expect(stderr).not.toMatch(/EPIPE|Unhandled|at .*\.js:\d+/);
  });
});
