/**
 * Renders shared by key within one process: the first request for a render
 * inputs fingerprint runs it, every later (or concurrent) request with the
 * same fingerprint gets a copy of its result. `diff` gives both sides one
 * memo, so an owner whose inputs are equal on both sides renders once.
 *
 * Keys are `kind:fingerprint` (`kustomize:…`, `helm:…`); counts are kept per
 * kind.
 */
export class RenderMemo {
  private readonly results = new Map<string, Promise<unknown>>();
  private readonly ran = new Map<string, number>();
  private readonly served = new Map<string, number>();

  /** Renders that ran (of one kind, or all). */
  renders(kind?: string): number {
    return count(this.ran, kind);
  }

  /** Requests served from an earlier render (of one kind, or all). */
  reused(kind?: string): number {
    return count(this.served, kind);
  }

  async run<T>(key: string, render: () => Promise<T>): Promise<T> {
    const kind = key.slice(0, Math.max(0, key.indexOf(":")));
    const known = this.results.get(key) as Promise<T> | undefined;
    if (known) {
      this.served.set(kind, (this.served.get(kind) ?? 0) + 1);
      return structuredClone(await known);
    }
    this.ran.set(kind, (this.ran.get(kind) ?? 0) + 1);
    const running = render();
    this.results.set(key, running);
    return structuredClone(await running);
  }
}

function count(map: Map<string, number>, kind: string | undefined): number {
  if (kind !== undefined) return map.get(kind) ?? 0;
  let total = 0;
  for (const n of map.values()) total += n;
  return total;
}
