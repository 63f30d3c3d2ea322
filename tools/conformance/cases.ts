/**
 * The conformance data: `cases.json` of the recorded flux-local CLI cases.
 * Only the fields the runner uses are typed; unknown fields are ignored.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";

export const SetupFile = z.object({ base64: z.string() });

export const CaseSetup = z.object({
  /** Placeholder -> what it stands for (a description, not a value). */
  placeholders: z.record(z.string(), z.string()).default({}),
  /** Path (with placeholders) -> content to write before running. */
  files: z.record(z.string(), SetupFile).default({}),
  /** [from, to] pairs applied to stdout before comparing; `from` may hold placeholders. */
  output_replace: z.array(z.tuple([z.string(), z.string()])).default([]),
  cwd: z.string().optional(),
  /** Skip the case when this environment variable is set. */
  skip_if_env: z.string().optional(),
});
export type CaseSetup = z.infer<typeof CaseSetup>;

export const ConformanceCase = z.object({
  id: z.string(),
  test: z.string(),
  nodeid: z.string().optional(),
  argv: z.array(z.string()),
  env: z.record(z.string(), z.string()).nullish(),
  setup: CaseSetup.nullish(),
  needs_network: z.boolean().default(false),
  notes: z.string().nullish(),
  expected_file: z.string().nullish(),
  expected_kind: z.string().nullish(),
  expected_contains: z.string().nullish(),
});
export type ConformanceCase = z.infer<typeof ConformanceCase>;

export const CaseList = z.array(ConformanceCase);

/** `test[id]`, the name a case is reported under. */
export function caseName(c: Pick<ConformanceCase, "test" | "id">): string {
  return `${c.test}[${c.id}]`;
}

/** `--filter`: a case matches when its name, node id or argv contains one of the substrings. */
export function matchesFilter(c: ConformanceCase, filters: readonly string[]): boolean {
  if (filters.length === 0) return true;
  const haystack = [caseName(c), c.nodeid ?? "", c.argv.join(" ")];
  return filters.some((f) => haystack.some((h) => h.includes(f)));
}

export async function loadCases(dataDir: string): Promise<ConformanceCase[]> {
  const file = path.join(dataDir, "cases.json");
  const raw: unknown = JSON.parse(await readFile(file, "utf8"));
  const parsed = CaseList.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${file}: unexpected format at ${issue?.path.join(".") ?? "?"}: ${issue?.message ?? ""}`,
    );
  }
  return parsed.data;
}
