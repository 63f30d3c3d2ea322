/**
 * Writing command output: to stdout, or atomically to `--output-file` (a temp
 * file in the same folder renamed into place, so a failed run never leaves a
 * half-written file).
 */
import { randomBytes } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { toYaml as safeYaml } from "../../util/yaml.js";

export async function writeAtomically(file: string, content: string): Promise<void> {
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`,
  );
  try {
    await writeFile(tmp, content);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function emit(content: string, outputFile?: string): Promise<void> {
  if (outputFile) {
    await writeAtomically(outputFile, content);
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
