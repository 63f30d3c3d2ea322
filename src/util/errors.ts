/**
 * Error model. Expected failures of user input become object status (see
 * store/status.ts); these classes carry the context that ends up in that status
 * message. Only the CLI maps errors to exit codes.
 */

export class FluxLocalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad input from the user's repository: YAML, a missing reference, a bad path. */
export class InputError extends FluxLocalError {
  readonly file: string | undefined;
  readonly line: number | undefined;
  constructor(message: string, options?: { file?: string; line?: number; cause?: unknown }) {
    super(message, options);
    this.file = options?.file;
    this.line = options?.line;
  }
}

/** A build step failed (kustomize, substitution, helm). */
export class RenderError extends FluxLocalError {}

/** A usage error of the command line (bad flag value, unknown name). */
export class UsageError extends FluxLocalError {}

/** An external command failed; keeps argv, exit code and the tail of stderr. */
export class SubprocessError extends FluxLocalError {
  readonly argv: readonly string[];
  readonly exitCode: number | undefined;
  readonly stderr: string;
  constructor(
    message: string,
    details: { argv: readonly string[]; exitCode?: number; stderr: string; cause?: unknown },
  ) {
    super(message, { cause: details.cause });
    this.argv = details.argv;
    this.exitCode = details.exitCode;
    this.stderr = details.stderr;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
