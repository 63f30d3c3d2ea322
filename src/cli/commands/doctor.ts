/**
 * `flux-local doctor`: each tool flux-local looks for, where it was found, its
 * version, and how to install what is missing. Exit 1 when kustomize (needed
 * for any render) is missing.
 */
import { Command } from "commander";
import { doctorExitCode, formatDoctorReport, inspectTools } from "../../render/toolchain.js";

export function doctorCommand(setExit: (code: number) => void): Command {
  return new Command("doctor")
    .description(
      "show the tools flux-local runs (kustomize, helm, the kustomize worker, flux-operator, git): where, which version, how to install what is missing",
    )
    .action(async () => {
      const statuses = await inspectTools();
      process.stdout.write(formatDoctorReport(statuses));
      setExit(doctorExitCode(statuses));
    });
}
