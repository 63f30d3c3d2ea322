/**
 * CEL expressions that Flux would reject when it loads the object
 * (`dependsOn[].readyExpr`, `healthCheckExprs[]`), or that the Flux Operator
 * would reject (a ResourceSet's `dependsOn[].readyExpr`; see ../flux/cel.ts), at
 * the line of the expression itself.
 */
import { apiGroup, FLUX_GROUPS } from "../flux/objects.js";
import { expressionProblems } from "../flux/cel.js";
import { describe, isKustomizationFile, type Finding, type ObjectDoc } from "./model.js";

export function checkExpressions(objects: readonly ObjectDoc[]): Finding[] {
  const findings: Finding[] = [];
  for (const obj of objects) {
    if (isKustomizationFile(obj.file)) continue;
    const group = apiGroup(obj.apiVersion);
    if (
      group !== FLUX_GROUPS.kustomize &&
      group !== FLUX_GROUPS.helm &&
      group !== FLUX_GROUPS.operator
    )
      continue;
    for (const problem of expressionProblems(obj.value)) {
      findings.push({
        severity: "error",
        check: "expression",
        file: obj.file,
        line: obj.lineOf?.(problem.path) ?? obj.line,
        object: `${obj.kind}/${obj.namespace ?? ""}/${obj.name}`,
        message: `${describe(obj)}: ${problem.field}: ${problem.message}`,
      });
    }
  }
  return findings;
}
