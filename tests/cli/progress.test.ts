import { afterEach, describe, expect, it, vi } from "vitest";
import {
  makeStyle,
  PLAIN,
  stripAnsi,
  styleFor,
  toneOf,
  wantsColor,
} from "../../src/cli/format/style.js";
import {
  clip,
  isCI,
  ProgressDisplay,
  renderProgress,
  shouldShowProgress,
  stateOf,
} from "../../src/cli/progress.js";
import { Store } from "../../src/store/store.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("style", () => {
  it("colours only terminals, never with NO_COLOR or TERM=dumb", () => {
    expect(wantsColor({ isTTY: true }, {})).toBe(true);
    expect(wantsColor({ isTTY: false }, {})).toBe(false);
    expect(wantsColor({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(wantsColor({ isTTY: true }, { TERM: "dumb" })).toBe(false);
    expect(wantsColor({ isTTY: false }, { FORCE_COLOR: "1" })).toBe(true);
    expect(wantsColor({ isTTY: false }, { FORCE_COLOR: "1", NO_COLOR: "1" })).toBe(false);
  });

  it("writes plain words when piped, icons and colours on a terminal", () => {
    const piped = styleFor({ isTTY: false }, {});
    expect(piped.icon("failed") + piped.paint("failed", "FAILED")).toBe("FAILED");
    const tty = styleFor({ isTTY: true }, {});
    expect(tty.icon("ready") + tty.paint("ready", "ok")).toBe(
      "\u001b[32m✔\u001b[0m \u001b[32mok\u001b[0m",
    );
    const noColor = styleFor({ isTTY: true }, { NO_COLOR: "1" });
    expect(noColor.icon("ready") + noColor.paint("ready", "ok")).toBe("✔ ok");
    expect(stripAnsi(tty.bold(tty.paint("failed", "x")))).toBe("x");
  });

  it("maps every phase to a tone", () => {
    expect(
      ["Ready", "Reconciling", "Pending", "Failed", "Suspended", "Skipped"].map((p) =>
        toneOf(p as never),
      ),
    ).toEqual(["ready", "progressing", "progressing", "failed", "suspended", "suspended"]);
  });
});

describe("when to show progress", () => {
  const tty = { stdout: { isTTY: true }, stderr: { isTTY: true } };
  it("only on an interactive terminal, outside CI, without --quiet or --verbose", () => {
    expect(shouldShowProgress({}, tty, {})).toBe(true);
    expect(shouldShowProgress({ quiet: true }, tty, {})).toBe(false);
    expect(shouldShowProgress({ verbose: true }, tty, {})).toBe(false);
    expect(shouldShowProgress({}, { ...tty, stdout: { isTTY: false } }, {})).toBe(false);
    expect(shouldShowProgress({}, { ...tty, stderr: { isTTY: false } }, {})).toBe(false);
    expect(shouldShowProgress({}, tty, { CI: "true" })).toBe(false);
    expect(shouldShowProgress({}, tty, { GITHUB_ACTIONS: "true" })).toBe(false);
    expect(shouldShowProgress({}, tty, { TERM: "dumb" })).toBe(false);
    expect(isCI({ CI: "false" })).toBe(false);
  });
});

describe("renderProgress", () => {
  it("shows the counts per state and the oldest objects in flight", () => {
    const lines = renderProgress(
      {
        counts: { pending: 3, rendering: 7, ready: 10, failed: 1, skipped: 2 },
        inFlight: Array.from({ length: 7 }, (_, i) => ({
          label: `Kustomization flux-system/k${i}`,
          since: 1000 + i * 100,
        })),
        elapsedMs: 4200,
      },
      { now: 2000, width: 80, style: PLAIN, frame: 0 },
    );
    expect(lines).toEqual([
      "10 ready, 7 rendering, 3 pending, 1 failed, 2 skipped (4.2 s)",
      "  Kustomization flux-system/k0 1.0 s",
      "  Kustomization flux-system/k1 0.9 s",
      "  Kustomization flux-system/k2 0.8 s",
      "  Kustomization flux-system/k3 0.7 s",
      "  Kustomization flux-system/k4 0.6 s",
      "  … and 2 more",
    ]);
  });

  it("never wraps: lines are cut to the terminal width", () => {
    expect(clip("abcdefghij", 5)).toBe("abcd…");
    const style = makeStyle({ color: true, icons: true });
    const [first] = renderProgress(
      {
        counts: { pending: 0, rendering: 0, ready: 1, failed: 0, skipped: 0 },
        inFlight: [],
        elapsedMs: 0,
      },
      { now: 0, width: 20, style, frame: 0 },
    );
    expect(stripAnsi(first ?? "").length).toBeLessThan(20);
  });
});

describe("ProgressDisplay", () => {
  function fakeStream() {
    const writes: string[] = [];
    return { writes, stream: { isTTY: true, columns: 100, write: (s: string) => writes.push(s) } };
  }

  it("follows the store, redraws at most every interval, and erases itself at the end", () => {
    vi.useFakeTimers();
    let now = 0;
    const { writes, stream } = fakeStream();
    const display = new ProgressDisplay(stream, PLAIN, { now: () => now, intervalMs: 100 });
    const store = new Store();
    display.observe(store);
    display.start();
    const ref = { kind: "Kustomization", namespace: "flux-system", name: "apps" };
    store.put(ref, { kind: "Kustomization", metadata: { name: "apps" } }, {});
    store.put({ kind: "ConfigMap", namespace: "x", name: "y" }, { kind: "ConfigMap" }, {});
    store.setStatus(ref, { phase: "Reconciling", reason: "Progressing", message: "building" });
    expect(writes).toEqual([]); // nothing before the first tick
    now = 150;
    vi.advanceTimersByTime(100);
    expect(writes).toEqual([
      "0 ready, 1 rendering, 0 pending, 0 failed, 0 skipped (0.1 s)\n  Kustomization flux-system/apps 0.1 s",
    ]);
    store.setStatus(ref, { phase: "Ready", reason: "ReconciliationSucceeded", message: "" });
    now = 240;
    vi.advanceTimersByTime(100);
    expect(writes[1]).toBe(
      "\r\u001b[1A\u001b[J1 ready, 0 rendering, 0 pending, 0 failed, 0 skipped (0.2 s)",
    );
    // Nothing changed, nothing rendering: no redraw until a second has passed.
    vi.advanceTimersByTime(300);
    expect(writes).toHaveLength(2);
    display.stop();
    expect(writes[2]).toBe("\r\u001b[J");
    vi.advanceTimersByTime(1000);
    store.setStatus(ref, { phase: "Failed", reason: "BuildFailed", message: "late" });
    expect(writes).toHaveLength(3);
    display.stop();
    expect(writes).toHaveLength(3);
  });

  it("maps phases to the states it counts", () => {
    expect(stateOf("Suspended")).toBe("skipped");
    expect(stateOf("Reconciling")).toBe("rendering");
  });
});
