/**
 * An expected failure to get a chart (not found, refused, corrupt): it becomes
 * the HelmRelease's status, with this message.
 */
import { FluxLocalError } from "../../util/errors.js";

export class ChartError extends FluxLocalError {}
