/**
 * JUnit XML for CI systems: one <testsuite> per kind, one <testcase> per
 * object (classname = kind, name = namespace/name), a <failure> with the
 * reason, message and root cause, <skipped> for skipped and suspended objects,
 * and times in seconds from the status timings.
 */
import type { TestCase, TestRun } from "./test-results.js";

/** Escape text for XML content and attribute values; drop characters XML 1.0 forbids. */
export function escapeXml(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "")
      .replace(/[\ud800-\udfff]/g, (ch, offset: number, whole: string) => {
        // Keep valid surrogate pairs, drop lone halves.
        const code = ch.charCodeAt(0);
        if (code <= 0xdbff) {
          const next = whole.charCodeAt(offset + 1);
          return next >= 0xdc00 && next <= 0xdfff ? ch : "";
        }
        const prev = whole.charCodeAt(offset - 1);
        return prev >= 0xd800 && prev <= 0xdbff ? ch : "";
      })
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&apos;")
  );
}

/** Attribute values additionally keep newlines and tabs as character references. */
function attr(text: string): string {
  return escapeXml(text).replace(/\n/g, "&#10;").replace(/\r/g, "&#13;").replace(/\t/g, "&#9;");
}

function seconds(ms: number | undefined): string {
  return ((ms ?? 0) / 1000).toFixed(3);
}

function failureBody(c: TestCase): string {
  const lines = [`${c.reason}: ${c.message}`];
  if (c.location) lines.push(`defined at: ${c.location}`);
  if (c.rootCause) {
    lines.push(
      `root cause: ${c.rootCause.object}${c.rootCause.location ? ` (${c.rootCause.location})` : ""}: ${c.rootCause.reason}: ${c.rootCause.message}`,
    );
  }
  return lines.join("\n");
}

function testcase(c: TestCase): string {
  const attrs = [
    `classname="${attr(c.kind)}"`,
    `name="${attr(c.name)}"`,
    `time="${seconds(c.durationMs)}"`,
    ...(c.file ? [`file="${attr(c.file)}"`] : []),
    ...(c.line ? [`line="${c.line}"`] : []),
  ].join(" ");
  if (c.outcome === "passed") return `    <testcase ${attrs}/>\n`;
  if (c.outcome === "skipped") {
    const message = c.message ? `${c.reason}: ${c.message}` : c.reason;
    return `    <testcase ${attrs}>\n      <skipped message="${attr(message)}"/>\n    </testcase>\n`;
  }
  const message = `${c.reason}: ${c.message.split("\n")[0] ?? ""}`;
  return (
    `    <testcase ${attrs}>\n` +
    `      <failure message="${attr(message)}" type="${attr(c.reason)}">${escapeXml(failureBody(c))}</failure>\n` +
    `    </testcase>\n`
  );
}

/** The JUnit XML document of a test run. `timestamp` is when the run started. */
export function toJUnit(run: TestRun, options: { name?: string; timestamp?: Date } = {}): string {
  const suites = new Map<string, TestCase[]>();
  for (const c of run.cases) suites.set(c.kind, [...(suites.get(c.kind) ?? []), c]);
  const name = options.name ?? "flux-local";
  const stamp = options.timestamp ? ` timestamp="${options.timestamp.toISOString()}"` : "";
  let body = "";
  for (const [kind, cases] of suites) {
    const failures = cases.filter((c) => c.outcome === "failed").length;
    const skipped = cases.filter((c) => c.outcome === "skipped").length;
    const time = cases.reduce((sum, c) => sum + (c.durationMs ?? 0), 0);
    body +=
      `  <testsuite name="${attr(kind)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(time)}"${stamp}>\n` +
      cases.map(testcase).join("") +
      `  </testsuite>\n`;
  }
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="${attr(name)}" tests="${run.cases.length}" failures="${run.failed}" errors="0" skipped="${run.skipped}" time="${seconds(run.durationMs)}">\n` +
    body +
    `</testsuites>\n`
  );
}
