/** Small file-system questions asked all over; a missing or unreadable path answers false. */
import { stat } from "node:fs/promises";

/** Is `p` (following links) a folder? */
export async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** Does anything (following links) exist at `p`? */
export async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
