/**
 * `dependsOn` cycles among Kustomizations and among HelmReleases: Flux waits
 * forever on them. Each cycle is reported once, at its first member, with the
 * path around it.
 */
import { apiGroup, FLUX_GROUPS } from "../flux/objects.js";
import { isMapping, type Finding, type ObjectDoc } from "./model.js";

const DEFAULT_NAMESPACE = "flux-system";

/** Strongly connected components of a directed graph (Tarjan), each sorted. */
export function stronglyConnected(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  const nodes = new Set<string>([...edges.keys(), ...[...edges.values()].flat()]);

  // Iterative, so a long dependency chain cannot overflow the call stack.
  for (const root of [...nodes].sort()) {
    if (index.has(root)) continue;
    const work: Array<{ node: string; next: number }> = [{ node: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      if (!frame) break;
      const successors = edges.get(frame.node) ?? [];
      if (frame.next < successors.length) {
        const succ = successors[frame.next++] as string;
        if (!index.has(succ)) {
          index.set(succ, counter);
          low.set(succ, counter++);
          stack.push(succ);
          onStack.add(succ);
          work.push({ node: succ, next: 0 });
        } else if (onStack.has(succ)) {
          low.set(frame.node, Math.min(low.get(frame.node) ?? 0, index.get(succ) ?? 0));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) {
        low.set(parent.node, Math.min(low.get(parent.node) ?? 0, low.get(frame.node) ?? 0));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        for (;;) {
          const top = stack.pop() as string;
          onStack.delete(top);
          component.push(top);
          if (top === frame.node) break;
        }
        components.push(component.sort());
      }
    }
  }
  return components;
}

/** A shortest path from `start` back to itself inside `members`. */
export function cycleThrough(
  start: string,
  members: ReadonlySet<string>,
  edges: ReadonlyMap<string, readonly string[]>,
): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift() as string;
    for (const next of edges.get(node) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [node];
        for (let n = node; n !== start;) {
          n = previous.get(n) as string;
          path.push(n);
        }
        return path.reverse();
      }
      if (!previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return [start];
}

function keyOf(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

export function checkDependsOnCycles(objects: readonly ObjectDoc[]): Finding[] {
  const edges = new Map<string, string[]>();
  const where = new Map<string, ObjectDoc>();
  for (const obj of objects) {
    const group = apiGroup(obj.apiVersion);
    const flux =
      (group === FLUX_GROUPS.kustomize && obj.kind === "Kustomization") ||
      (group === FLUX_GROUPS.helm && obj.kind === "HelmRelease");
    if (!flux || !obj.name) continue;
    const namespace = obj.namespace ?? DEFAULT_NAMESPACE;
    const key = keyOf(obj.kind, namespace, obj.name);
    if (!where.has(key)) where.set(key, obj);
    const spec = obj.value.spec;
    const deps = isMapping(spec) && Array.isArray(spec.dependsOn) ? spec.dependsOn : [];
    const targets = edges.get(key) ?? [];
    for (const dep of deps) {
      if (!isMapping(dep) || typeof dep.name !== "string") continue;
      const ns = typeof dep.namespace === "string" && dep.namespace ? dep.namespace : namespace;
      const target = keyOf(obj.kind, ns, dep.name);
      if (!targets.includes(target)) targets.push(target);
    }
    edges.set(key, targets);
  }
  const findings: Finding[] = [];
  for (const component of stronglyConnected(edges)) {
    const first = component[0];
    if (!first) continue;
    const selfLoop = component.length === 1 && (edges.get(first) ?? []).includes(first);
    if (component.length < 2 && !selfLoop) continue;
    const cycle = cycleThrough(first, new Set(component), edges);
    const obj = where.get(first);
    if (!obj) continue;
    findings.push({
      severity: "error",
      check: "cycle",
      file: obj.file,
      line: obj.line,
      object: first,
      message: `dependsOn cycle: ${[...cycle, first].join(" -> ")}${
        component.length > cycle.length ? ` (${component.length} objects are in this cycle)` : ""
      }`,
    });
  }
  return findings;
}
