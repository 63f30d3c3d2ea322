/**
 * The live progress display of a run on a terminal: counts per state (pending,
 * rendering, ready, failed, skipped) and the objects being rendered, redrawn at
 * most ten times a second on stderr and erased when the run ends. Fed by the
 * store's events; shown only on an interactive terminal, never in CI, with
 * --quiet or with --verbose (whose command log is the progress then).
 */
import type { Store, StoreEntry } from "../store/store.js";
import type { Phase } from "../store/status.js";
import { stripAnsi, type Style } from "./format/style.js";
import type { Env } from "../util/env.js";
import { printable } from "../util/printable.js";

export const PROGRESS_STATES = ["pending", "rendering", "ready", "failed", "skipped"] as const;
export type ProgressState = (typeof PROGRESS_STATES)[number];

/** What the display counts: the objects a person waits for. */
export const TRACKED_KINDS: ReadonlySet<string> = new Set(["Kustomization", "HelmRelease"]);

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export function stateOf(phase: Phase): ProgressState {
  switch (phase) {
    case "Pending":
      return "pending";
    case "Reconciling":
      return "rendering";
    case "Ready":
      return "ready";
    case "Failed":
      return "failed";
    case "Suspended":
    case "Skipped":
      return "skipped";
  }
}

export function isCI(env: Env): boolean {
  const ci = env.CI;
  if (ci && ci !== "0" && ci.toLowerCase() !== "false") return true;
  return (
    env.GITHUB_ACTIONS === "true" || env.BUILD_NUMBER !== undefined || env.TF_BUILD !== undefined
  );
}

/** Whether to show the live display: both streams terminals, not CI, not quiet or verbose. */
export function shouldShowProgress(
  options: { quiet?: boolean; verbose?: boolean },
  streams: { stdout: { isTTY?: boolean }; stderr: { isTTY?: boolean } } = process,
  env: Env = process.env,
): boolean {
  if (options.quiet || options.verbose) return false;
  if (streams.stdout.isTTY !== true || streams.stderr.isTTY !== true) return false;
  if (env.TERM === "dumb") return false;
  return !isCI(env);
}

export interface InFlight {
  label: string;
  /** When it started rendering (ms, same clock as `now`). */
  since: number;
}

export interface Snapshot {
  counts: Record<ProgressState, number>;
  inFlight: InFlight[];
  elapsedMs: number;
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Cut a (possibly coloured) line to `width` visible characters. */
export function clip(line: string, width: number): string {
  if (stripAnsi(line).length <= width) return line;
  const plain = stripAnsi(line);
  return `${plain.slice(0, Math.max(0, width - 1))}…`;
}

/** The lines of one frame. Pure, for tests. */
export function renderProgress(
  snapshot: Snapshot,
  options: { now: number; width: number; style: Style; frame: number; maxInFlight?: number },
): string[] {
  const { style, now } = options;
  const c = snapshot.counts;
  const spinner = style.icons ? `${SPINNER[options.frame % SPINNER.length] ?? ""} ` : "";
  const parts = [
    style.paint("ready", `${c.ready} ready`),
    style.paint("progressing", `${c.rendering} rendering`),
    `${c.pending} pending`,
    c.failed > 0 ? style.paint("failed", `${c.failed} failed`) : `${c.failed} failed`,
    style.paint("suspended", `${c.skipped} skipped`),
  ];
  const lines = [`${spinner}${parts.join(", ")} ${style.dim(`(${seconds(snapshot.elapsedMs)})`)}`];
  const max = options.maxInFlight ?? 5;
  const oldest = [...snapshot.inFlight].sort((a, b) => a.since - b.since);
  for (const item of oldest.slice(0, max)) {
    lines.push(
      `  ${style.icon("progressing")}${item.label} ${style.dim(seconds(Math.max(0, now - item.since)))}`,
    );
  }
  if (oldest.length > max) lines.push(style.dim(`  … and ${oldest.length - max} more`));
  const width = Math.max(20, options.width);
  return lines.map((line) => clip(line, width - 1));
}

interface Tracked {
  label: string;
  state: ProgressState;
  since: number;
}

export class ProgressDisplay {
  private readonly objects = new Map<string, Tracked>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private drawnLines = 0;
  private dirty = false;
  private stopped = false;
  private frame = 0;
  private startedAt = 0;
  private readonly now: () => number;
  private readonly intervalMs: number;

  constructor(
    private readonly stream: ProgressStream,
    private readonly style: Style,
    options: { now?: () => number; intervalMs?: number } = {},
  ) {
    this.now = options.now ?? (() => performance.now());
    this.intervalMs = options.intervalMs ?? 100;
  }

  /** Follow a store's objects (call before they are added or reconciled). */
  observe(store: Store): void {
    const track = (entry: StoreEntry) => {
      if (this.stopped || !TRACKED_KINDS.has(entry.ref.kind)) return;
      const state = stateOf(entry.status.phase);
      const previous = this.objects.get(entry.key);
      const since = previous && previous.state === state ? previous.since : this.now();
      this.objects.set(entry.key, {
        label: printable(`${entry.ref.kind} ${entry.ref.namespace}/${entry.ref.name}`),
        state,
        since,
      });
      this.dirty = true;
    };
    for (const entry of store.list()) track(entry);
    store.on("added", track);
    store.on("updated", track);
    store.on("status", track);
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.startedAt = this.now();
    this.dirty = true;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  snapshot(): Snapshot {
    const counts: Record<ProgressState, number> = {
      pending: 0,
      rendering: 0,
      ready: 0,
      failed: 0,
      skipped: 0,
    };
    const inFlight: InFlight[] = [];
    for (const t of this.objects.values()) {
      counts[t.state]++;
      if (t.state === "rendering") inFlight.push({ label: t.label, since: t.since });
    }
    return { counts, inFlight, elapsedMs: this.now() - this.startedAt };
  }

  /** Redraw when something changed, or to advance the spinner and timers. */
  tick(): void {
    if (this.stopped) return;
    this.frame++;
    const busy = [...this.objects.values()].some((t) => t.state === "rendering");
    // Something changed or is rendering (spinner, timers): redraw; else once a second.
    if (!this.dirty && !busy && this.frame % 10 !== 0) return;
    this.draw();
    this.dirty = false;
  }

  private draw(): void {
    const lines = renderProgress(this.snapshot(), {
      now: this.now(),
      width: this.stream.columns || 80,
      style: this.style,
      frame: this.frame,
    });
    this.stream.write(this.erase() + lines.join("\n"));
    this.drawnLines = lines.length;
  }

  /** Escape codes that move to the first drawn line and clear to the end of the screen. */
  private erase(): string {
    if (this.drawnLines === 0) return "";
    const up = this.drawnLines > 1 ? `\u001b[${this.drawnLines - 1}A` : "";
    return `\r${up}\u001b[J`;
  }

  /** Stop redrawing and remove the display. Safe to call more than once. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.stopped && this.drawnLines > 0) this.stream.write(this.erase());
    this.drawnLines = 0;
    this.stopped = true;
  }
}
