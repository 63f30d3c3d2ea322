/**
 * `flux-local doctor`: each tool flux-local looks for, where it was found, its
 * version, and how to install what is missing. Exit 1 when kustomize (needed
 * for any render) is missing.
 */
import { Command } from "commander";
import { addExamples } from "../help.js";
import { doctorExitCode, formatDoctorReport, inspectTools } from "../../render/toolchain.js";

export function doctorCommand(setExit: (code: number) => void): Command {
  const cmd = new Command("doctor");
  addExamples(cmd, [
    {
      does: "which kustomize and helm a run would use, and their versions",
      run: "flux-local doctor",
    },
    {
      does: "check another kustomize before pointing flux-local at it",
      run: "FLUX_LOCAL_KUSTOMIZE=/opt/kustomize/bin/kustomize flux-local doctor",
    },
  ]);
  return cmd
    .description(
      "show the tools flux-local runs (kustomize, helm, their workers, flux-operator, git): where, which version, how to install what is missing",
    )
    .action(async () => {
      const statuses = await inspectTools();
      process.stdout.write(formatDoctorReport(statuses));
      setExit(doctorExitCode(statuses));
    });
}
