import { describe, expect, it } from "vitest";
import {
  escapeData,
  escapeProperty,
  failureAnnotation,
  formatAnnotation,
  isGitHubActions,
  markdownCell,
  stepSummary,
  workspacePath,
} from "../../src/views/github.js";

describe("workflow commands", () => {
  it("escapes data and properties as GitHub's command parser needs", () => {
    expect(escapeData("100%\r\ndone: a,b")).toBe("100%25%0D%0Adone: a,b");
    expect(escapeProperty("a:b,c%\n")).toBe("a%3Ab%2Cc%25%0A");
  });

  it("formats an annotation with file, line and title", () => {
    expect(
      formatAnnotation({
        level: "error",
        file: "clusters/prod/a,b.yaml",
        line: 3,
        title: "Kustomization flux-system/apps: BuildFailed",
        message: "kustomize failed\nline two",
      }),
    ).toBe(
      "::error file=clusters/prod/a%2Cb.yaml,line=3,title=Kustomization flux-system/apps%3A BuildFailed::kustomize failed%0Aline two",
    );
    expect(formatAnnotation({ level: "warning", message: "plain" })).toBe("::warning::plain");
    // A line without a file means nothing to GitHub.
    expect(formatAnnotation({ level: "notice", line: 4, message: "m" })).toBe("::notice::m");
  });

  it("makes a failure an error annotation with the root cause", () => {
    const a = failureAnnotation(
      {
        kind: "Kustomization",
        namespace: "flux-system",
        name: "apps",
        file: "clusters/prod/apps.yaml",
        line: 2,
        reason: "DependencyNotReady",
        message: "dependency failed",
        rootCause: {
          object: "OCIRepository/flux-system/r",
          reason: "ArtifactFailed",
          message: "x",
        },
      },
      (f) => `sub/${f}`,
    );
    expect(formatAnnotation(a)).toBe(
      "::error file=sub/clusters/prod/apps.yaml,line=2,title=Kustomization flux-system/apps%3A DependencyNotReady::DependencyNotReady: dependency failed%0Aroot cause: OCIRepository/flux-system/r: ArtifactFailed: x",
    );
  });

  it("detects GitHub Actions and makes paths relative to the workspace", () => {
    expect(isGitHubActions({ GITHUB_ACTIONS: "true" })).toBe(true);
    expect(isGitHubActions({})).toBe(false);
    expect(workspacePath("clusters/a.yaml", "/ws/sub", "/ws")).toBe("sub/clusters/a.yaml");
    expect(workspacePath("/elsewhere/a.yaml", "/ws", "/ws")).toBe("/elsewhere/a.yaml");
    expect(workspacePath("a.yaml", "/ws", undefined)).toBe("a.yaml");
  });
});

describe("step summary", () => {
  it("is a Markdown table whose cells cannot break the table or inject HTML", () => {
    expect(markdownCell("a|b <img> `x`\nnext")).toBe("a\\|b &lt;img&gt; \\`x\\`<br>next");
    expect(
      stepSummary("flux-local test: 1 passed, 1 failed", [
        {
          object: "Kustomization flux-system/apps",
          location: "clusters/prod/apps.yaml:2",
          reason: "BuildFailed",
          message: "boom | bang",
          rootCause: "GitRepository/flux-system/x: ArtifactFailed: gone",
        },
      ]),
    ).toBe(
      "### flux-local test: 1 passed, 1 failed\n\n" +
        "| Object | Location | Reason | Message | Root cause |\n" +
        "| --- | --- | --- | --- | --- |\n" +
        "| Kustomization flux-system/apps | `clusters/prod/apps.yaml:2` | BuildFailed | boom \\| bang | GitRepository/flux-system/x: ArtifactFailed: gone |\n\n",
    );
    expect(stepSummary("ok", [])).toBe("### ok\n\nNo failures.\n\n");
  });
});
