/**
 * Background work (validating a new model version) should not take CPU from serving.
 * On Linux a nice value applies to the calling thread only, so each background thread
 * lowers its own; elsewhere it applies to the process. Lowering needs no privilege.
 */
import { constants, setPriority } from 'node:os';

export function lowerPriority(): void {
  try {
    setPriority(0, constants.priority.PRIORITY_BELOW_NORMAL);
  } catch (error) {
    // Refused on some platforms or sandboxes; running at normal priority is still correct.
    process.emitWarning(`could not lower thread priority: ${(error as Error).message}`);
  }
}
