/**
 * Writing command output: to stdout, or atomically to `--output-file` (a temp
 * file in the same folder renamed into place, so a failed run never leaves a
 * half-written file).
 */
import { randomBytes } from "node:crypto";
import { access, constants, lstat, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { toYaml as safeYaml } from "../../util/yaml.js";
import { FluxLocalError, UsageError } from "../../util/errors.js";
import { removeOnInterrupt } from "../../util/interrupt.js";
import { runRecorder } from "../../util/run-record.js";

/**
 * Check an output file's place before the run, so a bad `--output-file`
 * (missing or read-only folder, a folder in its place) is a usage error at
 * once rather than a crash after the whole render.
 */
export async function checkOutputFile(flag: string, file: string): Promise<void> {
  // stdout, /dev/null, a pipe: written in place, whatever their folder's mode.
  if (isStdoutName(file) || (await isSpecialTarget(file))) return;
  const dir = path.dirname(path.resolve(file));
  const bad = (why: string) => new UsageError(`${flag} ${file}: cannot write the file: ${why}`);
  try {
    if (!(await stat(dir)).isDirectory()) throw bad(`${dir} is not a folder`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw bad(`the folder ${dir} does not exist`);
  }
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw bad(`the folder ${dir} is not writable`);
  }
  try {
    if ((await stat(file)).isDirectory()) throw bad("is a folder");
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // does not exist yet: fine
  }
}

/**
 * Whether `file` is a place to write through rather than a file to replace:
 * a device, a pipe, a socket (`/dev/null`, `/dev/stdout`), or a link to one.
 * Those are written to directly and never renamed over or removed.
 */
export async function isSpecialTarget(file: string): Promise<boolean> {
  try {
    const target = await stat(file); // follows links: /dev/stdout -> /proc/self/fd/1
    if (!target.isFile() && !target.isDirectory()) return true;
    return (await lstat(file)).isSymbolicLink() && !target.isFile();
  } catch {
    return false; // missing: an ordinary new file
  }
}

/** Remove an earlier run's output file; never a device or pipe. */
export async function removeStaleOutput(file: string): Promise<void> {
  if (await isSpecialTarget(file)) return;
  runRecorder()?.wroteOutput(file, undefined);
  await rm(file, { force: true });
}

export async function writeAtomically(file: string, content: string): Promise<void> {
  runRecorder()?.wroteOutput(file, content);
  if (await isSpecialTarget(file)) {
    await writeFile(file, content);
    return;
  }
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`,
  );
  const forgetTmp = removeOnInterrupt(tmp);
  try {
    await writeFile(tmp, content);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  } finally {
    forgetTmp();
  }
}

/** Names of our own stdout (flux-local's default `--output-file` is /dev/stdout). */
const STDOUT_NAMES = new Set(["-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"]);

/** Whether an `--output-file` value names our own stdout: written there, never replaced. */
export function isStdoutName(file: string): boolean {
  return STDOUT_NAMES.has(file);
}

export async function emit(content: string, outputFile?: string): Promise<void> {
  if (outputFile && !isStdoutName(outputFile)) {
    try {
      await writeAtomically(outputFile, content);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new FluxLocalError(
        `--output-file ${outputFile}: cannot write the file: ${code ?? String(err)}`,
        { cause: err },
      );
    }
    return;
  }
  await new Promise<void>((resolve, reject) => {
    process.stdout.write(content, (err) => (err ? reject(err) : resolve()));
  });
}

/** YAML in the layout flux-local printed (PyYAML style: lists not indented). */
export function toYaml(value: unknown): string {
  return safeYaml(value);
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 4);
}

/** A listing as `-o yaml` (flux-local's layout) or `-o json` (with a final newline). */
export function formatData(output: "yaml" | "json", data: unknown): string {
  return output === "yaml" ? toYaml(data) : `${toJson(data)}\n`;
}
