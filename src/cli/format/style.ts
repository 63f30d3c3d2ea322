/**
 * Status icons and colours for human output. Colour only on a terminal and
 * never when `NO_COLOR` is set (https://no-color.org) or `TERM=dumb`; icons only
 * on a terminal. Anything piped or redirected gets plain words.
 */
import type { Phase } from "../../store/status.js";
import type { Env } from "../../util/env.js";

/** The states a person tells apart at a glance. */
export type Tone = "ready" | "progressing" | "failed" | "suspended" | "unknown";

export interface Style {
  readonly color: boolean;
  readonly icons: boolean;
  /** `text` in the colour of `tone` (unchanged without colour). */
  paint(tone: Tone, text: string): string;
  /** The icon of `tone` followed by a space, or "" without icons. */
  icon(tone: Tone): string;
  bold(text: string): string;
  dim(text: string): string;
}

export interface StreamLike {
  isTTY?: boolean;
}

const COLOURS: Record<Tone, number> = {
  ready: 32, // green
  progressing: 36, // cyan
  failed: 31, // red
  suspended: 33, // yellow
  unknown: 90, // grey
};

const ICONS: Record<Tone, string> = {
  ready: "✔",
  progressing: "↻",
  failed: "✖",
  suspended: "‖",
  unknown: "?",
};

/** Whether colour is wanted on `stream`: a terminal, no NO_COLOR, not TERM=dumb. */
export function wantsColor(stream: StreamLike, env: Env = process.env): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== "0" && env.FORCE_COLOR !== "false") return true;
  return stream.isTTY === true && env.TERM !== "dumb";
}

export function makeStyle(options: { color: boolean; icons: boolean }): Style {
  const sgr = (code: number, text: string) =>
    options.color && text ? `\u001b[${code}m${text}\u001b[0m` : text;
  return {
    color: options.color,
    icons: options.icons,
    paint: (tone, text) => sgr(COLOURS[tone], text),
    icon: (tone) => (options.icons ? `${sgr(COLOURS[tone], ICONS[tone])} ` : ""),
    bold: (text) => sgr(1, text),
    dim: (text) => sgr(2, text),
  };
}

/** The style for writing to `stream`. */
export function styleFor(stream: StreamLike, env: Env = process.env): Style {
  const tty = stream.isTTY === true && env.TERM !== "dumb";
  return makeStyle({ color: wantsColor(stream, env), icons: tty });
}

/** Plain text: no colour, no icons (files, tests). */
export const PLAIN: Style = makeStyle({ color: false, icons: false });

export function toneOf(phase: Phase): Tone {
  switch (phase) {
    case "Ready":
      return "ready";
    case "Pending":
    case "Reconciling":
      return "progressing";
    case "Failed":
      return "failed";
    case "Suspended":
    case "Skipped":
      return "suspended";
    default:
      return "unknown";
  }
}

/** Remove colour codes (to measure or compare what a person sees). */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, "");
}
