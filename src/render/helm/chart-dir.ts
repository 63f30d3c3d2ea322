/**
 * Preparing a chart folder for `helm template` without ever writing into the
 * chart (it may be the shared cache or the user's checkout): when the chart's
 * default values are replaced (`valuesFiles`) or missing dependencies are
 * added, a scratch folder mirrors the chart with links to its entries and only
 * the changed parts are real files. Local charts are checked first: no link
 * may lead outside the source root.
 */
import {
  lstat,
  mkdir,
  readdir,
  readFile,
  realpath,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import path from "node:path";
import { isInside } from "../../flux/paths.js";
import { mergeValues, readValues, serializeValues, ValuesError, type Values } from "./values.js";
import { InputError } from "../../util/errors.js";

/** Refuse links that resolve outside `root`, and anything but files, folders and links. */
export async function checkChartTree(dir: string, root: string): Promise<void> {
  const realRoot = await realpath(root);
  const walk = async (current: string, depth: number): Promise<void> => {
    if (depth > 64) throw new InputError(`chart folder ${dir} is nested too deeply`);
    for (const name of await readdir(current)) {
      const full = path.join(current, name);
      const st = await lstat(full);
      if (st.isSymbolicLink()) {
        let target: string;
        try {
          target = await realpath(full);
        } catch {
          throw new InputError(`chart file ${path.relative(dir, full)} is a broken link`);
        }
        if (!isInside(realRoot, target)) {
          throw new InputError(
            `chart file ${path.relative(dir, full)} is a link that leaves the source`,
          );
        }
        continue;
      }
      if (st.isDirectory()) await walk(full, depth + 1);
      else if (!st.isFile()) {
        throw new InputError(`chart file ${path.relative(dir, full)} is not a regular file`);
      }
    }
  };
  await walk(dir, 0);
}

/**
 * Merge `files` (relative to `root`, which they may not leave) into one values
 * map, as source-controller does for `valuesFiles`.
 */
export async function mergeValuesFiles(
  files: readonly string[],
  root: string,
  ignoreMissing: boolean,
): Promise<Values> {
  const realRoot = await realpath(root);
  let merged: Values = {};
  for (const file of files) {
    const joined = path.join(realRoot, file);
    if (!isInside(realRoot, joined))
      throw new ValuesError(`values file ${file} leaves the chart source`);
    let real: string;
    try {
      real = await realpath(joined);
    } catch {
      if (ignoreMissing) continue;
      throw new ValuesError(`no values file found at path '${file}'`);
    }
    if (!isInside(realRoot, real))
      throw new ValuesError(`values file ${file} leaves the chart source`);
    if (!(await stat(real)).isFile())
      throw new ValuesError(`no values file found at path '${file}'`);
    let values: Values;
    try {
      values = readValues(await readFile(real, "utf8"));
    } catch (err) {
      if (err instanceof ValuesError) throw new ValuesError(`values file ${file}: ${err.message}`);
      throw err;
    }
    merged = mergeValues(merged, values);
  }
  return merged;
}

export interface ChartOverlay {
  /** New default values (replace values.yaml). */
  values?: Values;
  /** Subcharts to add under charts/: name → chart folder. */
  dependencies?: ReadonlyMap<string, string>;
}

/** A folder that reads as `chartDir` with the overlay applied; `chartDir` itself is untouched. */
export async function overlayChart(
  chartDir: string,
  scratch: string,
  overlay: ChartOverlay,
): Promise<string> {
  const out = path.join(scratch, path.basename(chartDir) || "chart");
  await mkdir(out, { recursive: true });
  const entries = await readdir(chartDir);
  const deps = overlay.dependencies ?? new Map<string, string>();
  for (const name of entries) {
    if (name === "values.yaml" && overlay.values) continue;
    if (name === "charts" && deps.size > 0) continue;
    await symlink(path.join(chartDir, name), path.join(out, name));
  }
  if (overlay.values)
    await writeFile(path.join(out, "values.yaml"), serializeValues(overlay.values));
  if (deps.size > 0) {
    const charts = path.join(out, "charts");
    await mkdir(charts);
    if (entries.includes("charts")) {
      for (const name of await readdir(path.join(chartDir, "charts"))) {
        await symlink(path.join(chartDir, "charts", name), path.join(charts, name));
      }
    }
    for (const [name, dir] of deps) {
      await symlink(dir, path.join(charts, name)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "EEXIST") throw err;
      });
    }
  }
  return out;
}

/** Names of the subcharts already in `charts/` (folders and `name-version.tgz` files). */
export async function vendoredCharts(chartDir: string): Promise<Set<string>> {
  const found = new Set<string>();
  let names: string[];
  try {
    names = await readdir(path.join(chartDir, "charts"));
  } catch {
    return found;
  }
  for (const name of names) {
    found.add(name);
    const m = /^(.+)-v?\d+\.\d+\.\d+.*\.tgz$/.exec(name);
    if (m?.[1]) found.add(m[1]);
  }
  return found;
}
