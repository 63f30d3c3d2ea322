/**
 * Parts of the program loaded on first use (`import()` at a seam: a command's
 * module, a source kind's fetcher, a library only some runs need), so a run
 * pays at start-up only for what it uses. A part that cannot be loaded (an
 * incomplete installation, a file removed from node_modules) is a named error
 * that says which part and why, not a module-resolution stack.
 */
import { FluxLocalError, errorMessage } from "./errors.js";

/** A part of flux-local that could not be loaded. */
export class MissingPartError extends FluxLocalError {
  readonly part: string;
  constructor(part: string, cause: unknown) {
    super(
      `${part} could not be loaded: ${firstLine(errorMessage(cause))} (the installation of flux-local is incomplete; reinstall it)`,
      { cause },
    );
    this.part = part;
  }
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? text;
}

/** `load()` (an `import()`), or a MissingPartError naming `part`. */
export async function loadPart<T>(part: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    throw new MissingPartError(part, err);
  }
}

/** loadPart, memoised: the first call loads, later calls share its promise. */
export function lazyPart<T>(part: string, load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= loadPart(part, load));
}
