import { describe, expect, it } from "vitest";
import { withoutGoDump } from "../../src/exec/run.js";

describe("withoutGoDump", () => {
  it("keeps why a Go program crashed, once, without the stacks", () => {
    const crash = [
      "fatal error: runtime: cannot allocate memory",
      "fatal error: runtime: cannot allocate memory",
      "",
      "goroutine 1 [running]:",
      "main.main()",
    ].join("\n");
    expect(withoutGoDump(crash)).toBe("fatal error: runtime: cannot allocate memory");
    expect(withoutGoDump("a\nb\na\n")).toBe("a\nb\na\n");
  });
});
