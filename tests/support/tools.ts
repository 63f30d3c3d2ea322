/**
 * Which optional tools this machine has, for suites that need the real binary:
 * they are skipped, saying why, only when it is absent.
 */
import { findTool } from "../../src/exec/tools.js";
import { errorMessage } from "../../src/util/errors.js";

async function missing(name: "flux-operator"): Promise<string | undefined> {
  try {
    await findTool(name);
    return undefined;
  } catch (err) {
    return `${name} is not installed (npm run setup builds it): ${errorMessage(err)}`;
  }
}

/** Why the suites that need `flux-operator` cannot run, or undefined. */
export const fluxOperatorMissing = await missing("flux-operator");
