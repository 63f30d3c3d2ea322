/**
 * Per-file and per-document checks: YAML that does not parse, documents that
 * are not mappings (both worded as the Python flux-local worded them), half
 * objects (a kind without apiVersion or the reverse), and Flux objects that do not validate against their schema.
 */
import { apiGroup } from "../flux/objects.js";
import { describeSchemaError, FLUX_SCHEMAS } from "../flux/schema.js";
import {
  isKustomizationFile,
  isMapping,
  type Finding,
  type ObjectDoc,
  type Repository,
} from "./model.js";
import { pythonRepr, pythonStr, pythonType } from "./python-text.js";

export function checkDocuments(repo: Repository): Finding[] {
  const findings: Finding[] = [];
  for (const parsed of repo.files.values()) {
    const { file } = parsed;
    for (const doc of parsed.documents) {
      const v = doc.value;
      if (Array.isArray(v)) {
        findings.push({
          severity: "error",
          check: "document",
          file,
          line: doc.line,
          message: `expected dictionary but was list: ${pythonRepr(v)}`,
          legacy: true,
        });
        continue;
      }
      if (!isMapping(v)) {
        findings.push({
          severity: "error",
          check: "document",
          file,
          line: doc.line,
          message: `was not a dictionary: ${pythonType(v)}: ${pythonStr(v)}`,
          legacy: true,
        });
        continue;
      }
      if (isKustomizationFile(file)) continue;
      const hasKind = v.kind !== undefined;
      const hasApiVersion = v.apiVersion !== undefined;
      if (hasKind !== hasApiVersion) {
        findings.push({
          severity: "error",
          check: "document",
          file,
          line: doc.line,
          message: hasKind
            ? `document has kind ${pythonStr(v.kind)} but no apiVersion`
            : `document has apiVersion ${pythonStr(v.apiVersion)} but no kind`,
        });
      } else if (hasKind && (typeof v.kind !== "string" || typeof v.apiVersion !== "string")) {
        findings.push({
          severity: "error",
          check: "document",
          file,
          line: doc.line,
          message: "kind and apiVersion must be strings",
        });
      }
    }
    if (parsed.error) {
      findings.push({
        severity: "error",
        check: "yaml",
        file,
        line: parsed.error.line,
        message: parsed.error.message,
        legacy: true,
      });
    }
  }
  return findings;
}

/** Flux objects must validate against their schema (the render would reject them). */
export function checkSchemas(objects: readonly ObjectDoc[]): Finding[] {
  const findings: Finding[] = [];
  for (const obj of objects) {
    if (isKustomizationFile(obj.file)) continue;
    if (obj.refused) {
      findings.push({
        severity: "error",
        check: "schema",
        file: obj.file,
        line: obj.refused.line,
        message: obj.refused.message,
      });
      continue;
    }
    const key = `${apiGroup(obj.apiVersion)}/${obj.kind}`;
    const schema = FLUX_SCHEMAS[key as keyof typeof FLUX_SCHEMAS] as
      (typeof FLUX_SCHEMAS)[keyof typeof FLUX_SCHEMAS] | undefined;
    if (!schema) continue;
    const parsed = schema.safeParse(obj.value);
    if (parsed.success) continue;
    findings.push({
      severity: "error",
      check: "schema",
      file: obj.file,
      line: obj.line,
      message: `invalid ${obj.kind}${obj.name ? ` ${obj.name}` : ""}: ${describeSchemaError(parsed.error)}`,
    });
  }
  return findings;
}
